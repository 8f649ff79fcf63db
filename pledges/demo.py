"""Demo pledges for Östhammar (2021 from the municipality's own page, 2023–2024
and the current year after domain.md §1) and example drafts for next year
in Östhammar and Tierp. Idempotent: a second run changes nothing.

Texts that are not taken from the sources are marked as examples on the
public page (`is_example`)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from pledges.models import Action, Adoption, Commitment, Contact, Pledge
from pledges.services import pledge_fingerprint
from portal.demo_utils import set_m2m, upsert
from portal.models import Organisation

STOCKHOLM = ZoneInfo("Europe/Stockholm")

KOMMUN = "Östhammars kommun"
POLICE = "Lokalpolisområde Norduppland"
HOME = "Östhammarshem"
SKADESERVICE = "Skadeservice"
HYRESGAST = "Hyresgästföreningen"
FREJA = "Kvinnojouren Freja"
GRANNSAMVERKAN = "Grannsamverkan (Stöldskyddsföreningen, SSF)"
PARTNERS = [SKADESERVICE, HYRESGAST, FREJA, GRANNSAMVERKAN]

VAGA_VARNA_NOTE = (
    "Det kan förmodas att det finns ett visst mörkertal i brott i nära relation. När fokus läggs "
    "på grupper med ett förmodat mörkertal kan det komma att påverka brottsstatistiken på ett "
    "negativt sätt. I detta fall är det ett positivt utfall om anmälningsbenägenheten ökar."
)

HOME_TITLE = "Ett ökat arbete kring den upplevda tryggheten i hemmet"
HOME_PURPOSE = (
    "Syftet är att stärka den upplevda tryggheten i hemmet. Kommunen och polisen skall "
    "gemensamt jobba för att öka tryggheten i kommunen avseende brott i nära relation, hot och "
    "våld samt stöldbrott/inbrott."
)
HOME_FOCUS = "Brott i nära relation, hot och våld samt stöldbrott/inbrott"

SITUATION_TITLE = "Kommunen och polisen tar fram gemensamma lägesbilder"
SITUATION_PURPOSE = (
    "Syftet är att kommunen och polisen ska ha en gemensam bild av brottsligheten och "
    "otryggheten i kommunen och kunna sätta in rätt insatser i tid."
)


def _dt(y, m, d, hour=10) -> datetime:
    return datetime(y, m, d, hour, 0, tzinfo=STOCKHOLM)


def _pledges(year: int) -> list[dict]:
    """The pledges as plain data; organisations by name."""
    home_actions_2021 = [
        {
            "title": "Fortsätta arbetet med att utveckla ”Våga värna”",
            "description": (
                "”Våga värna” är ett samarbete mellan Östhammars kommun, Östhammarshem och polisen."
            ),
            "responsible": [KOMMUN, POLICE],
            "partners": [HOME],
            "outcome_note": VAGA_VARNA_NOTE,
        },
        {
            "title": "Fortsätta med spridningen av koncepten Grannsamverkan och Båtsamverkan",
            "description": (
                "Informationskampanjer informerar om hur man kan skydda sig mot stöldbrott."
            ),
            "responsible": [KOMMUN, POLICE],
            "partners": [],
            "outcome_note": "",
        },
    ]
    home_actions_later = [
        {
            "title": "Fortsätta utveckla ”Våga värna” tillsammans med sex parter",
            "description": (
                "Östhammars kommun, Östhammarshem, Polismyndigheten, Skadeservice, "
                "Hyresgästföreningen och kvinnojouren Freja arbetar tillsammans mot våld i nära "
                "relation och för tryggheten i hemmet."
            ),
            "responsible": [KOMMUN, POLICE],
            "partners": [HOME, SKADESERVICE, HYRESGAST, FREJA],
            "outcome_note": VAGA_VARNA_NOTE,
        },
        {
            "title": "Sprida Grannsamverkan och Båtsamverkan",
            "description": (
                "Informationsträffar och kampanjer om hur man skyddar sitt hem och sin båt mot "
                "stöld och inbrott."
            ),
            "responsible": [KOMMUN, POLICE],
            "partners": [GRANNSAMVERKAN],
            "outcome_note": "",
        },
    ]
    situation_actions = [
        {
            "title": "Ta fram en gemensam lägesbild och besluta om insatser var fjärde månad",
            "description": (
                "Kommunen och polisen går igenom anmälningar, iakttagelser och synpunkter från "
                "invånare och beslutar tillsammans vilka insatser som görs de kommande fyra "
                "månaderna."
            ),
            "responsible": [KOMMUN, POLICE],
            "partners": [],
            "outcome_note": "",
        },
    ]
    contacts = [
        {
            "name": "Karin Lind",
            "role": "Trygghetssamordnare",
            "organisation": KOMMUN,
            "phone": "070-174 06 05",
            "email": "trygghet@example.se",
        },
        {
            "name": "Sara Nyström",
            "role": "Kommunpolis",
            "organisation": POLICE,
            "phone": "114 14",
            "email": "kommunpolis.osthammar@example.se",
        },
    ]
    return [
        {
            "municipality": "osthammar",
            "kommun": KOMMUN,
            "valid_from": date(2021, 1, 1),
            "valid_to": date(2021, 12, 31),
            "is_example": False,
            "background": (
                "Medborgarlöftet grundas på förslag och synpunkter som har kommit fram i dialog "
                "med invånare, bland annat genom en enkät som pågick mellan 7 oktober och "
                "2 november.\n\nI enkäten ställdes bland annat frågor om upplevd trygghet i "
                "hemmet, i bostadsområdet och i kommunen, om platser som bör undvikas och om "
                "vilka brott som den som svarar är rädd att utsättas för."
            ),
            "follow_up": (
                "Sker efter medborgarundersökningen som ska göras under hösten 2021 samt "
                "fortlöpande i forumet Trygg i Östhammar (lokalt BRÅ)."
            ),
            "decision_reference": "",
            "commitments": [
                {
                    "title": HOME_TITLE,
                    "purpose": HOME_PURPOSE,
                    "focus": HOME_FOCUS,
                    "actions": home_actions_2021,
                }
            ],
            "contacts": [],
            "adopted": (_dt(2021, 2, 8), _dt(2021, 2, 10)),
            "published_at": _dt(2021, 2, 15),
        },
        {
            "municipality": "osthammar",
            "kommun": KOMMUN,
            "valid_from": date(2023, 1, 1),
            "valid_to": date(2024, 12, 31),
            "is_example": True,
            "background": (
                "Trygghetsmätningen och dialogerna med invånare visade att tryggheten i hemmet "
                "fortfarande är viktig, och att kommunen och polisen behöver följa utvecklingen "
                "tätare tillsammans. Löftet gäller två år."
            ),
            "follow_up": (
                "Kommunen och polisen följer upp lägesbilden var fjärde månad. Löftet följs upp "
                "efter medborgarundersökningen hösten 2024 och fortlöpande i forumet Trygg i "
                "Östhammar (lokalt BRÅ)."
            ),
            "decision_reference": "",
            "commitments": [
                {
                    "title": SITUATION_TITLE,
                    "purpose": SITUATION_PURPOSE,
                    "focus": "Gemensam lägesbild och gemensamma beslut om insatser",
                    "actions": situation_actions,
                },
                {
                    "title": "Fortsatt arbete för den upplevda tryggheten i hemmet",
                    "purpose": HOME_PURPOSE,
                    "focus": HOME_FOCUS,
                    "actions": home_actions_later,
                },
            ],
            "contacts": contacts,
            "adopted": (_dt(2023, 1, 16), _dt(2023, 1, 18)),
            "published_at": _dt(2023, 1, 20),
        },
        {
            "municipality": "osthammar",
            "kommun": KOMMUN,
            "valid_from": date(year, 1, 1),
            "valid_to": date(year, 12, 31),
            "is_example": True,
            "background": (
                f"Exempeltext: trygghetsmätningen hösten {year - 1} visade att de flesta känner "
                "sig trygga i sitt bostadsområde, men att oron för inbrott och för våld i nära "
                "relation finns kvar. Löftet fortsätter arbetet från 2023–2024."
            ),
            "follow_up": (
                f"Lägesbilden följs upp var fjärde månad. Löftet följs upp efter "
                f"medborgarundersökningen hösten {year} och fortlöpande i forumet Trygg i "
                "Östhammar (lokalt BRÅ)."
            ),
            "decision_reference": f"Exempel: Kommunstyrelsen § 12/{year}",
            "commitments": [
                {
                    "title": SITUATION_TITLE,
                    "purpose": SITUATION_PURPOSE,
                    "focus": "Gemensam lägesbild och gemensamma beslut om insatser",
                    "actions": situation_actions,
                },
                {
                    "title": HOME_TITLE,
                    "purpose": HOME_PURPOSE,
                    "focus": HOME_FOCUS,
                    "actions": home_actions_later,
                },
            ],
            "contacts": contacts,
            "adopted": (_dt(year - 1, 12, 8), _dt(year - 1, 12, 10)),
            "published_at": _dt(year - 1, 12, 15),
        },
        {
            "municipality": "osthammar",
            "kommun": KOMMUN,
            "valid_from": date(year + 1, 1, 1),
            "valid_to": date(year + 1, 12, 31),
            "is_example": True,
            "background": (
                "Exempeltext (utkast): underlaget från höstens trygghetsmätning och dialoger "
                "sammanställs."
            ),
            "follow_up": "Exempeltext (utkast): efter nästa medborgarundersökning.",
            "decision_reference": "",
            "commitments": [
                {
                    "title": HOME_TITLE,
                    "purpose": HOME_PURPOSE,
                    "focus": HOME_FOCUS,
                    "actions": home_actions_later[:1],
                }
            ],
            "contacts": contacts[:1],
            "adopted": None,
            "published_at": None,
        },
        {
            "municipality": "tierp",
            "kommun": "Tierps kommun",
            "valid_from": date(year + 1, 1, 1),
            "valid_to": date(year + 1, 12, 31),
            "is_example": True,
            "background": (
                "Exempeltext (utkast): Tierps kommun och polisen skriver sitt första "
                "medborgarlöfte i portalen."
            ),
            "follow_up": "Exempeltext (utkast): i det lokala brottsförebyggande rådet.",
            "decision_reference": "",
            "commitments": [
                {
                    "title": "Tryggare centrum i Tierp",
                    "purpose": "Exempeltext: syftet är att fler ska känna sig trygga i centrum "
                    "på kvällen.",
                    "focus": "Otrygga platser, belysning",
                    "actions": [
                        {
                            "title": "Trygghetsvandring i Tierps centrum",
                            "description": "Exempeltext.",
                            "responsible": ["Tierps kommun", POLICE],
                            "partners": [],
                            "outcome_note": "",
                        }
                    ],
                }
            ],
            "contacts": [],
            "adopted": None,
            "published_at": None,
        },
    ]


def load(*, stdout=None, context=None) -> dict:
    context = context or {}
    municipalities = context["municipalities"]
    organisations = dict(context["organisations"])
    users = context["users"]
    for name in PARTNERS:
        org, _ = upsert(Organisation, {"name": name}, {"kind": Organisation.Kind.PARTNER})
        set_m2m(org.municipalities, [municipalities["osthammar"]])
        organisations[name] = org
    year = timezone.localdate().year
    loaded = {}
    for data in _pledges(year):
        pledge = _load_pledge(data, organisations, municipalities, users)
        loaded[(data["municipality"], pledge.period)] = pledge
    return {"pledges": loaded, "organisations": organisations}


def _load_pledge(data, organisations, municipalities, users) -> Pledge:
    municipality = municipalities[data["municipality"]]
    pledge, _ = upsert(
        Pledge,
        {"municipality": municipality, "valid_from": data["valid_from"]},
        {
            "kommun": organisations[data["kommun"]],
            "police": organisations[POLICE],
            "valid_to": data["valid_to"],
            "background": data["background"],
            "follow_up": data["follow_up"],
            "decision_reference": data["decision_reference"],
            "is_example": data["is_example"],
        },
    )
    for position, c in enumerate(data["commitments"], 1):
        commitment, _ = upsert(
            Commitment,
            {"pledge": pledge, "position": position},
            {"title": c["title"], "purpose": c["purpose"], "focus": c["focus"]},
        )
        for a_position, a in enumerate(c["actions"], 1):
            action, _ = upsert(
                Action,
                {"commitment": commitment, "position": a_position},
                {
                    "title": a["title"],
                    "description": a["description"],
                    "outcome_note": a["outcome_note"],
                },
            )
            set_m2m(action.responsible, [organisations[n] for n in a["responsible"]])
            set_m2m(action.partners, [organisations[n] for n in a["partners"]])
    for position, contact in enumerate(data["contacts"], 1):
        upsert(Contact, {"pledge": pledge, "position": position}, contact)

    fingerprint = pledge_fingerprint(pledge.pk)
    defaults = {"fingerprint": fingerprint}
    if data["adopted"]:
        for (org_name, username), when in zip(
            ((data["kommun"], "kommun-faststallare"), (POLICE, "polis-faststallare")),
            data["adopted"],
            strict=True,
        ):
            org, user = organisations[org_name], users[username]
            membership = user.memberships.get(organisation=org)
            upsert(
                Adoption,
                {"pledge": pledge, "side": org.kind, "voided_at": None},
                {
                    "organisation": org,
                    "user": user,
                    "name": user.get_full_name(),
                    "title": membership.title,
                    "adopted_at": when,
                    "fingerprint": fingerprint,
                },
            )
    if data["published_at"]:
        defaults.update(
            {
                "slug": pledge.period,
                "published_at": data["published_at"],
                "published_by": users["kommun-redaktor"],
            }
        )
    upsert(Pledge, {"pk": pledge.pk}, defaults)
    pledge.refresh_from_db()
    return pledge
