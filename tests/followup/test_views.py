"""The public follow-up page, the printable report, the pledge page's
summary, the archive's outcome line and the feed."""

from datetime import date

import pytest
from django.utils import timezone

from followup import services
from followup.models import ActionReport, Status
from pledges.models import Action
from tests.followup.factories import (
    ForumMeetingFactory,
    ReportingPlanFactory,
    home_indicator,
    home_survey,
)


def _url(pledge, report=False):
    base = f"/{pledge.municipality.slug}/medborgarlofte/{pledge.slug}/uppfoljning/"
    return base + "rapport/" if report else base


@pytest.fixture
def reported(published, kommun_editor):
    """The 2021 pledge with one action done, one cancelled (with a reason)."""
    action = Action.objects.filter(commitment__pledge=published).get()
    services.action_report_save(
        report=ActionReport(
            action=action, date=date(2021, 4, 28), status=Status.IN_PROGRESS, text="Första träffen."
        ),
        user=kommun_editor,
    )
    services.action_report_save(
        report=ActionReport(
            action=action,
            date=date(2021, 12, 10),
            status=Status.CANCELLED,
            text="Bara en träff blev av.",
            reason="För få anmälde sig.",
        ),
        user=kommun_editor,
    )
    return published


def test_the_follow_up_page_shows_status_reasons_and_timeline(client, reported):
    html = client.get(_url(reported)).content.decode()
    assert "Uppföljning av medborgarlöfte 2021" in html
    assert "0 av 1 åtgärd genomförd" in html
    assert "Ej genomförd/avbruten" in html
    assert "För få anmälde sig." in html
    assert "Det som inte blev gjort och varför" in html
    assert "Tidigare rapport (1)" in html
    assert "Första träffen." in html
    assert "Senast uppdaterad 10 december 2021" in html


def test_internal_reports_are_not_public(client, published, kommun_editor):
    action = Action.objects.filter(commitment__pledge=published).get()
    services.action_report_save(
        report=ActionReport(
            action=action,
            date=date(2021, 5, 1),
            status=Status.DONE,
            text="INTERN-TEXT",
            is_public=False,
        ),
        user=kommun_editor,
    )
    html = client.get(_url(published)).content.decode()
    assert "INTERN-TEXT" not in html
    assert "0 av 1 åtgärd genomförd" in html
    assert "INTERN-TEXT" not in client.get(_url(published, report=True)).content.decode()
    assert "INTERN-TEXT" not in client.get("/osthammar/flode.atom").content.decode()


def test_an_overdue_report_is_shown_as_overdue(client, current):
    year = timezone.localdate().year
    ReportingPlanFactory(pledge=current, first_due=date(year - 1, 12, 1), interval_months=12)
    html = client.get(_url(current)).content.decode()
    assert "uppdatering försenad" in html


@pytest.mark.parametrize("state", ["draft", "adopted", "scheduled"])
def test_unpublished_pledges_have_no_public_follow_up(request, client, state):
    pledge = request.getfixturevalue(state)
    pledge.slug = pledge.slug or pledge.period
    pledge.save(update_fields=["slug"])
    assert client.get(_url(pledge)).status_code == 404
    assert client.get(_url(pledge, report=True)).status_code == 404


def test_an_unknown_period_is_a_404(client, published):
    assert client.get("/osthammar/medborgarlofte/1999/uppfoljning/").status_code == 404
    assert client.get("/tierp/medborgarlofte/2021/uppfoljning/").status_code == 404


def test_indicators_show_numbers_interval_and_the_verdict(client, published, osthammar):
    s2020 = home_survey(
        osthammar,
        2020,
        {
            "mycket_trygg": 40,
            "ganska_trygg": 20,
            "ganska_otrygg": 30,
            "mycket_otrygg": 10,
            "vet_ej": 7,
        },
    )
    home_survey(osthammar, 2021, {"mycket_trygg": 50, "ganska_trygg": 31, "ganska_otrygg": 19})
    home_indicator(published, s2020, target=80)
    for url in (_url(published), _url(published, report=True)):
        html = client.get(url).content.decode()
        assert 'role="img"' in html and "<table" in html
        assert "60,0 %" in html and "50,2–69,1 %" in html
        assert "81,0 %" in html and "72,2–87,5 %" in html
        assert "större än osäkerheten" in html
        assert "style=" not in html


