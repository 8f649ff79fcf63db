"""The follow-up admin: scope for every official role, the reason rule in
the form, the due/overdue list, and query counts."""

from datetime import date

import pytest
from django.utils import timezone

from followup.models import ActionReport, ForumMeeting, Indicator, Status
from pledges.models import Action
from tests.followup.factories import ReportingPlanFactory, home_survey

ADD_REPORT = "/admin/followup/actionreport/add/"
REPORTS = "/admin/followup/actionreport/"
DUE = "/admin/followup/dueaction/"


@pytest.fixture
def action(published):
    return Action.objects.filter(commitment__pledge=published).get()


def _data(action, **extra):
    return {
        "action": action.pk,
        "date": "2021-05-02",
        "status": Status.IN_PROGRESS,
        "text": "Två träffar hölls.",
        "reason": "",
        "is_public": "on",
        **extra,
    }


ROLES = ["kommun_editor", "kommun_approver", "police_editor", "police_approver", "site_admin"]


@pytest.mark.parametrize("role", ROLES)
def test_every_official_role_writes_reports_in_scope(request, login, action, role):
    user = request.getfixturevalue(role)
    client = login(user)
    response = client.post(ADD_REPORT, _data(action))
    assert response.status_code == 302, response.content.decode()[:2000]
    report = ActionReport.objects.get()
    assert report.history.get().history_user == user
    assert client.get(f"{REPORTS}{report.pk}/change/").status_code == 200


def test_an_outsider_neither_sees_nor_chooses_the_action(
    login, action, other_kommun_editor, kommun_editor
):
    report = ActionReport.objects.create(
        action=action, date=date(2021, 5, 2), status="done", text="x"
    )
    client = login(other_kommun_editor)
    assert report.action.title not in client.get(REPORTS).content.decode()
    assert client.get(f"{REPORTS}{report.pk}/change/").status_code in (302, 404)
    response = client.post(ADD_REPORT, _data(action))
    assert response.status_code == 200
    assert "Välj ett giltigt alternativ" in response.content.decode()
    assert ActionReport.objects.count() == 1


def test_the_form_asks_for_the_reason_in_swedish(login, action, kommun_editor):
    client = login(kommun_editor)
    response = client.post(ADD_REPORT, _data(action, status=Status.DELAYED))
    assert response.status_code == 200
    assert "orsaken är obligatorisk" in response.content.decode()
    assert not ActionReport.objects.exists()


def test_the_due_list_shows_overdue_actions_in_scope(
    login, current, kommun_editor, other_kommun_editor
):
    year = timezone.localdate().year
    ReportingPlanFactory(pledge=current, first_due=date(year - 1, 12, 1), interval_months=12)
    action = Action.objects.filter(commitment__pledge=current).get()
    html = login(kommun_editor).get(DUE).content.decode()
    assert action.title in html and "försenad" in html
    assert f"{ADD_REPORT}?action={action.pk}" in html
    html = login(other_kommun_editor).get(DUE).content.decode()
    assert action.title not in html


def test_a_reported_action_leaves_the_due_list(login, current, kommun_editor):
    year = timezone.localdate().year
    ReportingPlanFactory(pledge=current, first_due=date(year - 1, 12, 1), interval_months=12)
    action = Action.objects.filter(commitment__pledge=current).get()
    ActionReport.objects.create(
        action=action, date=timezone.localdate(), status="in_progress", text="x"
    )
    client = login(kommun_editor)
    assert action.title not in client.get(DUE).content.decode()
    assert action.title in client.get(DUE + "?visa=alla").content.decode()


@pytest.mark.parametrize("size", [1, 20])
def test_the_due_list_and_reports_run_a_fixed_number_of_queries(
    login, make_pledge, publish, kommun_editor, django_assert_num_queries, size
):
    year = timezone.localdate().year
    pledge = publish(make_pledge(year=year, actions=size))
    ReportingPlanFactory(pledge=pledge, first_due=date(year - 1, 12, 1), interval_months=12)
    for action in Action.objects.filter(commitment__pledge=pledge):
        ActionReport.objects.create(
            action=action, date=date(year - 1, 6, 1), status="planned", text="x"
        )
    client = login(kommun_editor)
    client.get(DUE)  # warm the session
    # session, user, roles; the user's and groups' permissions (may this
    # official read accessibility feedback, for the menu); due ids; count,
    # filtered count, rows
    with django_assert_num_queries(9):
        html = client.get(DUE).content.decode()
    assert html.count(f"{ADD_REPORT}?action=") == size
    # session, user, roles; permissions (2); count, filtered count, rows;
    # date hierarchy (2)
    with django_assert_num_queries(10):
        html = client.get(REPORTS).content.decode()
    assert html.count("/change/") >= size


def test_the_indicator_page_shows_computed_values(login, published, osthammar, kommun_editor):
    survey = home_survey(osthammar, 2020, {"mycket_trygg": 9, "mycket_otrygg": 6})
    client = login(kommun_editor)
    response = client.post(
        "/admin/followup/indicator/add/",
        {
            "pledge": published.pk,
            "position": 0,
            "name": "Trygga i hemmet",
            "question_key": "trygghet_hemmet",
            "favourable_choices": "mycket_trygg, ganska_trygg",
            "excluded_choices": "vet_ej",
            "direction": "up",
            "target": "",
            "baseline_survey": survey.pk,
            "note": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    indicator = Indicator.objects.get()
    assert indicator.favourable_choices == ["mycket_trygg", "ganska_trygg"]
    html = client.get(f"/admin/followup/indicator/{indicator.pk}/change/").content.decode()
    assert "60.0 % (n = 15, 95 % KI 35.7–80.2 %)" in html


def test_a_meeting_cannot_review_another_municipalitys_actions(
    login, published, make_pledge, tierp, tierp_kommun, site_admin, osthammar
):
    other = make_pledge(municipality=tierp, kommun_org=tierp_kommun, year=2022)
    foreign = Action.objects.filter(commitment__pledge=other).get()
    client = login(site_admin)
    response = client.post(
        "/admin/followup/forummeeting/add/",
        {
            "municipality": osthammar.pk,
            "date": "2021-09-16",
            "forum": "Trygg i Östhammar",
            "summary": "Genomgång.",
            "actions": [foreign.pk],
        },
    )
    assert response.status_code == 200
    assert "hör till en annan kommun" in response.content.decode()
    assert not ForumMeeting.objects.exists()
