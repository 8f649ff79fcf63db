"""The whole-page cache of public pages: served without the database, and
after a change stale only to requests that arrive while one request renders
the page again."""

from unittest import mock

import pytest
from django.urls import reverse

from portal import content_version, memo, page_cache
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


def test_a_change_in_one_municipality_leaves_the_others_cached(client, osthammar, tierp):
    client.get("/osthammar/")
    client.get("/tierp/")
    content_version.changed(osthammar)
    assert "X-Page-Cache" not in client.get("/osthammar/")
    assert client.get("/tierp/")["X-Page-Cache"] == "hit"


def test_a_site_wide_change_reaches_every_page(client, osthammar):
    client.get("/osthammar/")
    MunicipalityFactory()
    content_version.changed()
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


# The middleware in front of the chain (portal.page_cache.PublicPageCacheMiddleware)

SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "Permissions-Policy",
    "Content-Language",
    "X-Content-Type-Options",
    "Referrer-Policy",
)


def _headers(response) -> dict:
    return {k: v for k, v in response.items() if k != "X-Page-Cache"}


def test_a_hit_is_answered_before_the_session_the_url_resolver_and_the_view(
    client, osthammar, django_assert_num_queries
):
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.core.handlers.base import BaseHandler

    client.get("/osthammar/")
    with (
        mock.patch.object(BaseHandler, "resolve_request", autospec=True) as resolve,
        mock.patch.object(SessionMiddleware, "process_request", autospec=True) as session,
        mock.patch("pledges.views.render") as render,
        django_assert_num_queries(0),
    ):
        response = client.get("/osthammar/")
    assert response["X-Page-Cache"] == "hit"
    assert not resolve.called and not session.called and not render.called


def test_a_miss_costs_the_cache_one_lookup_not_two(client, osthammar):
    from django.core.cache.backends.locmem import LocMemCache

    client.get("/")
    content_version.changed()  # the stored copy is now stale
    with mock.patch.object(
        LocMemCache, "get_many", autospec=True, side_effect=LocMemCache.get_many
    ) as get_many:
        response = client.get("/")
    assert "X-Page-Cache" not in response
    assert get_many.call_count == 1
    assert client.get("/")["X-Page-Cache"] == "hit"


@pytest.mark.parametrize("path", ["/", "/om/", "/osthammar/"])
def test_a_hit_carries_the_same_headers_as_the_miss_that_stored_it(client, osthammar, path):
    miss = client.get(path)
    hit = client.get(path)
    assert "X-Page-Cache" not in miss and hit["X-Page-Cache"] == "hit"
    assert _headers(hit) == _headers(miss)
    for header in SECURITY_HEADERS:
        assert header in hit, header
    assert hit["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in hit["Content-Security-Policy"]
    assert hit["Content-Length"] == str(len(hit.content))
    assert hit.content == miss.content
    assert not hit.cookies


@pytest.mark.parametrize(
    ("cookie", "language"), [("en", "en"), ("sv", "sv"), ("de", "sv"), (None, "sv")]
)
def test_each_language_gets_its_own_copy(client, osthammar, settings, cookie, language):
    from django.test import Client

    def visitor(code):
        other = Client()
        if code:
            other.cookies[settings.LANGUAGE_COOKIE_NAME] = code
        return other

    # Fill the cache in both languages first, so a mix-up would show.
    for code in ("sv", "en"):
        visitor(code).get("/")
    response = visitor(cookie).get("/")
    assert response["X-Page-Cache"] == "hit"
    assert response["Content-Language"] == language
    assert f'<html lang="{language}">' in response.content.decode()


def test_a_session_cookie_or_a_query_string_is_never_served_from_the_cache(
    client, osthammar, settings
):
    from django.test import Client

    client.get("/osthammar/")
    assert client.get("/osthammar/")["X-Page-Cache"] == "hit"
    assert "X-Page-Cache" not in client.get("/osthammar/?utm=x")
    assert "X-Page-Cache" not in client.get("/osthammar/?x")
    official = Client()
    official.cookies[settings.SESSION_COOKIE_NAME] = "some-session"
    assert "X-Page-Cache" not in official.get("/osthammar/")
    assert "X-Page-Cache" not in official.head("/osthammar/")


def test_a_post_is_never_served_from_the_cache(client, osthammar):
    client.get("/om/")
    response = client.post("/om/")
    assert "X-Page-Cache" not in response
    assert client.get("/om/")["X-Page-Cache"] == "hit"


def test_head_is_served_from_the_cache_and_fills_it(client, osthammar):
    head = client.head("/osthammar/")
    assert head.status_code == 200 and "X-Page-Cache" not in head
    get = client.get("/osthammar/")
    assert get["X-Page-Cache"] == "hit"
    assert get["Content-Length"] == str(len(get.content)) == head["Content-Length"]
    again = client.head("/osthammar/")
    assert again["X-Page-Cache"] == "hit"
    assert again.content == b""
    assert _headers(again) == _headers(head)


def test_a_not_found_page_is_not_stored(client, db):
    from django.core.cache import cache

    assert client.get("/finns-inte/").status_code == 404
    assert cache.get(page_cache.page_key("sv", "/finns-inte/")) is None
    assert client.get("/finns-inte/").status_code == 404


def test_an_unknown_host_is_refused_even_for_a_cached_page(client, osthammar):
    client.get("/")
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "X-Page-Cache" not in response


def test_a_copy_in_an_older_format_is_ignored(client, osthammar):
    from django.core.cache import cache

    client.get("/")
    cache.set(page_cache.page_key("sv", "/"), ((1, 1), b"old page", "text/html"))
    response = client.get("/")
    assert "X-Page-Cache" not in response
    assert b"old page" not in response.content


def test_without_the_middleware_pages_are_rendered_fresh(client, osthammar, settings):
    """The decorator only prepares what the middleware stores: removed from
    MIDDLEWARE, nothing is cached and every page shows the current data."""
    from django.core.cache import cache

    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "portal.page_cache.PublicPageCacheMiddleware"
    ]
    first = client.get("/osthammar/")
    osthammar.name = "Östhammars kommun (ändrad)"
    osthammar.save()
    second = client.get("/osthammar/")  # no invalidation needed
    assert "X-Page-Cache" not in first and "X-Page-Cache" not in second
    assert "Östhammars kommun (ändrad)" in second.content.decode()
    assert cache.get(page_cache.page_key("sv", "/osthammar/")) is None


