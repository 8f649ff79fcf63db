import io

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string

from surveys.models import Answer, Response, Survey
from tests.surveys.factories import SurveyFactory

pytestmark = pytest.mark.django_db


def test_load_demo_is_idempotent_and_returns_the_surveys():
    from portal import demo as portal_demo
    from surveys import demo

    context = portal_demo.load(stdout=io.StringIO())
    result = demo.load(stdout=io.StringIO(), context=context)
    surveys = result["surveys"]
    assert surveys["osthammar-2020"].title == "Trygghetsenkät hösten 2020"
    assert surveys["osthammar-2020"].results_published
    assert surveys["osthammar-open"] in Survey.objects.open_now()
    counts = Response.objects.count(), Answer.objects.count()
    history = Survey.history.count()
    assert 300 <= Response.objects.filter(survey=surveys["osthammar-2020"]).count() <= 500
    call_command("load_demo", stdout=io.StringIO())
    assert (Response.objects.count(), Answer.objects.count()) == counts
    assert Survey.history.count() == history
    open_survey = Survey.objects.get(slug="trygghetsenkat-2026")
    assert open_survey.opens_at == surveys["osthammar-open"].opens_at


def test_open_now_and_the_banner(osthammar, rf):
    open_survey = SurveyFactory(municipality=osthammar, title="Öppen enkät")
    assert list(Survey.objects.open_now()) == [open_survey]
    html = render_to_string("surveys/_open_survey_banner.html", {"open_surveys": [open_survey]})
    assert open_survey.get_absolute_url() in html and "Svara på trygghetsenkäten" in html
    assert render_to_string("surveys/_open_survey_banner.html", {"open_surveys": []}).strip() == ""


def test_the_form_page_runs_a_fixed_number_of_queries(
    client, survey, small_survey, django_assert_num_queries
):
    with django_assert_num_queries(4):
        client.get(small_survey.get_absolute_url())
    with django_assert_num_queries(4):
        client.get(survey.get_absolute_url())


def test_the_form_shows_the_privacy_note_and_grouped_items_as_fieldsets(client, survey):
    page = client.get(survey.get_absolute_url()).content.decode()
    assert "Så skyddas din anonymitet" in page and "Skriv inga namn" in page
    assert page.count('class="survey-group"') == 4
    assert "Del 3 av 8: Oro för brott" in page
    finnish = client.get(survey.get_absolute_url() + "?sprak=fi").content.decode()
    assert 'lang="fi"' in finnish and "Kuinka yleisiä seuraavat ovat asuinalueellasi?" in finnish


def test_an_unknown_survey_is_a_404(client, osthammar):
    assert client.get("/osthammar/enkat/finns-inte/").status_code == 404
