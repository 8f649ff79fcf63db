"""Saving reports: the reason rule (model, service), scope for every
official role, history, audit, and the municipality's content version."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from followup import services
from followup.models import ActionReport, Status
from pledges.models import Action
from portal import content_version
from portal.audit import AuditEvent


@pytest.fixture
def action(published):
    return Action.objects.filter(commitment__pledge=published).first()


def _report(action, **fields):
    return ActionReport(
        action=action,
        date=fields.pop("date", date(2021, 5, 2)),
        status=fields.pop("status", Status.IN_PROGRESS),
        text=fields.pop("text", "Två träffar hölls."),
        **fields,
    )


@pytest.mark.parametrize("status", [Status.DELAYED, Status.CANCELLED])
def test_a_delayed_or_cancelled_report_needs_a_reason(action, kommun_editor, status):
    report = _report(action, status=status, reason="   ")
    with pytest.raises(ValidationError) as exc:
        services.action_report_save(report=report, user=kommun_editor)
    assert "reason" in exc.value.message_dict
    assert "orsaken är obligatorisk" in exc.value.message_dict["reason"][0]
    assert not ActionReport.objects.exists()


def test_the_database_refuses_a_missing_reason_too(action):
    with pytest.raises(IntegrityError), transaction.atomic():
        _report(action, status=Status.DELAYED, reason="").save()


@pytest.mark.parametrize("status", [Status.PLANNED, Status.IN_PROGRESS, Status.DONE])
def test_other_statuses_need_no_reason(action, kommun_editor, status):
    report = services.action_report_save(report=_report(action, status=status), user=kommun_editor)
    assert report.pk and report.created_by == kommun_editor


def test_it_rejects_a_future_date_and_progress_over_100(action, kommun_editor):
    report = _report(action, date=timezone.localdate() + timedelta(days=1), progress=120)
    with pytest.raises(ValidationError) as exc:
        services.action_report_save(report=report, user=kommun_editor)
    assert {"date", "progress"} <= set(exc.value.message_dict)


@pytest.mark.parametrize(
    "role", ["kommun_editor", "kommun_approver", "police_editor", "police_approver"]
)
def test_every_official_role_in_scope_may_report(request, action, role):
    user = request.getfixturevalue(role)
    report = services.action_report_save(report=_report(action), user=user)
    assert report.history.count() == 1
    assert report.history.first().history_user == user


def test_an_official_of_another_municipality_may_not(action, other_kommun_editor):
    with pytest.raises(PermissionDenied):
        services.action_report_save(report=_report(action), user=other_kommun_editor)
    assert not ActionReport.objects.exists()


def test_saving_bumps_the_content_version_and_audits(action, published, kommun_editor):
    before = content_version.versions(published.municipality.slug)
    report = services.action_report_save(report=_report(action), user=kommun_editor)
    after = content_version.versions(published.municipality.slug)
    assert after[1] != before[1] and after[0] == before[0]
    event = AuditEvent.objects.for_object(report).get()
    assert event.action == services.REPORT_SAVED
    assert event.municipality_id == published.municipality_id
    report.text = "Ändrad text."
    services.action_report_save(report=report, user=kommun_editor)
    assert report.history.count() == 2


def test_delete_is_scoped_and_audited(action, kommun_editor, other_kommun_editor):
    report = services.action_report_save(report=_report(action), user=kommun_editor)
    with pytest.raises(PermissionDenied):
        services.action_report_delete(report=report, user=other_kommun_editor)
    services.action_report_delete(report=report, user=kommun_editor)
    assert not ActionReport.objects.exists()
    assert AuditEvent.objects.filter(action=services.REPORT_DELETED).count() == 1
