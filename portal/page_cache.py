"""Whole-page cache for the public pages residents read.

A cached page is served by PublicPageCacheMiddleware, placed right after
SecurityMiddleware, WhiteNoise and the request size limit: a hit costs one
round trip to the cache (the page and its version numbers in one
`get_many`), no database query, no URL resolution and none of the inner
middleware. The stored copy carries the headers that inner middleware put
on the response that was stored (Content-Language, Content-Security-Policy,
X-Frame-Options, Permissions-Policy, Content-Length, ...), so a hit looks
exactly like the miss that stored it; the outer SecurityMiddleware still
adds its headers to every hit. Officials (anyone with a session cookie),
requests with a query string and anything but GET or HEAD always get a
fresh page.

The views opt in with `cached_public_page`. On a miss the decorator takes
the middleware's lookup (no second round trip), renders the view with the
version numbers read before rendering, and marks the response as storable;
the middleware stores it on the way out, with its final headers, unless it
is not a plain 200, is streamed, sets a cookie (a CSRF token, a session),
varies on Cookie or touched the session (so it may depend on who asked).
Without the middleware nothing is cached (a settings test pins it in place).

Invalidation is by version (portal/content_version.py): every page of a
municipality is stored with the version pair current when it was
rendered, and any change residents may see gives the municipality (or the
site) a new version, so every stale copy misses at once on every app
server sharing the cache. The first request after a change renders the
page again; requests arriving while it renders get the earlier copy
(marked `X-Page-Cache: stale`), so a slow page does not take every worker
at once, and a page that is gone (a 404 now) drops its earlier copy. Pages
also expire after PUBLIC_PAGE_CACHE_SECONDS, so time-driven changes (a
scheduled pledge going public, a new year's pledge becoming current, a
survey opening) show within that time.

While the cache cannot be reached (portal/cache.py) the version numbers are
unknown: every page is rendered and nothing is stored or reused.

A page's municipality is its first path segment (every municipality URL is
`/<municipality>/...`); a view whose `municipality` keyword disagrees with
it is rendered fresh every time.
"""

from __future__ import annotations

import re
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.urls import Resolver404, get_resolver
from django.utils.cache import has_vary_header

from portal import content_version
from portal.memo import ProcessMemo
from portal.middleware import request_language

# Kept here for the callers that ask the page cache (surveys/views.py).
versions = content_version.versions
known = content_version.known

# The middleware's lookup, handed to the decorator on the request:
# (slug, the get_many result).
_LOOKUP = "_public_page_lookup"
# The decorator's permission to store, on the response: the version numbers
# read before the page was rendered.
_STORE = "_public_page_store"
# Set on every view the decorator wraps.
PUBLIC_PAGE_MARK = "cached_public_page"


def page_key(language: str, path: str) -> str:
    return f"page:{language}:{path}"


def path_slug(path_info: str) -> str:
    """The municipality slug a path would have: its first segment ("" for /)."""
    return path_info.split("/", 2)[1] if path_info.startswith("/") else ""


# The paths a public page can have (slugs and fixed words), short enough
# for any cache key. Anything else, e.g. a probe for /wp-admin.php or a path
# with spaces, goes down the chain without a cache lookup.
_PAGE_PATH = re.compile(r"/[-a-zA-Z0-9_/]{0,200}")


def cacheable(request) -> bool:
    """A request that may be answered from the cache (and whose page may be
    stored): GET or HEAD, no query string, no session cookie, a path a
    public page can have."""
    return (
        (request.method == "GET" or request.method == "HEAD")
        and not request.META.get("QUERY_STRING")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and settings.PUBLIC_PAGE_CACHE_SECONDS > 0
        and _PAGE_PATH.fullmatch(request.path) is not None
    )


# A stored page: (versions, slug, body, headers), the headers being the
# ones the client of the stored response got.
def _is_copy_of(entry, slug: str) -> bool:
    """A stored page of this municipality, current or not."""
    return type(entry) is tuple and len(entry) == 4 and entry[1] == slug


def _is_fresh(entry, slug: str, current: tuple) -> bool:
    return _is_copy_of(entry, slug) and entry[0] == current and known(current)


# How long the one request rendering a changed page keeps the others on the
# earlier copy at most (a worker killed while rendering leaves its lock).
RENDER_LOCK_SECONDS = 120


def _served(entry) -> HttpResponse:
    response = HttpResponse(entry[2], headers=entry[3])
    response["X-Page-Cache"] = "hit"
    return response


def _storable(request, response) -> bool:
    """A response that is the same for every visitor who could get it from
    the cache: a plain 200 that sets no cookie and depends on no session."""
    if (
        response.status_code != 200
        or response.streaming
        or response.cookies
        or getattr(request, "csrf_cookie_needs_update", False)
        or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        or has_vary_header(response, "Cookie")
    ):
        return False
    # The user comes from the session, so a page that never touched the
    # session cannot depend on who asked.
    session = getattr(request, "session", None)
    return session is None or not (session.accessed or session.modified or session.session_key)


