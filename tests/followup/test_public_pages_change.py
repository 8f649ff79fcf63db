"""Every kind of change residents see reaches the cached public pages at
once, through the one place that says so (the audit log, portal/audit.py),
and what time does by itself shows when the copies expire."""

from datetime import timedelta
from unittest import mock

from django.contrib import admin
from django.test import Client, RequestFactory
from django.utils import timezone

from followup.models import Indicator, Status
from pledges import services as pledge_services
from pledges.models import Action, Pledge
from portal import memo
from surveys.models import Survey
from tests.followup.factories import home_survey


def _cached(url) -> str:
    """The page as a visitor gets it, made sure to be in the cache."""
    Client().get(url)
    page = Client().get(url)
    assert page["X-Page-Cache"] == "hit", url
    return page.content.decode()


def _fresh(url) -> str:
    page = Client().get(url)
    assert page.status_code == 200
    assert page.get("X-Page-Cache") != "hit", url
    return page.content.decode()


def test_a_municipality_renamed(published):
    """A published pledge's content is locked (pledges/admin/pledge.py); its
    page still changes with the municipality it names, audited as the admin
    does."""
    from portal.audit import Action as AuditAction
    from portal.audit import log_event

    url = published.get_absolute_url()
    _cached(url)
    municipality = published.municipality
    municipality.name = "Östhammars kommun (nytt namn)"
    municipality.save()
    log_event(actor=None, action=AuditAction.ADMIN_CHANGE, obj=municipality)
    assert "Östhammars kommun (nytt namn)" in _fresh(url)


def test_an_adoption(make_pledge, kommun, kommun_approver):
    draft = make_pledge()
    _cached("/osthammar/")
    pledge_services.pledge_adopt(pledge=draft, user=kommun_approver, organisation=kommun)
    _fresh("/osthammar/")


def test_publishing(make_pledge, adopt_both, kommun_editor):
    pledge = adopt_both(make_pledge(year=timezone.localdate().year))
    before = _cached("/osthammar/medborgarlofte/")
    pledge_services.pledge_publish(pledge=pledge, user=kommun_editor)
    url = Pledge.objects.get(pk=pledge.pk).get_absolute_url()
    assert url not in before
    assert url in _fresh("/osthammar/medborgarlofte/")


def test_withdrawing(published, kommun_editor):
    url = published.get_absolute_url()
    _cached(url)
    pledge_services.pledge_withdraw(pledge=published, user=kommun_editor, reason="Skälet syns.")
    assert "Skälet syns." in _fresh(url)


def test_an_action_report_through_the_admin(login, published, kommun_editor):
    url = published.get_absolute_url() + "uppfoljning/"
    _cached(url)
    action = Action.objects.filter(commitment__pledge=published).first()
    response = login(kommun_editor).post(
        "/admin/followup/actionreport/add/",
        {
            "action": action.pk,
            "date": "2021-05-02",
            "status": Status.IN_PROGRESS,
            "text": "Två träffar hölls i Alunda.",
            "reason": "",
            "is_public": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "Två träffar hölls i Alunda." in _fresh(url)


def test_an_indicator_added_in_the_admin(login, published, osthammar, kommun_editor):
    survey = home_survey(osthammar, 2020, {"mycket_trygg": 6, "mycket_otrygg": 4})
    url = published.get_absolute_url() + "uppfoljning/"
    assert "Trygga i hemmet" not in _cached(url)
    response = login(kommun_editor).post(
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
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Indicator.objects.exists()
    assert "Trygga i hemmet" in _fresh(url)


def _admin_saved(obj, user, message="changed"):
    """What the admin does after saving any object: its ModelAdmin's
    log_change (Django calls it for every change form and list edit)."""
    request = RequestFactory().post("/admin/")
    request.user = user
    admin.site.get_model_admin(type(obj)).log_change(request, obj, message)


def test_a_survey_changed_in_the_admin(osthammar, kommun_editor):
    survey = home_survey(osthammar, 2020, {"mycket_trygg": 6, "mycket_otrygg": 4})
    url = f"/osthammar/enkat/{survey.slug}/resultat/"
    _cached(url)
    Survey.objects.filter(pk=survey.pk).update(title="Trygghetsenkäten (ny rubrik)")
    _admin_saved(Survey.objects.get(pk=survey.pk), kommun_editor)
    assert "Trygghetsenkäten (ny rubrik)" in _fresh(url)


def test_results_published_in_the_admin(osthammar, kommun_editor):
    survey = home_survey(osthammar, 2020, {"mycket_trygg": 6}, published=False)
    url = f"/osthammar/enkat/{survey.slug}/resultat/"
    assert Client().get(url).status_code == 404
    survey.results_published = True
    survey.save()
    _admin_saved(survey, kommun_editor)
    _fresh(url)


def test_a_district_added_to_its_municipality_in_the_admin(login, site_admin, osthammar):
    _cached("/osthammar/")
    data = {
        "name": osthammar.name,
        "short_name": osthammar.short_name,
        "slug": osthammar.slug,
        "code": osthammar.code,
        "invitation_retention_days": "30",
        "districts-TOTAL_FORMS": "1",
        "districts-INITIAL_FORMS": "0",
        "districts-0-position": "0",
        "districts-0-name": "Gimo",
        "districts-0-kind": "tatort",
        "districts-0-population": "",
    }
    url = f"/admin/portal/municipality/{osthammar.pk}/change/"
    assert login(site_admin).post(url, data).status_code == 302
    assert osthammar.districts.filter(name="Gimo").exists()
    _fresh("/osthammar/")
    _fresh("/")  # the home page lists the municipalities


def test_a_scheduled_pledge_shows_when_the_copies_expire(scheduled, settings):
    """Nothing is logged when the publishing time passes: the cached pages
    expire after PUBLIC_PAGE_CACHE_SECONDS (and this process' copy after
    LOCAL_SECONDS) and then show the pledge."""
    url = "/osthammar/medborgarlofte/"
    assert scheduled.get_absolute_url() not in _cached(url)
    later = timezone.now() + timedelta(days=3, seconds=settings.PUBLIC_PAGE_CACHE_SECONDS + 60)
    seconds = (later - timezone.now()).total_seconds()
    wall, monotonic = memo.time.time(), memo.time.monotonic()
    with (
        mock.patch("django.utils.timezone.now", return_value=later),
        mock.patch.object(memo.time, "time", return_value=wall + seconds),
        mock.patch.object(memo.time, "monotonic", return_value=monotonic + seconds),
    ):
        assert scheduled.get_absolute_url() in _fresh(url)
