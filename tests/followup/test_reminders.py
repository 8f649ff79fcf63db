"""Report reminders: who gets them, when, and never twice (fixed clock)."""

from datetime import date
from io import StringIO
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command

from followup import services
from followup.models import ActionReport, ReportReminder, Status
from pledges.models import Action
from tests.followup.factories import ReportingPlanFactory


@pytest.fixture
def planned(published):
    ReportingPlanFactory(pledge=published, first_due=date(2021, 4, 30), interval_months=4)
    return published


def test_it_reminds_the_editors_before_the_due_date_once(
    planned, kommun_editor, police_editor, kommun_approver
):
    result = services.reminders_send(today=date(2021, 4, 20), days_before=14)
    assert result.sent == 1
    # The editors of both responsible organisations, not the approver.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [kommun_editor.email, police_editor.email]
    )
    assert "30" in mail.outbox[0].subject or "2021-04-30" in mail.outbox[0].body
    assert ReportReminder.objects.get().kind == ReportReminder.Kind.BEFORE
    again = services.reminders_send(today=date(2021, 4, 21), days_before=14)
    assert again.sent == 0 and len(mail.outbox) == 2


def test_too_early_means_no_mail(planned, kommun_editor):
    assert services.reminders_send(today=date(2021, 4, 1), days_before=14).sent == 0
    assert mail.outbox == []


def test_overdue_is_a_second_kind_sent_once(planned, kommun_editor):
    services.reminders_send(today=date(2021, 4, 20))
    services.reminders_send(today=date(2021, 5, 3))
    services.reminders_send(today=date(2021, 5, 4))
    kinds = sorted(ReportReminder.objects.values_list("kind", flat=True))
    assert kinds == ["before", "overdue"]
    assert len(mail.outbox) == 2
    assert "2021-04-30" in mail.outbox[1].body


def test_a_new_report_moves_the_due_date(planned, kommun_editor):
    action = Action.objects.filter(commitment__pledge=planned).get()
    services.reminders_send(today=date(2021, 5, 3))
    ActionReport.objects.create(
        action=action, date=date(2021, 5, 10), status=Status.IN_PROGRESS, text="x"
    )
    services.reminders_send(today=date(2021, 5, 11))
    assert len(mail.outbox) == 1
    services.reminders_send(today=date(2021, 8, 20))
    assert ReportReminder.objects.filter(due_date=date(2021, 8, 30)).count() == 1
    assert len(mail.outbox) == 2


def test_a_done_action_gets_no_reminder(planned, kommun_editor):
    action = Action.objects.filter(commitment__pledge=planned).get()
    ActionReport.objects.create(action=action, date=date(2021, 3, 1), status=Status.DONE, text="x")
    assert services.reminders_send(today=date(2021, 8, 25)).sent == 0


def test_a_failing_mail_server_loses_nothing(planned, kommun_editor):
    with mock.patch("followup.services.send_mail", side_effect=OSError("down")):
        result = services.reminders_send(today=date(2021, 4, 20))
    assert result.failed == 1
    assert not ReportReminder.objects.exists()  # rolled back: the next run retries
    assert services.reminders_send(today=date(2021, 4, 21)).sent == 1
    assert len(mail.outbox) == 1


def test_draft_pledges_get_no_reminders(draft, kommun_editor):
    ReportingPlanFactory(pledge=draft)
    assert services.reminders_send(today=date(2021, 5, 3)).sent == 0


def test_the_command_is_safe_to_run_twice(planned, kommun_editor):
    out = StringIO()
    with mock.patch("followup.services.timezone.localdate", return_value=date(2021, 5, 3)):
        call_command("send_report_reminders", stdout=out)
        call_command("send_report_reminders", "--days-before", "7", stdout=out)
    assert len(mail.outbox) == 1
    assert "Påminnelser skickade: 1" in out.getvalue()
    assert "Påminnelser skickade: 0" in out.getvalue()