def test_few_answers_are_not_shown(client, published, osthammar):
    s2020 = home_survey(osthammar, 2020, {"mycket_trygg": 3})
    home_indicator(published, s2020)
    html = client.get(_url(published)).content.decode()
    assert "dolt (små tal)" in html


def test_forum_meetings_that_reviewed_the_pledge_are_listed(client, published, osthammar):
    meeting = ForumMeetingFactory(municipality=osthammar, summary="Genomgång av åtgärderna.")
    meeting.actions.set(Action.objects.filter(commitment__pledge=published))
    ForumMeetingFactory(municipality=osthammar, forum="Annat forum", summary="Inget om löftet.")
    html = client.get(_url(published)).content.decode()
    assert "Genomgång av åtgärderna." in html
    assert "Inget om löftet." not in html


def test_the_report_is_printable(client, reported):
    html = client.get(_url(reported, report=True)).content.decode()
    assert "Uppföljningsrapport 2021" in html
    assert "followup-print.css" in html and 'media="print"' in html
    assert "För få anmälde sig." in html


def test_the_pledge_page_links_the_follow_up_with_a_summary(client, reported, kommun_editor):
    html = client.get(reported.get_absolute_url()).content.decode()
    assert _url(reported) in html
    assert "0 av 1 åtgärd genomförd" in html
    # A new report shows at once: the cached summary has a new version.
    action = Action.objects.filter(commitment__pledge=reported).get()
    services.action_report_save(
        report=ActionReport(
            action=action, date=date(2022, 1, 5), status=Status.DONE, text="Klart."
        ),
        user=kommun_editor,
    )
    html = client.get(reported.get_absolute_url()).content.decode()
    assert "1 av 1 åtgärd genomförd" in html


def test_the_archive_shows_each_outcome(client, reported):
    html = client.get("/osthammar/medborgarlofte/").content.decode()
    assert "Uppföljning: 0 av 1 åtgärd genomförd" in html


def test_the_feed_announces_public_reports(client, reported):
    xml = client.get("/osthammar/flode.atom").content.decode()
    assert "Lägesrapport" in xml
    assert "/uppfoljning/#atgard-" in xml


def _grow(make_pledge, publish, osthammar, size):
    pledge = publish(make_pledge(commitments=min(size, 3), actions=size))
    ReportingPlanFactory(pledge=pledge)
    for action in Action.objects.filter(commitment__pledge=pledge):
        for n in range(size):
            ActionReport.objects.create(
                action=action,
                date=date(2021, 1 + n % 12, 1),
                status=Status.IN_PROGRESS,
                text=f"R{n}",
            )
    surveys = [
        home_survey(
            osthammar,
            2000 + n,
            {"mycket_trygg": 6, "ganska_otrygg": 5, "vet_ej": 5},
            genders={("mycket_trygg", "kvinna"): 3, ("mycket_trygg", "man"): 3},
        )
        for n in range(size)
    ]
    home_indicator(pledge, surveys[0])
    meeting = ForumMeetingFactory(municipality=osthammar)
    meeting.actions.set(Action.objects.filter(commitment__pledge=pledge))
    return pledge


@pytest.mark.parametrize("size", [1, 6])
def test_the_follow_up_page_runs_a_fixed_number_of_queries(
    client, make_pledge, publish, osthammar, django_assert_num_queries, size
):
    pledge = _grow(make_pledge, publish, osthammar, size)
    page, report = _url(pledge), _url(pledge, report=True)
    # pledge (+municipality, parties, plan); commitments,
    # actions, responsible;
    # reports; indicators; surveys; values and the public rows (three per
    # indicator); meetings and their actions; the breakdown by gender
    # (values, labels)
    with django_assert_num_queries(14):
        response = client.get(page)
    assert response.status_code == 200
    with django_assert_num_queries(14):
        response = client.get(report)
    assert response.status_code == 200
