"""Writes of the follow-up app: saving action reports (validated, scoped,
audited) and sending report reminders."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from followup import cadence
from followup.models import ActionReport, ReportReminder, latest_report_subquery
from pledges.models import Action, Pledge
from portal import scope
from portal.audit import log_event
from portal.models import Membership

logger = logging.getLogger(__name__)

REPORT_SAVED = "followup_report_saved"
REPORT_DELETED = "followup_report_deleted"


def _pledge_of(action_id: int) -> Pledge:
    return Pledge.objects.select_related("municipality").get(commitments__actions__pk=action_id)


@transaction.atomic
def action_report_save(*, report: ActionReport, user, audit: bool = True) -> ActionReport:
    """Validate and save a report (new or changed). The reason rule and the
    date rule live in `ActionReport.clean`; an invalid report raises
    ValidationError and nothing is saved. The audit event (here, or the
    admin's with `audit=False`) renews the public pages."""
    pledge = _pledge_of(report.action_id)
    if not scope.can_edit(user, pledge.municipality_id):
        raise PermissionDenied(_("This action is outside your municipalities."))
    report.full_clean()
    created = report.pk is None
    if created and getattr(user, "is_authenticated", False):
        report.created_by = user
    report._history_user = user if getattr(user, "is_authenticated", False) else None
    report.save()
    if audit:
        log_event(
            actor=user,
            action=REPORT_SAVED,
            obj=report,
            municipality=pledge.municipality_id,
            created=created,
            status=report.status,
            public=report.is_public,
        )
    return report


@transaction.atomic
def action_report_delete(*, report: ActionReport, user, audit: bool = True) -> None:
    pledge = _pledge_of(report.action_id)
    if not scope.can_edit(user, pledge.municipality_id):
        raise PermissionDenied(_("This action is outside your municipalities."))
    if audit:
        log_event(
            actor=user, action=REPORT_DELETED, obj=report, municipality=pledge.municipality_id
        )
    report._history_user = user if getattr(user, "is_authenticated", False) else None
    report.delete()


# --- due dates ---------------------------------------------------------------


def actions_with_due(queryset=None):
    """Actions annotated with what the due date needs, in one query: the
    latest report's date and status, the pledge's period and rhythm."""
    qs = Action.objects.all() if queryset is None else queryset
    return qs.annotate(
        latest_report_date=latest_report_subquery("date"),
        latest_report_status=latest_report_subquery("status"),
    ).select_related("commitment__pledge__municipality", "commitment__pledge__reporting_plan")


def due_state(action, today: date) -> cadence.Due:
    """The due state of an action from `actions_with_due` (no query)."""
    pledge = action.commitment.pledge
    plan = getattr(pledge, "reporting_plan", None)
    if plan is None or pledge.withdrawn_at is not None:
        return cadence.Due(None, False, None)
    return cadence.state(
        today=today,
        valid_from=pledge.valid_from,
        valid_to=pledge.valid_to,
        first_due=plan.first_due,
        interval_months=plan.interval_months,
        latest_report=action.latest_report_date,
        latest_status=action.latest_report_status,
    )


def due_action_ids(queryset, *, today: date, days_ahead: int = 14) -> list[int]:
    """Ids of actions whose report is overdue or due within `days_ahead`
    days; one query for the whole queryset."""
    ids = []
    for action in actions_with_due(
        queryset.filter(commitment__pledge__reporting_plan__isnull=False)
    ):
        state = due_state(action, today)
        if state.due is None:
            continue
        if state.overdue or (0 <= state.days_left <= days_ahead and _in_period(action, today)):
            ids.append(action.pk)
    return ids


def _in_period(action, today: date) -> bool:
    pledge = action.commitment.pledge
    plan = pledge.reporting_plan
    return pledge.valid_from <= today <= cadence.add_months(pledge.valid_to, plan.interval_months)


# --- reminders -----------------------------------------------------------------


@dataclass
class ReminderResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0


def reminders_send(*, today: date | None = None, days_before: int = 14) -> ReminderResult:
    """E-mail the editors of each action's responsible organisations before
    a report falls due and when it is overdue; once per action, due date and
    kind.

    Order of work, per reminder: insert the ReportReminder row inside a
    transaction, send the mail, commit. If sending fails, the transaction
    rolls back, the row is gone, and the next run tries again: a mail is not
    lost. The unique constraint (action, due_date, kind) makes a second or a
    concurrent run find the row (the concurrent insert waits for our commit
    and then fails), so a mail is not sent twice. We do not send in
    `on_commit`: a mail server that fails after the commit would lose the
    reminder for good, which is the worse failure for a reminder. The one
    window left (mail sent, then the commit itself fails) is far rarer than
    a failing mail server.
    """
    today = today or timezone.localdate()
    result = ReminderResult()
    actions = actions_with_due(
        Action.objects.filter(
            commitment__pledge__in=Pledge.objects.published().not_withdrawn(),
            commitment__pledge__reporting_plan__isnull=False,
        ).prefetch_related(
            Prefetch(
                "responsible__memberships",
                queryset=Membership.objects.filter(
                    role=Membership.Role.EDITOR, user__is_active=True
                )
                .exclude(user__email="")
                .select_related("user"),
            )
        )
    ).order_by("pk")
    for action in actions:
        state = due_state(action, today)
        if state.due is None:
            continue
        if state.overdue:
            kind = ReportReminder.Kind.OVERDUE
        elif 0 <= state.days_left <= days_before and _in_period(action, today):
            kind = ReportReminder.Kind.BEFORE
        else:
            continue
        recipients = sorted(
            {m.user.email for org in action.responsible.all() for m in org.memberships.all()}
        )
        if not recipients:
            result.skipped += 1
            continue
        try:
            with transaction.atomic():
                _, created = ReportReminder.objects.get_or_create(
                    action=action,
                    due_date=state.due,
                    kind=kind,
                    defaults={"recipients": len(recipients)},
                )
                if not created:
                    result.skipped += 1
                    continue
                _send(action, state, kind, recipients)
        except IntegrityError:
            result.skipped += 1  # a concurrent run got there first
        except OSError:
            logger.exception("Report reminder for action %s not sent", action.pk)
            result.failed += 1
        else:
            if created:
                result.sent += 1
    return result


def _send(action, state: cadence.Due, kind: str, recipients: list[str]) -> None:
    pledge = action.commitment.pledge
    context = {
        "action": action.title,
        "pledge": str(pledge),
        "municipality": pledge.municipality.name,
        "due": state.due.isoformat(),
        "url": f"{settings.SITE_URL}/admin/followup/actionreport/add/?action={action.pk}",
    }
    if kind == ReportReminder.Kind.OVERDUE:
        subject = _("Overdue report: %(action)s") % context
        body = (
            _(
                "The status report for the action “%(action)s” (%(pledge)s, %(municipality)s) "
                "was due on %(due)s and has not come in.\n\nWrite it here: %(url)s\n"
            )
            % context
        )
    else:
        subject = _("Report due %(due)s: %(action)s") % context
        body = (
            _(
                "The status report for the action “%(action)s” (%(pledge)s, %(municipality)s) "
                "falls due on %(due)s.\n\nWrite it here: %(url)s\n"
            )
            % context
        )
    for address in recipients:
        send_mail(subject, body, None, [address])
