from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from pledges.models import Action, Adoption, Commitment, Contact, Pledge

MODELS = [Pledge, Commitment, Action, Contact, Adoption]


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=StringIO())


def _history_rows():
    return sum(model.history.count() for model in MODELS)


def test_the_demo_loads_osthammars_pledges(demo, client):
    year = timezone.localdate().year
    published = Pledge.objects.published().filter(municipality__slug="osthammar")
    assert set(published.values_list("slug", flat=True)) == {"2021", "2023-2024", str(year)}
    html = client.get("/osthammar/medborgarlofte/2021/").content.decode()
    assert "Ett ökat arbete kring den upplevda tryggheten i hemmet" in html
    assert "Våga värna" in html and "Grannsamverkan och Båtsamverkan" in html
    assert "positivt utfall om anmälningsbenägenheten ökar" in html
    assert "Trygg i Östhammar (lokalt BRÅ)" in html
    assert "Exempel:" not in html  # the 2021 texts come from the municipality's own page
    current = client.get("/osthammar/").content.decode()
    assert f"Medborgarlöfte {year} – Östhammars kommun" in current
    assert "Exempel: texterna" in current


def test_the_two_year_pledge_has_its_two_commitments_and_six_partners(demo):
    pledge = Pledge.objects.get(municipality__slug="osthammar", slug="2023-2024")
    assert pledge.commitments.count() == 2
    vaga_varna = Action.objects.get(commitment__pledge=pledge, title__contains="Våga värna")
    parties = {o.name for o in vaga_varna.responsible.all()} | {
        o.name for o in vaga_varna.partners.all()
    }
    assert len(parties) == 6


def test_the_demo_drafts_are_not_public(demo, client):
    year = timezone.localdate().year + 1
    drafts = Pledge.objects.filter(valid_from__year=year)
    assert {p.municipality.slug for p in drafts} == {"osthammar", "tierp"}
    assert all(p.is_example and not p.published_at for p in drafts)
    assert client.get(f"/osthammar/medborgarlofte/{year}/").status_code == 404


def test_the_demo_adoptions_match_the_content(demo):
    for pledge in Pledge.objects.published():
        valid = Adoption.objects.filter(pledge=pledge, voided_at__isnull=True)
        assert {a.fingerprint for a in valid} == {pledge.fingerprint}
        assert valid.count() == 2


def test_loading_the_demo_twice_changes_nothing(demo):
    rows = _history_rows()
    stamps = list(Pledge.objects.order_by("pk").values_list("updated", flat=True))
    call_command("load_demo", stdout=StringIO())
    assert _history_rows() == rows
    assert list(Pledge.objects.order_by("pk").values_list("updated", flat=True)) == stamps