def _stored_headers(response) -> dict:
    return {
        name: value
        for name, value in response.items()
        if name.lower() not in ("set-cookie", "x-page-cache")
    }


# What each path was found to be, per URLconf: the URLs do not change
# while the process runs, so a path is resolved here once, not per request.
_PUBLIC_PATHS = ProcessMemo(10_000)


def _is_public_page(path_info: str) -> bool:
    """Whether the view at this path is a `cached_public_page`: only those
    cost a cache round trip, not every form and every missing page."""
    key = (settings.ROOT_URLCONF, path_info)
    known = _PUBLIC_PATHS.get(key)
    if known is not None:
        return known
    try:
        match = get_resolver().resolve(path_info)
    except Resolver404:
        known = False
    else:
        known = getattr(match.func, PUBLIC_PAGE_MARK, False)
    _PUBLIC_PATHS.put(key, known)
    return known


# Recently served pages, in this process: a hit then fetches only the
# version numbers from the cache, not the page (tens of kilobytes; measured
# in bench/NOTES.md, "A cached public page"). A copy is used for
# LOCAL_SECONDS at most, so a page's time-driven changes show at most that
# much later than PUBLIC_PAGE_CACHE_SECONDS says; a change shows at once,
# as the versions are always checked.
LOCAL_SECONDS = 10
_LOCAL = ProcessMemo(64, LOCAL_SECONDS)


def forget_local_copies() -> None:
    """Drop this process' copies (tests, after clearing the cache)."""
    _LOCAL.clear()
    content_version.forget_unwritten()


class PublicPageCacheMiddleware:
    """Answer a cacheable request from the page cache before the rest of
    the middleware and the URL resolver run; store marked pages on the way
    out with their final headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not cacheable(request):
            return self.get_response(request)
        try:
            request.get_host()
        except DisallowedHost:
            # Left to CommonMiddleware, which refuses it as before.
            return self.get_response(request)
        if not _is_public_page(request.path_info):
            # Only pages that can be cached cost a lookup: a form, a 404 or
            # any other view goes down the chain as if this were not here.
            return self.get_response(request)
        content_version.write_unwritten()
        slug = path_slug(request.path_info)
        key = page_key(request_language(request), request.path)
        version_keys = content_version.keys(slug)
        local = _LOCAL.get(key)
        if local is not None:
            # This process has a recent copy: ask the cache only for the
            # version numbers, not for the whole page again.
            found = cache.get_many(version_keys)
            if _is_fresh(local, slug, content_version.pair(found, slug)):
                return _served(local)
        found = cache.get_many([key, *version_keys])
        entry = found.get(key)
        if entry is not None and _is_fresh(entry, slug, content_version.pair(found, slug)):
            _LOCAL.put(key, entry)
            return _served(entry)
        lock = None
        if _is_copy_of(entry, slug):
            # The page changed since it was stored. One request renders it
            # again; the others get the earlier copy for that long, so that
            # a slow page (the follow-up page over a million responses) does
            # not take every worker after each change.
            lock = f"{key}:rendering"
            if not cache.add(lock, 1, RENDER_LOCK_SECONDS):
                response = _served(entry)
                response["X-Page-Cache"] = "stale"
                return response
        setattr(request, _LOOKUP, (slug, found))
        try:
            response = self.get_response(request)
            rendered_under = getattr(response, _STORE, None)
            if (
                rendered_under is not None
                and known(rendered_under)
                and _storable(request, response)
            ):
                if hasattr(response, "render") and callable(response.render):
                    response.render()
                cache.set(
                    key,
                    (rendered_under, slug, response.content, _stored_headers(response)),
                    settings.PUBLIC_PAGE_CACHE_SECONDS,
                )
            elif lock is not None:
                # The page is gone or not the same for everyone any more
                # (a withdrawn pledge is a 404): its earlier copy must not
                # be served again.
                cache.delete(key)
        finally:
            if lock is not None:
                cache.delete(lock)
        return response


def cached_public_page(view):
    """Mark a public GET page for PublicPageCacheMiddleware, which serves
    and stores it; the view's `municipality` keyword, if any, must be the
    first path segment (the middleware's slug). Without the middleware's
    lookup on the request (a request that may not be cached, or no
    middleware) the page is simply rendered."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        lookup = getattr(request, _LOOKUP, None)
        if lookup is None:
            return view(request, *args, **kwargs)
        slug, found = lookup
        if kwargs.get("municipality", slug) != slug:
            return view(request, *args, **kwargs)
        # Read before rendering: a change during rendering bumps a version,
        # so the stored copy is stale at once, never wrong.
        current = content_version.pair(found, slug)
        if not known(current):
            current = versions(slug)
        response = view(request, *args, **kwargs)
        setattr(response, _STORE, current)
        return response

    setattr(wrapper, PUBLIC_PAGE_MARK, True)
    return wrapper
