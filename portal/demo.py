"""Demo data for the portal itself: municipalities, districts,
organisations and one user per role. Idempotent: running it again updates
the same rows and creates nothing twice."""

from django.contrib.auth import get_user_model

from portal.demo_utils import set_m2m, upsert
from portal.models import District, Membership, Municipality, Organisation

DEMO_PASSWORD = "medborgarlofte-demo"  # noqa: S105 - printed by `make run`, demo only

MUNICIPALITIES = [
    # name, short name, slug, code, population
    ("Östhammars kommun", "Östhammar", "osthammar", "0382", 22364),
    ("Tierps kommun", "Tierp", "tierp", "0360", 21000),
    ("Älvkarleby kommun", "Älvkarleby", "alvkarleby", "0319", 9600),
]

OSTHAMMAR_DISTRICTS = [
    ("Östhammar", "tatort", 4974),
    ("Gimo", "tatort", 2811),
    ("Alunda", "tatort", 2677),
    ("Österbybruk", "tatort", 2349),
    ("Öregrund", "tatort", 1571),
    ("Hargshamn", "tatort", 284),
    ("Dannemora", "tatort", 243),
    ("Landsbygden utanför tätorterna", "landsbygd", 7000),
]

TIERP_DISTRICTS = [
    ("Tierp", "tatort", 6000),
    ("Skärplinge", "tatort", 700),
    ("Örbyhus", "tatort", 2000),
    ("Landsbygden utanför tätorterna", "landsbygd", 8000),
]

# username, first name, last name, organisation, role, title
USERS = [
    ("kommun-redaktor", "Karin", "Lind", "Östhammars kommun", "editor", "Trygghetssamordnare"),
    (
        "kommun-faststallare",
        "Anders",
        "Berg",
        "Östhammars kommun",
        "approver",
        "Kommunstyrelsens ordförande",
    ),
    ("polis-redaktor", "Sara", "Nyström", "Lokalpolisområde Norduppland", "editor", "Kommunpolis"),
    (
        "polis-faststallare",
        "Johan",
        "Ek",
        "Lokalpolisområde Norduppland",
        "approver",
        "Lokalpolisområdeschef",
    ),
    ("tierp-redaktor", "Maria", "Holm", "Tierps kommun", "editor", "Säkerhetssamordnare"),
]


def load(*, stdout=None, context=None) -> dict:
    municipalities = {}
    for name, short, slug, code, population in MUNICIPALITIES:
        municipalities[slug], _ = upsert(
            Municipality,
            {"slug": slug},
            {"name": name, "short_name": short, "code": code, "population": population},
        )
    for slug, districts in (("osthammar", OSTHAMMAR_DISTRICTS), ("tierp", TIERP_DISTRICTS)):
        for position, (name, kind, population) in enumerate(districts):
            upsert(
                District,
                {"municipality": municipalities[slug], "name": name},
                {"kind": kind, "population": population, "position": position},
            )

    organisations = {}
    for name, kind, served in [
        ("Östhammars kommun", "kommun", ["osthammar"]),
        ("Tierps kommun", "kommun", ["tierp"]),
        ("Lokalpolisområde Norduppland", "polis", ["osthammar", "tierp", "alvkarleby"]),
        ("Östhammarshem", "partner", ["osthammar"]),
    ]:
        org, _ = upsert(Organisation, {"name": name}, {"kind": kind})
        set_m2m(org.municipalities, [municipalities[s] for s in served])
        organisations[name] = org

    User = get_user_model()
    users = {}
    for username, first, last, org_name, role, title in USERS:
        user, _ = upsert(
            User,
            {"username": username},
            {"first_name": first, "last_name": last, "email": f"{username}@example.se"},
        )
        _ensure_password(user)
        upsert(
            Membership,
            {"user": user, "organisation": organisations[org_name]},
            {"role": role, "title": title},
        )
        users[username] = user
    admin, _ = upsert(
        User,
        {"username": "admin"},
        {"is_superuser": True, "is_staff": True, "email": "admin@example.se", "first_name": "Site"},
    )
    _ensure_password(admin)
    users["admin"] = admin
    return {"municipalities": municipalities, "organisations": organisations, "users": users}


def _ensure_password(user) -> None:
    if not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])


LOGINS = [
    ("kommun-redaktor", "kommunens redaktör (Östhammars kommun)"),
    ("kommun-faststallare", "kommunens fastställare (kommunstyrelsens ordförande)"),
    ("polis-redaktor", "polisens redaktör (Lokalpolisområde Norduppland)"),
    ("polis-faststallare", "polisens fastställare (lokalpolisområdeschef)"),
    ("tierp-redaktor", "redaktör i en annan kommun (Tierps kommun)"),
    ("admin", "webbplatsens administratör (superanvändare)"),
]
