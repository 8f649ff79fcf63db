"""The follow-up demo: example reports on Östhammar's 2021 pledge, a forum
meeting, the home-safety indicator computed from the demo surveys, and the
current pledge with an overdue action. Loaded with a fixed clock."""

from datetime import date
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from followup.models import ActionReport, ForumMeeting, Indicator, ReportingPlan
from surveys.models import Survey
from surveys.results import share

MODELS = [ActionReport, ForumMeeting, Indicator, ReportingPlan]
YEAR = timezone.localdate().year
TODAY = date(YEAR, 11, 25)


@pytest.fixture
def clock():
    with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
        yield


@pytest.fixture
def demo(db, clock):
    call_command("load_demo", stdout=StringIO())


def _counts():
    rows = sum(model.objects.count() for model in MODELS)
    history = sum(model.history.count() for model in MODELS)
    return rows, history


def test_the_2021_follow_up_shows_the_examples(demo, client):
    html = client.get("/osthammar/medborgarlofte/2021/uppfoljning/").content.decode()
    assert "Exempel: lägesrapporterna och mötena här är exempeltexter" in html
    assert "Våga värna" in html and "Grannsamverkan" in html
    assert "1 av 2 åtgärder genomförda" in html
    assert "För få båtägare anmälde intresse" in html  # the reason for what was not done
    assert "Trygg i Östhammar (lokalt BRÅ)" in html
    assert "Andel som känner sig trygga i hemmet" in html
    assert all(r.is_example for r in ActionReport.objects.all())


def test_the_indicator_is_computed_from_the_demo_surveys(demo, client):
    indicator = Indicator.objects.get(pledge__slug="2021")
    s2020 = Survey.objects.get(municipality__slug="osthammar", slug="hosten-2020")
    s2021 = Survey.objects.get(municipality__slug="osthammar", slug="hosten-2021")
    assert indicator.baseline_survey == s2020
    html = client.get("/osthammar/medborgarlofte/2021/uppfoljning/").content.decode()
    for survey in (s2020, s2021):
        k, n = share(
            survey, "trygghet_hemmet", ["mycket_trygg", "ganska_trygg"], exclude_keys=["vet_ej"]
        )
        assert n > 300
        assert f"{round(100 * k / n, 1)}".replace(".", ",") + " %" in html
        assert f"<td>{n}</td>" in html


def test_the_current_pledge_has_reports_and_an_overdue_action(demo, client):
    html = client.get(f"/osthammar/medborgarlofte/{YEAR}/uppfoljning/").content.decode()
    assert "uppdatering försenad" in html
    assert "1 uppdatering försenad" in html
    assert ActionReport.objects.filter(action__commitment__pledge__slug=str(YEAR)).count() >= 5
    page = client.get(f"/osthammar/medborgarlofte/{YEAR}/").content.decode()
    assert f"/osthammar/medborgarlofte/{YEAR}/uppfoljning/" in page


def test_a_second_load_changes_nothing(demo, clock):
    before = _counts()
    call_command("load_demo", stdout=StringIO())
    assert _counts() == before
