"""The reporting rhythm's date arithmetic (pure functions, no queries).

Due dates of a pledge are `first_due + k × interval` (k = 0, 1, 2 …).
An action's next report is due on the first of those dates after its
latest report (on `first_due` when it has none); a report written up to
EARLY_DAYS (30) days before a due date counts for that date, so that a
report sent a few days early does not leave the same date open. A done or
cancelled action needs no more reports. The report is overdue when today is past
that date, the pledge's period has started, and the period did not end
more than one interval ago (the last report after the period is still
asked for, older pledges are left in peace).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from followup.models import FINAL

EARLY_DAYS = 30


def add_months(day: date, months: int) -> date:
    """`day` plus `months`, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_date(*, first_due: date, interval_months: int, k: int) -> date:
    # Counted from first_due each time, so 31 Jan, 31 May, 30 Sep … do not drift.
    return add_months(first_due, k * interval_months)


def next_due(
    *,
    first_due: date,
    interval_months: int,
    latest_report: date | None,
    latest_status: str | None = None,
) -> date | None:
    """The next due date, or None when no more reports are due: the first
    due date more than EARLY_DAYS after the latest report (a report written
    in the month before a due date counts for that date)."""
    if latest_status in FINAL:
        return None
    if latest_report is None:
        return first_due
    limit = latest_report + timedelta(days=EARLY_DAYS)
    # Jump close, then step.
    months = (limit.year - first_due.year) * 12 + limit.month - first_due.month
    k = max(0, months // interval_months - 1)
    while due_date(first_due=first_due, interval_months=interval_months, k=k) <= limit:
        k += 1
    return due_date(first_due=first_due, interval_months=interval_months, k=k)


@dataclass(frozen=True)
class Due:
    due: date | None
    overdue: bool
    days_left: int | None

    @property
    def label(self) -> str:
        return "overdue" if self.overdue else ("due" if self.due else "none")


def state(
    *,
    today: date,
    valid_from: date,
    valid_to: date,
    first_due: date | None,
    interval_months: int | None,
    latest_report: date | None,
    latest_status: str | None,
) -> Due:
    """Due date and overdue flag of one action (no plan: nothing due)."""
    if first_due is None or not interval_months:
        return Due(None, False, None)
    due = next_due(
        first_due=first_due,
        interval_months=interval_months,
        latest_report=latest_report,
        latest_status=latest_status,
    )
    if due is None:
        return Due(None, False, None)
    in_window = valid_from <= today <= add_months(valid_to, interval_months)
    overdue = in_window and today > due
    return Due(due, overdue, (due - today).days)
