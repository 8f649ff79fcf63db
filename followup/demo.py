"""Demo follow-up: example reports, reporting plans, indicators and forum
meetings for Östhammar's 2021 pledge and the current year's pledge.

Every report and meeting is marked as an example (`is_example`); the
indicator values are computed from the generated demo surveys. Idempotent:
a second run changes nothing. Reports dated after today are left out (the
current year's pledge gets the reports its year has reached).
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.utils import timezone

from followup.models import ActionReport, ForumMeeting, Indicator, ReportingPlan, Status
from pledges.models import Action
from portal.demo_utils import set_m2m, upsert

KOMMUN = "Östhammars kommun"
POLICE = "Lokalpolisområde Norduppland"
FORUM = "Trygg i Östhammar (lokalt BRÅ)"
HOME_INDICATOR = "Andel som känner sig trygga i hemmet"


def _action(pledge, needle: str) -> Action:
    return Action.objects.get(commitment__pledge=pledge, title__icontains=needle)


def _created(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


def _reports(year: int) -> dict[str, list[dict]]:
    """Reports of the 2021 pledge (by a word of the action's title)."""
    return {
        "Våga värna": [
            {
                "date": date(2021, 4, 28),
                "status": Status.IN_PROGRESS,
                "progress": 30,
                "text": (
                    "Exempel: Parterna i ”Våga värna” har träffats två gånger och tagit fram en "
                    "folder om våld i nära relation som delas ut av Östhammarshem."
                ),
                "meetings_held": 2,
                "participants": 14,
                "organisation": KOMMUN,
            },
            {
                "date": date(2021, 8, 26),
                "status": Status.IN_PROGRESS,
                "progress": 60,
                "text": (
                    "Exempel: Personal i hemtjänsten och på Östhammarshem har utbildats i att "
                    "upptäcka och fråga om våld."
                ),
                "meetings_held": 3,
                "participants": 41,
                "organisation": KOMMUN,
            },
            {
                "date": date(2021, 12, 14),
                "status": Status.DONE,
                "progress": 100,
                "text": (
                    "Exempel: Foldern är utdelad i alla Östhammarshems trapphus och "
                    "samarbetet fortsätter nästa år med fler parter."
                ),
                "organisation": KOMMUN,
            },
        ],
        "Grannsamverkan": [
            {
                "date": date(2021, 4, 29),
                "status": Status.IN_PROGRESS,
                "progress": 40,
                "text": (
                    "Exempel: Informationsträffar om Grannsamverkan har hållits i Östhammar, "
                    "Alunda och Gimo."
                ),
                "meetings_held": 3,
                "participants": 85,
                "organisation": POLICE,
            },
            {
                "date": date(2021, 8, 30),
                "status": Status.DELAYED,
                "progress": 50,
                "text": "Exempel: Träffen om Båtsamverkan i Öregrund har inte hållits.",
                "reason": (
                    "Exempel: Träffen sköts upp eftersom de allmänna råden mot smittspridning "
                    "gällde under sommaren."
                ),
                "organisation": POLICE,
            },
            {
                "date": date(2021, 12, 10),
                "status": Status.CANCELLED,
                "text": (
                    "Exempel: Grannsamverkan har startat i fyra nya områden. Båtsamverkan har "
                    "inte kommit i gång."
                ),
                "reason": (
                    "Exempel: För få båtägare anmälde intresse för Båtsamverkan i Öregrund; "
                    "polisen erbjuder i stället märkning av båtmotorer vid hamnarna nästa år."
                ),
                "organisation": POLICE,
            },
        ],
    }


def _current_reports(year: int) -> dict[str, list[dict]]:
    """Reports of the current year's pledge; "Våga värna" is left overdue."""
    return {
        "lägesbild": [
            {
                "date": date(year, 4, 20),
                "status": Status.IN_PROGRESS,
                "text": "Exempel: Första gemensamma lägesbilden är klar; insatserna gäller Gimo centrum.",
                "meetings_held": 1,
                "organisation": KOMMUN,
            },
            {
                "date": date(year, 8, 28),
                "status": Status.IN_PROGRESS,
                "text": "Exempel: Andra lägesbilden är klar; fokus på sommarens båtstölder.",
                "meetings_held": 1,
                "organisation": POLICE,
            },
        ],
        "Våga värna": [
            {
                "date": date(year, 4, 24),
                "status": Status.IN_PROGRESS,
                "progress": 25,
                "text": "Exempel: De sex parterna har haft sitt första gemensamma möte.",
                "meetings_held": 1,
                "participants": 12,
                "organisation": KOMMUN,
            },
        ],
        "Grannsamverkan": [
            {
                "date": date(year, 3, 10),
                "status": Status.PLANNED,
                "text": "Exempel: Informationsträffar planeras i Österbybruk och Hargshamn.",
                "organisation": POLICE,
            },
            {
                "date": date(year, 6, 5),
                "status": Status.DELAYED,
                "progress": 20,
                "text": "Exempel: Träffen i Hargshamn är flyttad till hösten.",
                "reason": "Exempel: Lokalen i Hargshamn var inte tillgänglig i juni.",
                "organisation": POLICE,
            },
            {
                "date": date(year, 9, 15),
                "status": Status.IN_PROGRESS,
                "progress": 60,
                "text": "Exempel: Träffarna i Österbybruk och Hargshamn är hållna.",
                "meetings_held": 2,
                "participants": 57,
                "organisation": POLICE,
            },
        ],
    }


def _load_reports(pledge, reports: dict, organisations, today: date) -> bool:
    changed = False
    for needle, items in reports.items():
        action = _action(pledge, needle)
        for item in items:
            if item["date"] > today:
                continue
            defaults = {
                "status": item["status"],
                "progress": item.get("progress"),
                "text": item["text"],
                "reason": item.get("reason", ""),
                "meetings_held": item.get("meetings_held"),
                "participants": item.get("participants"),
                "organisation": organisations[item["organisation"]],
                "is_public": True,
                "is_example": True,
                "created": _created(item["date"]),
            }
            _, c = upsert(ActionReport, {"action": action, "date": item["date"]}, defaults)
            changed |= c
    return changed


def _meeting(municipality, day, summary, actions) -> bool:
    meeting, changed = upsert(
        ForumMeeting,
        {"municipality": municipality, "date": day, "forum": FORUM},
        {"summary": summary, "is_example": True},
    )
    set_m2m(meeting.actions, actions)
    return changed


def load(*, stdout=None, context=None) -> dict:
    context = context or {}
    pledges = context["pledges"]
    surveys = context["surveys"]
    organisations = context["organisations"]
    osthammar = context["municipalities"]["osthammar"]
    today = timezone.localdate()
    year = today.year

    first = pledges[("osthammar", "2021")]
    upsert(ReportingPlan, {"pledge": first}, {"interval_months": 4, "first_due": date(2021, 4, 30)})
    _load_reports(first, _reports(year), organisations, today)
    _meeting(
        osthammar,
        date(2021, 9, 16),
        "Exempel: Forumet gick igenom lägesrapporterna om ”Våga värna” och Grannsamverkan. "
        "Båtsamverkan i Öregrund skjuts upp; polisen undersöker intresset bland båtägarna.",
        [_action(first, "Våga värna"), _action(first, "Grannsamverkan")],
    )
    upsert(
        Indicator,
        {"pledge": first, "name": HOME_INDICATOR},
        {
            "position": 0,
            "question_key": "trygghet_hemmet",
            "favourable_choices": ["mycket_trygg", "ganska_trygg"],
            "excluded_choices": ["vet_ej"],
            "direction": Indicator.Direction.UP,
            "baseline_survey": surveys["osthammar-2020"],
            "target": 90,
            "note": "Andelen som svarar ”Mycket trygg” eller ”Ganska trygg”; de som svarar "
            "”Vet ej” räknas inte med.",
        },
    )

    current = pledges.get(("osthammar", str(year)))
    if current is not None:
        upsert(
            ReportingPlan,
            {"pledge": current},
            {"interval_months": 4, "first_due": date(year, 4, 30)},
        )
        _load_reports(current, _current_reports(year), organisations, today)
        if date(year, 5, 14) <= today:
            _meeting(
                osthammar,
                date(year, 5, 14),
                "Exempel: Forumet gick igenom årets första lägesbild och planen för "
                "”Våga värna” med de sex parterna.",
                [_action(current, "lägesbild"), _action(current, "Våga värna")],
            )
        upsert(
            Indicator,
            {"pledge": current, "name": HOME_INDICATOR},
            {
                "position": 0,
                "question_key": "trygghet_hemmet",
                "favourable_choices": ["mycket_trygg", "ganska_trygg"],
                "excluded_choices": ["vet_ej"],
                "direction": Indicator.Direction.UP,
                "baseline_survey": surveys["osthammar-2021"],
                "target": 90,
            },
        )
    if stdout:
        stdout.write("  Uppföljning: exempelrapporter, indikator och forummöten för Östhammar")
    return {}
