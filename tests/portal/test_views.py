from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse

from portal import content_version
from portal.models import AccessibilityFeedback


def test_home_lists_municipalities(client, osthammar, tierp):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Östhammars kommun" in html
    assert osthammar.get_absolute_url() in html
    assert '<html lang="sv">' in html


def test_home_runs_one_query_whatever_the_number_of_municipalities(
    client, django_assert_num_queries, db
):
    from tests.factories import MunicipalityFactory

    MunicipalityFactory()
    with django_assert_num_queries(1):
        client.get("/")
    MunicipalityFactory.create_batch(20)
    content_version.changed()  # created outside the admin
    with django_assert_num_queries(1):
        client.get("/")


def test_every_page_has_skip_link_landmarks_and_footer_links(client, db):
    html = client.get("/").content.decode()
    assert 'href="#main"' in html
    assert '<main id="main"' in html
    assert "<header" in html and "<footer" in html and "<nav" in html
    assert reverse("portal:accessibility") in html
    assert reverse("portal:about") in html


def test_about_page_explains_the_method(client, db):
    html = client.get(reverse("portal:about")).content.decode()
    assert "Ett medborgarlöfte är ett löfte" in html
    assert "Lättläst" in html


def test_accessibility_statement_has_every_required_part(client, db):
    html = client.get(reverse("portal:accessibility")).content.decode()
    for part in [
        "Tillgänglighetsredogörelse",
        "delvis förenlig",
        "Innehåll som inte är tillgängligt",
        "Bedömningen gjordes senast",
        "uppdaterades senast",
        "självskattning",
        "https://www.digg.se/tdosanmalan",
        "<form",
    ]:
        assert part in html, part


def test_feedback_is_saved_for_officials(client, db):
    response = client.post(
        reverse("portal:accessibility"),
        {
            "kind": "problem",
            "page": "/osthammar/",
            "message": "Knappen går inte att nå med tangentbordet.",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:accessibility_thanks")
    feedback = AccessibilityFeedback.objects.get()
    assert feedback.page == "/osthammar/"
    assert "tangentbordet" in feedback.message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"kind": "problem", "message": ""}, "Skriv ett meddelande"),
        ({"kind": "problem", "message": "   "}, "Skriv ett meddelande"),
        ({"kind": "problem", "message": "hej"}, "Meddelandet är för kort"),
        ({"kind": "nonsense", "message": "Något är fel på sidan"}, "Välj ett giltigt alternativ"),
        ({"kind": "problem", "message": "x" * 5001}, "Meddelandet är för långt"),
        ({"kind": "problem", "message": "Något är fel\x00"}, "null"),
        (
            {"kind": "problem", "message": "Något är fel på sidan", "website": "spam"},
            "kunde inte skickas",
        ),
    ],
)
def test_feedback_form_rejects_bad_input_with_a_swedish_message(client, db, data, expected):
    response = client.post(reverse("portal:accessibility"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert expected.lower() in html.lower()
    assert 'id="error-summary"' in html
    assert not AccessibilityFeedback.objects.exists()


def test_healthz_answers_ok_with_a_database(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_without_a_database(client, db):
    with mock.patch("portal.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503


def test_lost_database_gives_a_swedish_503_page(client, db):
    with mock.patch(
        "portal.views.Municipality.objects.only", side_effect=OperationalError("connection lost")
    ):
        response = client.get("/")
    assert response.status_code == 503
    assert "tillfälligt otillgänglig" in response.content.decode()


def test_unknown_page_gives_a_swedish_404(client, db):
    response = client.get("/finns-inte/alls/")
    assert response.status_code == 404
    assert "Sidan finns inte" in response.content.decode()


def test_500_page_is_swedish_and_needs_no_database():
    from portal.errors import server_error

    response = server_error(None)
    assert response.status_code == 500
    assert "Ett fel uppstod" in response.content.decode()


def test_english_can_be_chosen_and_is_kept_in_a_cookie(client, db):
    response = client.get(reverse("portal:language", args=["en"]) + "?next=/om/")
    assert response.status_code == 302
    assert response["Location"] == "/om/"
    html = client.get("/om/").content.decode()
    assert '<html lang="en">' in html
    assert "About citizen pledges" in html


def test_language_switch_refuses_an_outside_redirect(client, db):
    response = client.get(reverse("portal:language", args=["en"]) + "?next=https://evil.example/")
    assert response["Location"] == "/"


def test_csp_header_is_strict(client, db):
    csp = client.get("/")["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp


def test_public_pages_do_not_touch_the_session(client, db):
    response = client.get("/")
    assert "sessionid" not in response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_swedish_is_spoken_whatever_the_browser_asks_for(client, db):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="sv">' in html


def test_a_lost_database_is_the_friendly_503_for_a_signed_in_official_too(client, db):
    """The session and the user are read by the middleware before any view
    (found by make loadtest: an official's export got Django's 500)."""
    from django.contrib.auth import get_user_model

    official = get_user_model().objects.create_user("official", password="secret-password-123")
    official.is_staff = True
    official.save()
    client.force_login(official)
    with mock.patch(
        "django.contrib.sessions.backends.db.SessionStore.load",
        side_effect=OperationalError("connection lost"),
    ):
        response = client.get("/admin/")
    assert response.status_code == 503
    assert "tillfälligt otillgänglig" in response.content.decode()
