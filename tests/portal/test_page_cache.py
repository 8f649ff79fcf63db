"""The whole-page cache of public pages: served without the database, and
never stale after a change."""

from django.urls import reverse

from portal import page_cache
from tests.factories import MunicipalityFactory


def test_a_cached_page_runs_no_query(client, osthammar, django_assert_num_queries):
    first = client.get("/")
    assert "X-Page-Cache" not in first
    with django_assert_num_queries(0):
        second = client.get("/")
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    # The headers the middleware adds are still there.
    assert "Content-Security-Policy" in second
    assert second["Content-Language"] == "sv"


def test_languages_are_cached_apart(client, osthammar):
    client.get("/")
    client.get(reverse("portal:language", args=["en"]) + "?next=/")
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html


def test_a_change_in_the_admin_shows_at_once(client, login, site_admin, osthammar):
    assert "Östhammars kommun" in client.get("/").content.decode()
    admin = login(site_admin)
    url = reverse("admin:portal_municipality_change", args=[osthammar.pk])
    data = {
        "name": "Östhammars kommun (ny)",
        "short_name": "Östhammar",
        "slug": "osthammar",
        "code": "0382",
        "invitation_retention_days": "30",
        "districts-TOTAL_FORMS": "0",
        "districts-INITIAL_FORMS": "0",
    }
    assert admin.post(url, data).status_code == 302
    admin.logout()
    from django.test import Client

    assert "Östhammars kommun (ny)" in Client().get("/").content.decode()


def test_invalidating_one_municipality_leaves_the_others_cached(client, osthammar, tierp):
    client.get("/osthammar/")
    client.get("/tierp/")
    page_cache.invalidate(osthammar)
    assert "X-Page-Cache" not in client.get("/osthammar/")
    assert client.get("/tierp/")["X-Page-Cache"] == "hit"


def test_a_site_wide_invalidation_reaches_every_page(client, osthammar):
    client.get("/osthammar/")
    MunicipalityFactory()
    page_cache.invalidate(None)
    assert "X-Page-Cache" not in client.get("/osthammar/")


def test_officials_and_query_strings_always_get_a_fresh_page(
    client, login, kommun_editor, osthammar
):
    client.get("/")
    assert "X-Page-Cache" not in client.get("/?x=1")
    official = login(kommun_editor)
    assert "X-Page-Cache" not in official.get("/")


def test_errors_are_not_cached(client, db):
    assert client.get("/finns-inte/").status_code == 404
    assert "X-Page-Cache" not in client.get("/finns-inte/")