def test_the_middleware_sits_right_after_the_request_size_limit(settings):
    middleware = settings.MIDDLEWARE
    position = middleware.index("portal.page_cache.PublicPageCacheMiddleware")
    assert middleware[position - 1] == "portal.middleware.RequestSizeLimitMiddleware"
    assert position < middleware.index("django.contrib.sessions.middleware.SessionMiddleware")


# Responses that must never be stored (test views in page_cache_urls.py)


@pytest.mark.urls("tests.portal.page_cache_urls")
@pytest.mark.parametrize("path", ["/cookie/", "/csrf/", "/user/", "/stream/"])
def test_a_page_that_sets_a_cookie_streams_or_reads_the_session_is_not_stored(client, db, path):
    from django.core.cache import cache

    from tests.portal import page_cache_urls

    page_cache_urls.rendered.clear()
    first = client.get(path)
    second = client.get(path)
    assert first.status_code == second.status_code == 200
    assert "X-Page-Cache" not in second
    assert page_cache_urls.rendered == [path, path]
    assert cache.get(page_cache.page_key("sv", path)) is None
    assert "Set-Cookie" not in str(second.serialize_headers())


@pytest.mark.urls("tests.portal.page_cache_urls")
def test_a_change_while_the_page_renders_leaves_the_copy_stale_not_wrong(client, db):
    from tests.portal import page_cache_urls

    page_cache_urls.rendered.clear()
    client.get("/changes/")
    second = client.get("/changes/")
    assert "X-Page-Cache" not in second  # stored with the versions read before
    assert page_cache_urls.rendered == ["/changes/", "/changes/"]


@pytest.mark.urls("tests.portal.page_cache_urls")
def test_a_plain_test_page_is_stored_and_served(client, db):
    from tests.portal import page_cache_urls

    page_cache_urls.rendered.clear()
    client.get("/plain/")
    assert client.get("/plain/")["X-Page-Cache"] == "hit"
    assert page_cache_urls.rendered == ["/plain/"]


def test_pages_that_are_not_cached_cost_no_cache_lookup(client, osthammar):
    """The survey form, the accessibility page, a 404: none of them is a
    cached public page, so the middleware does not ask the cache."""
    from django.core.cache.backends.locmem import LocMemCache

    with mock.patch.object(LocMemCache, "get_many", autospec=True) as get_many:
        assert client.get("/tillganglighet/").status_code == 200
        assert client.get("/osthammar/finns-inte/").status_code == 404
    assert not get_many.called


