"""Whole-page cache for the public pages residents read.

A cached page costs one round trip to the cache (the page and its version
numbers in one `get_many`) and no database query. Officials (anyone with a
session cookie) and requests with a query string always get a fresh page.

Invalidation is by version: every page of a municipality is stored with
the version numbers current when it was rendered, and a change bumps the
municipality's version (or the site-wide one), so every stale copy misses
at once on every app server sharing the cache. Bumped by the admin (every
add, change or delete, through AuditedAdminMixin), the pledge services and
the survey services. Pages also expire after PUBLIC_PAGE_CACHE_SECONDS, so
time-driven changes (a scheduled pledge going public, a new year's pledge
becoming current, a survey opening) show within that time.
"""

from __future__ import annotations

import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import translation

SITE_VERSION = "pagever:site"


def _municipality_version_key(slug_or_id) -> str:
    return f"pagever:m:{slug_or_id}"


def invalidate(municipality=None) -> None:
    """New version for one municipality's pages (a Municipality, its slug
    or its id), or for the whole site when None."""
    if municipality is None:
        cache.set(SITE_VERSION, time.time_ns(), None)
        return
    from portal.models import Municipality

    if isinstance(municipality, Municipality):
        slugs = [municipality.slug]
    elif isinstance(municipality, int):
        slugs = list(Municipality.objects.filter(pk=municipality).values_list("slug", flat=True))
    else:
        slugs = [municipality]
    now = time.time_ns()
    cache.set_many({_municipality_version_key(slug): now for slug in slugs}, None)


def versions(slug: str) -> tuple:
    """The (site, municipality) version pair: part of any cache key whose
    value must change when the municipality's content does."""
    m_key = _municipality_version_key(slug)
    found = cache.get_many([SITE_VERSION, m_key])
    missing = [key for key in (SITE_VERSION, m_key) if key not in found]
    if missing:
        # A version is never assumed: after a cache flush a new one starts,
        # so nothing derived from older data can match it.
        for key in missing:
            cache.add(key, time.time_ns(), None)
        found = cache.get_many([SITE_VERSION, m_key])
    return (found[SITE_VERSION], found[m_key])


def cached_public_page(view):
    """Serve a public GET page from the cache when it is fresh. The view's
    `municipality` keyword (a slug) picks the municipality version."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if (
            request.method not in ("GET", "HEAD")
            or request.GET
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or settings.PUBLIC_PAGE_CACHE_SECONDS <= 0
        ):
            return view(request, *args, **kwargs)
        slug = kwargs.get("municipality") or ""
        key = f"page:{translation.get_language()}:{request.path}"
        m_key = _municipality_version_key(slug)
        found = cache.get_many([key, SITE_VERSION, m_key])
        versions = (found.get(SITE_VERSION, 0), found.get(m_key, 0))
        entry = found.get(key)
        if entry is not None and entry[0] == versions:
            response = HttpResponse(entry[1], content_type=entry[2])
            response["X-Page-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not getattr(request, "csrf_cookie_needs_update", False)
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        ):
            if hasattr(response, "render") and callable(response.render):
                response.render()
            cache.set(
                key,
                (versions, response.content, response["Content-Type"]),
                settings.PUBLIC_PAGE_CACHE_SECONDS,
            )
        return response

    return wrapper
