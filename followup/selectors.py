"""Reads for the public follow-up pages, each in a fixed number of queries
whatever the number of actions, reports and survey years.

Residents see public reports only; “last updated” and “update overdue”
are therefore computed from the public reports (an internal report is not
an update to residents).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language

from followup import cadence
from followup.indicators import Series, breakdown, chart_geometry, series_for
from followup.models import (
    REASON_REQUIRED,
    ActionReport,
    ForumMeeting,
    Indicator,
    Status,
    latest_report_subquery,
)
from pledges.models import Action, Commitment, Pledge
from portal.models import Organisation


def public_pledge(municipality: str, period: str) -> Pledge:
    """The same access rule as the pledge page (pledges.views.detail): a
    draft, scheduled or unknown pledge is a 404."""
    return get_object_or_404(
        Pledge.objects.published().select_related(
            "municipality", "kommun", "police", "reporting_plan"
        ),
        municipality__slug=municipality,
        slug=period,
    )


@dataclass
class ActionFollowup:
    action: Action
    reports: list[ActionReport]
    due: cadence.Due

    @property
    def latest(self) -> ActionReport | None:
        return self.reports[0] if self.reports else None

    @property
    def earlier(self) -> list[ActionReport]:
        return self.reports[1:]

    @property
    def status(self) -> str | None:
        return self.latest.status if self.latest else None

    @property
    def status_label(self):
        return self.latest.get_status_display() if self.latest else None

    @property
    def not_done(self) -> bool:
        return self.status in REASON_REQUIRED


@dataclass
class CommitmentFollowup:
    commitment: Commitment
    actions: list[ActionFollowup] = field(default_factory=list)


@dataclass
class IndicatorView:
    series: Series
    chart: dict
    breakdown: tuple | None = None


@dataclass
class Followup:
    pledge: Pledge
    commitments: list[CommitmentFollowup]
    indicators: list[IndicatorView]
    meetings: list[ForumMeeting]
    today: date

    @property
    def actions(self) -> list[ActionFollowup]:
        return [a for c in self.commitments for a in c.actions]

    @property
    def total(self) -> int:
        return len(self.actions)

    @property
    def done(self) -> int:
        return sum(1 for a in self.actions if a.status == Status.DONE)

    @property
    def overdue(self) -> int:
        return sum(1 for a in self.actions if a.due.overdue)

    @property
    def not_done(self) -> list[ActionFollowup]:
        return [a for a in self.actions if a.not_done]

    @property
    def last_update(self) -> date | None:
        dates = [a.latest.date for a in self.actions if a.latest]
        return max(dates) if dates else None

    @property
    def has_examples(self) -> bool:
        return any(r.is_example for a in self.actions for r in a.reports) or any(
            m.is_example for m in self.meetings
        )


def followup_for(pledge: Pledge, *, today: date) -> Followup:
    """Everything the follow-up page and the yearly report show."""
    commitments = list(
        Commitment.objects.filter(pledge=pledge)
        .order_by("position", "pk")
        .prefetch_related(
            Prefetch(
                "actions",
                queryset=Action.objects.order_by("position", "pk").prefetch_related(
                    Prefetch("responsible", queryset=Organisation.objects.order_by("name"))
                ),
            )
        )
    )
    by_action: dict[int, list[ActionReport]] = defaultdict(list)
    reports = (
        ActionReport.objects.public()
        .filter(action__commitment__pledge=pledge)
        .select_related("organisation")
        .order_by("action_id", "-date", "-pk")
    )
    for report in reports:
        by_action[report.action_id].append(report)
    plan = getattr(pledge, "reporting_plan", None)
    result = []
    for commitment in commitments:
        item = CommitmentFollowup(commitment)
        for action in commitment.actions.all():
            action_reports = by_action.get(action.pk, [])
            latest = action_reports[0] if action_reports else None
            due = cadence.Due(None, False, None)
            if plan is not None and not pledge.is_withdrawn:
                due = cadence.state(
                    today=today,
                    valid_from=pledge.valid_from,
                    valid_to=pledge.valid_to,
                    first_due=plan.first_due,
                    interval_months=plan.interval_months,
                    latest_report=latest.date if latest else None,
                    latest_status=latest.status if latest else None,
                )
            item.actions.append(ActionFollowup(action, action_reports, due))
        result.append(item)
    indicators = list(
        Indicator.objects.filter(pledge=pledge)
        .select_related("baseline_survey")
        .order_by("position", "pk")
    )
    language = get_language() or "sv"
    views = [
        IndicatorView(
            series=s, chart=chart_geometry(s), breakdown=breakdown(s, language=language[:2])
        )
        for s in series_for(indicators, municipality_id=pledge.municipality_id)
    ]
    meetings = list(
        ForumMeeting.objects.filter(actions__commitment__pledge=pledge)
        .distinct()
        .order_by("-date", "-pk")
        .prefetch_related(
            Prefetch(
                "actions",
                queryset=Action.objects.filter(commitment__pledge=pledge).order_by(
                    "commitment__position", "position", "pk"
                ),
            )
        )
    )
    return Followup(pledge, result, views, meetings, today)


@dataclass
class Summary:
    total: int
    done: int
    last_update: date | None


def summaries(pledge_ids) -> dict[int, Summary]:
    """For each pledge: actions in total, done (latest public report says
    so), the date of the last public report; one query for all pledges."""
    rows = (
        Action.objects.filter(commitment__pledge_id__in=list(pledge_ids))
        .annotate(
            latest_status=latest_report_subquery("status", public_only=True),
            latest_date=latest_report_subquery("date", public_only=True),
        )
        .values_list("commitment__pledge_id", "latest_status", "latest_date")
    )
    result: dict[int, Summary] = {}
    for pledge_id, status, day in rows:
        s = result.setdefault(pledge_id, Summary(0, 0, None))
        s.total += 1
        if status == Status.DONE:
            s.done += 1
        if day is not None and (s.last_update is None or day > s.last_update):
            s.last_update = day
    return result
