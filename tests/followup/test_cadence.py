"""The reporting rhythm: due dates, the next due date after a report, and
when a report is overdue (a fixed clock: `today` is passed in)."""

from datetime import date

import pytest

from followup import cadence
from followup.models import Status

PLAN = {"first_due": date(2021, 4, 30), "interval_months": 4}
PERIOD = {"valid_from": date(2021, 1, 1), "valid_to": date(2021, 12, 31)}


def test_due_dates_step_by_the_interval_without_drifting():
    dates = [cadence.due_date(k=k, **PLAN) for k in range(4)]
    assert dates == [date(2021, 4, 30), date(2021, 8, 30), date(2021, 12, 30), date(2022, 4, 30)]
    # 31 January + one month is the last day of February; the next is 31 March again.
    assert cadence.due_date(first_due=date(2021, 1, 31), interval_months=1, k=1) == date(
        2021, 2, 28
    )
    assert cadence.due_date(first_due=date(2021, 1, 31), interval_months=1, k=2) == date(
        2021, 3, 31
    )


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        (None, date(2021, 4, 30)),  # no report yet: the first due date
        (date(2021, 2, 1), date(2021, 4, 30)),  # long before the first due date
        (date(2021, 4, 20), date(2021, 8, 30)),  # in the month before: counts for 30 April
        (date(2021, 4, 30), date(2021, 8, 30)),  # on the day
        (date(2021, 5, 2), date(2021, 8, 30)),  # late for 30 April: next is 30 August
        (date(2021, 8, 28), date(2021, 12, 30)),
        (date(2021, 9, 15), date(2021, 12, 30)),
        (date(2022, 1, 10), date(2022, 4, 30)),
    ],
)
def test_next_due_is_the_first_due_date_after_the_latest_report(latest, expected):
    assert cadence.next_due(latest_report=latest, **PLAN) == expected


@pytest.mark.parametrize("status", [Status.DONE, Status.CANCELLED])
def test_a_done_or_cancelled_action_needs_no_more_reports(status):
    assert cadence.next_due(latest_report=date(2021, 5, 1), latest_status=status, **PLAN) is None
    state = cadence.state(
        today=date(2021, 11, 1),
        latest_report=date(2021, 5, 1),
        latest_status=status,
        **PLAN,
        **PERIOD,
    )
    assert state == cadence.Due(None, False, None)


def _state(today, latest=None, status=Status.IN_PROGRESS):
    return cadence.state(today=today, latest_report=latest, latest_status=status, **PLAN, **PERIOD)


def test_it_is_not_overdue_on_the_due_date_and_overdue_the_day_after():
    assert not _state(date(2021, 4, 30)).overdue
    assert _state(date(2021, 4, 30)).days_left == 0
    assert _state(date(2021, 5, 1)).overdue
    assert _state(date(2021, 5, 1)).days_left == -1


def test_a_report_clears_the_overdue_state_until_the_next_due_date():
    assert not _state(date(2021, 6, 1), latest=date(2021, 5, 20)).overdue
    assert _state(date(2021, 8, 31), latest=date(2021, 5, 20)).overdue


def test_nothing_is_overdue_before_the_period_starts():
    early = cadence.state(
        today=date(2021, 5, 10),
        latest_report=None,
        latest_status=None,
        first_due=date(2021, 4, 30),
        interval_months=4,
        valid_from=date(2021, 6, 1),
        valid_to=date(2021, 12, 31),
    )
    assert early.due == date(2021, 4, 30)
    assert not early.overdue


def test_overdue_lasts_one_interval_after_the_period_then_stops():
    # Period ends 31 Dec 2021; one interval later is 30 April 2022.
    assert _state(date(2022, 4, 30), latest=date(2021, 8, 20)).overdue
    assert not _state(date(2022, 5, 1), latest=date(2021, 8, 20)).overdue


def test_no_plan_means_nothing_is_due():
    state = cadence.state(
        today=date(2021, 5, 10),
        latest_report=None,
        latest_status=None,
        first_due=None,
        interval_months=None,
        **PERIOD,
    )
    assert state.due is None and not state.overdue
