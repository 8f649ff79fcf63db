import pytest
from django.urls import reverse

from tests.conftest import PASSWORD


def test_an_official_logs_in_without_being_staff(client, kommun_editor):
    assert not kommun_editor.is_staff
    response = client.post(
        reverse("admin:login"),
        {"username": "kommun_editor", "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_user_without_membership_cannot_log_in(client, django_user_model):
    django_user_model.objects.create_user("nobody", password=PASSWORD)
    response = client.post(reverse("admin:login"), {"username": "nobody", "password": PASSWORD})
    assert response.status_code == 200
    assert "inte medlem i någon organisation" in response.content.decode()


def test_a_wrong_password_is_refused(client, kommun_editor):
    response = client.post(
        reverse("admin:login"), {"username": "kommun_editor", "password": "wrong"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_an_editor_sees_only_their_municipalities(login, kommun_editor, osthammar, tierp):
    client = login(kommun_editor)
    html = client.get(reverse("admin:portal_municipality_changelist")).content.decode()
    assert "Östhammars kommun" in html
    assert "Tierps kommun" not in html


def test_an_editor_cannot_change_municipalities_or_memberships(login, kommun_editor, osthammar):
    client = login(kommun_editor)
    url = reverse("admin:portal_municipality_change", args=[osthammar.pk])
    response = client.post(url, {"name": "Hackad", "short_name": "x", "slug": "x", "code": "0000"})
    assert response.status_code == 403
    assert client.get(reverse("admin:portal_membership_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_an_editor_cannot_see_another_municipality(login, other_kommun_editor, osthammar):
    client = login(other_kommun_editor)
    response = client.get(reverse("admin:portal_municipality_change", args=[osthammar.pk]))
    assert response.status_code in (302, 403, 404)


@pytest.mark.parametrize(
    "url_name", ["admin:portal_municipality_changelist", "admin:portal_organisation_changelist"]
)
def test_site_admin_sees_all(login, site_admin, osthammar, tierp, police, url_name):
    assert login(site_admin).get(reverse(url_name)).status_code == 200


def test_only_site_administrators_read_accessibility_feedback(
    login, kommun_editor, site_admin, client
):
    """The feedback carries residents' contact details: not every official's."""
    from django.contrib.auth.models import Permission

    from portal.models import AccessibilityFeedback

    AccessibilityFeedback.objects.create(
        message="Kontrasten är för låg på startsidan.", contact="anna@example.se"
    )
    url = reverse("admin:portal_accessibilityfeedback_changelist")
    assert login(kommun_editor).get(url).status_code == 403
    assert "anna@example.se" not in client.get(reverse("admin:index")).content.decode()
    assert "Kontrasten är för låg" in login(site_admin).get(url).content.decode()
    # Or an official given the permission named for it.
    kommun_editor.user_permissions.add(
        Permission.objects.get(codename="handle_accessibilityfeedback")
    )
    assert login(kommun_editor).get(url).status_code == 200


def test_the_feedback_form_stops_a_burst_from_one_address(client, db):
    from portal.models import AccessibilityFeedback

    url = reverse("portal:accessibility")
    data = {"kind": "problem", "message": "Knappen syns inte i mobilen."}
    for _ in range(10):
        assert client.post(url, data).status_code == 302
    refused = client.post(url, data)
    assert refused.status_code == 429
    assert "Inget skickades" in refused.content.decode()
    assert AccessibilityFeedback.objects.count() == 10
