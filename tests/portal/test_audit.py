"""The audit log: logins, failed logins, admin changes and explicit events
from other apps, readable by site administrators only."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.audit import Action, AuditedAdminMixin, AuditEvent, log_event
from portal.models import District, Organisation
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_login_and_a_logout_are_audited(client, kommun_editor):
    client.post(reverse("admin:login"), {"username": "kommun_editor", "password": PASSWORD})
    client.post(reverse("admin:logout"))
    actions = list(
        AuditEvent.objects.filter(actor=kommun_editor)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [Action.LOGIN, Action.LOGOUT]


def test_a_failed_login_is_audited_with_the_username_only(client, kommun_editor):
    client.post(reverse("admin:login"), {"username": "kommun_editor", "password": "hemligt-fel"})
    event = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert event.actor is None
    assert event.actor_username == "kommun_editor"
    assert "hemligt-fel" not in str(event.details)


def test_log_event_names_the_object_and_its_municipality(osthammar, kommun_editor):
    district = District.objects.create(municipality=osthammar, name="Gimo")
    event = log_event(actor=kommun_editor, action="adoption", obj=district, decision="KS § 12")
    event.refresh_from_db()
    assert event.object_type == "portal.district"
    assert event.object_id == str(district.pk)
    assert event.object_repr == "Gimo"
    assert event.municipality == osthammar
    assert event.details == {"decision": "KS § 12"}
    assert event.actor_username == "kommun_editor"
    assert AuditEvent.objects.for_object(district).get() == event


def test_log_event_takes_a_municipality_itself_and_an_anonymous_actor(osthammar):
    from django.contrib.auth.models import AnonymousUser

    event = log_event(actor=AnonymousUser(), action="publication", obj=osthammar)
    assert event.municipality_id == osthammar.pk
    assert event.actor is None and event.actor_username == ""


def test_admin_add_change_and_delete_are_audited(login, site_admin, osthammar):
    client = login(site_admin)
    url = reverse("admin:portal_municipality_change", args=[osthammar.pk])
    data = {
        "name": "Östhammars kommun",
        "short_name": "Östhammar",
        "slug": "osthammar",
        "code": "0382",
        "population": "22400",
        "invitation_retention_days": "30",
        "districts-TOTAL_FORMS": "0",
        "districts-INITIAL_FORMS": "0",
        "districts-MIN_NUM_FORMS": "0",
        "districts-MAX_NUM_FORMS": "1000",
    }
    assert client.post(url, data).status_code == 302
    change = AuditEvent.objects.get(action=Action.ADMIN_CHANGE)
    assert change.actor == site_admin
    assert change.municipality == osthammar
    assert "population" in str(change.details["change"]).lower()

    response = client.post(
        reverse("admin:portal_organisation_add"),
        {"name": "Brottsofferjouren", "kind": "partner", "municipalities": [osthammar.pk]},
    )
    assert response.status_code == 302
    org = Organisation.objects.get(name="Brottsofferjouren")
    assert AuditEvent.objects.filter(action=Action.ADMIN_ADD, object_id=str(org.pk)).exists()

    response = client.post(
        reverse("admin:portal_organisation_delete", args=[org.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    deleted = AuditEvent.objects.get(action=Action.ADMIN_DELETE)
    assert deleted.object_repr == "Brottsofferjouren"


def test_a_scoped_admin_logs_with_the_objects_municipality(rf, kommun_editor, osthammar):
    from portal.admin import ScopedAdmin

    class DistrictAdmin(ScopedAdmin):
        scope_path = "municipality"

    district = District.objects.create(municipality=osthammar, name="Alunda")
    request = rf.post("/")
    request.user = kommun_editor
    DistrictAdmin(District, admin.site).log_change(request, district, [{"changed": {}}])
    event = AuditEvent.objects.get(action=Action.ADMIN_CHANGE)
    assert event.municipality == osthammar
    assert event.actor == kommun_editor


def test_every_admin_on_the_site_is_audited():
    unaudited = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedAdminMixin)
    ]
    assert not unaudited


def test_officials_cannot_read_the_audit_log(login, kommun_editor):
    client = login(kommun_editor)
    assert client.get(reverse("admin:portal_auditevent_changelist")).status_code == 403
    assert "auditevent" not in client.get("/admin/").content.decode()


def test_the_audit_log_is_read_only_even_for_site_administrators(login, site_admin, osthammar):
    event = log_event(actor=site_admin, action="publication", obj=osthammar)
    client = login(site_admin)
    assert client.get(reverse("admin:portal_auditevent_add")).status_code == 403
    response = client.post(
        reverse("admin:portal_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    response = client.post(
        reverse("admin:portal_auditevent_change", args=[event.pk]), {"action": "x"}
    )
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, action="publication").exists()


def test_site_administrators_filter_and_search_the_audit_log(login, site_admin, osthammar, tierp):
    log_event(actor=None, action=Action.LOGIN_FAILED, username="okand-person")
    log_event(actor=site_admin, action="publication", obj=tierp)
    client = login(site_admin)
    url = reverse("admin:portal_auditevent_changelist")

    def shown(**params):
        return [e.action for e in client.get(url, params).context["cl"].result_list]

    assert shown(q="okand-person") == [Action.LOGIN_FAILED]
    assert shown(municipality__id__exact=tierp.pk) == ["publication"]
    assert shown(action=Action.LOGIN_FAILED) == [Action.LOGIN_FAILED]
    html = client.get(url).content.decode()
    assert "misslyckad inloggning" in html and "publicering" in html


def test_the_audit_log_runs_the_same_queries_for_1_and_20_events(
    login, site_admin, osthammar, tierp
):
    client = login(site_admin)
    url = reverse("admin:portal_auditevent_changelist")
    log_event(actor=site_admin, action="publication", obj=osthammar)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for i in range(20):
        log_event(actor=site_admin, action="adoption", obj=tierp if i % 2 else osthammar)
    with CaptureQueriesContext(connection) as twenty:
        assert client.get(url).status_code == 200
    assert len(twenty) == len(one)


def test_a_bulk_delete_in_the_admin_is_audited_per_object(login, site_admin, osthammar):
    from tests.factories import OrganisationFactory

    orgs = [OrganisationFactory(municipalities=[osthammar]) for _ in range(3)]
    response = login(site_admin).post(
        reverse("admin:portal_organisation_changelist"),
        {"action": "delete_selected", "_selected_action": [o.pk for o in orgs], "post": "yes"},
    )
    assert response.status_code == 302
    deleted = AuditEvent.objects.filter(action=Action.ADMIN_DELETE)
    assert sorted(deleted.values_list("object_repr", flat=True)) == sorted(o.name for o in orgs)
    assert not Organisation.objects.filter(pk__in=[o.pk for o in orgs]).exists()