def test_a_path_no_public_page_can_have_is_not_looked_up(client, db):
    from django.core.cache.backends.locmem import LocMemCache

    with mock.patch.object(LocMemCache, "get_many", autospec=True) as get_many:
        for path in ["/a b/", "/" + "x" * 300 + "/", "/wp-login.php", "/%C3%B6/"]:
            assert client.get(path).status_code == 404
    assert not get_many.called


def test_a_repeated_hit_fetches_only_the_version_numbers(client, osthammar):
    from django.core.cache.backends.locmem import LocMemCache

    client.get("/osthammar/")  # miss: stored
    client.get("/osthammar/")  # hit: this process keeps a copy
    with mock.patch.object(
        LocMemCache, "get_many", autospec=True, side_effect=LocMemCache.get_many
    ) as get_many:
        response = client.get("/osthammar/")
    assert response["X-Page-Cache"] == "hit"
    assert get_many.call_count == 1
    asked = get_many.call_args.args[1]
    assert sorted(asked) == sorted([content_version.SITE_KEY, "pagever:m:osthammar"])


def test_this_process_copy_gives_way_to_a_change_and_to_time(client, osthammar):
    client.get("/osthammar/")
    assert client.get("/osthammar/")["X-Page-Cache"] == "hit"
    osthammar.name = "Östhammars kommun (ändrad)"
    osthammar.save()
    content_version.changed(osthammar)
    response = client.get("/osthammar/")
    assert "X-Page-Cache" not in response
    assert "Östhammars kommun (ändrad)" in response.content.decode()
    # The copy is kept LOCAL_SECONDS at most: then the page comes from the
    # shared cache again.
    assert client.get("/osthammar/")["X-Page-Cache"] == "hit"
    later = memo.time.monotonic() + page_cache.LOCAL_SECONDS + 1
    from django.core.cache.backends.locmem import LocMemCache

    with (
        mock.patch.object(memo.time, "monotonic", return_value=later),
        mock.patch.object(
            LocMemCache, "get_many", autospec=True, side_effect=LocMemCache.get_many
        ) as get_many,
    ):
        assert client.get("/osthammar/")["X-Page-Cache"] == "hit"
    assert "page:sv:/osthammar/" in get_many.call_args.args[1]


# --- after a change: one request renders, the others get the earlier copy ---


def _render_lock(path: str) -> str:
    return page_cache.page_key("sv", path) + ":rendering"


def test_while_a_changed_page_is_rendered_others_get_the_earlier_copy(client, osthammar):
    from django.core.cache import cache

    earlier = client.get("/osthammar/").content
    osthammar.name = "Östhammars kommun (ny)"
    osthammar.save()
    content_version.changed(osthammar)
    assert cache.add(_render_lock("/osthammar/"), 1, 60)  # another request is rendering it
    waiting = client.get("/osthammar/")
    assert waiting["X-Page-Cache"] == "stale"
    assert waiting.content == earlier
    cache.delete(_render_lock("/osthammar/"))
    fresh = client.get("/osthammar/")
    assert "X-Page-Cache" not in fresh
    assert "Östhammars kommun (ny)" in fresh.content.decode()
    assert cache.get(_render_lock("/osthammar/")) is None  # released after rendering
    assert client.get("/osthammar/")["X-Page-Cache"] == "hit"


def test_a_page_that_is_gone_drops_its_earlier_copy(client, osthammar, settings):
    from django.core.cache import cache

    from tests.portal import page_cache_urls

    settings.ROOT_URLCONF = "tests.portal.page_cache_urls"
    assert client.get("/gone/").content == b"here"
    assert cache.get(page_cache.page_key("sv", "/gone/")) is not None
    content_version.changed()
    page_cache_urls.gone.append(True)
    try:
        assert client.get("/gone/").status_code == 404
        assert cache.get(page_cache.page_key("sv", "/gone/")) is None
        # Nobody is served the earlier copy of a page that is gone.
        assert client.get("/gone/").status_code == 404
    finally:
        page_cache_urls.gone.clear()


def test_the_render_lock_is_released_when_the_view_fails(client, db, settings):
    from django.core.cache import cache

    from tests.portal import page_cache_urls

    settings.ROOT_URLCONF = "tests.portal.page_cache_urls"
    assert client.get("/fails/").status_code == 200
    content_version.changed()
    page_cache_urls.failing.append(True)
    try:
        with pytest.raises(RuntimeError):
            client.get("/fails/")
    finally:
        page_cache_urls.failing.clear()
    assert cache.get(_render_lock("/fails/")) is None
    assert client.get("/fails/").content == b"fine"
