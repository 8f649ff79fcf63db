"""HTTP helpers for views on the portal's hot paths."""

from __future__ import annotations

from functools import wraps

from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date

# What django.utils.cache.add_never_cache_headers writes into a response
# that has no caching headers yet.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def never_cache(view):
    """Django's `never_cache` for a synchronous view that answers often (the
    survey form takes every submission). A response without caching headers
    (the usual case) gets the same Expires and Cache-Control Django's would
    give it, set directly: Django's parses and rebuilds Cache-Control, some
    30 µs of a submission's CPU. Any other response goes to Django's."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        headers = response.headers
        if "Cache-Control" in headers or "Expires" in headers:
            add_never_cache_headers(response)
        else:
            headers["Expires"] = http_date()
            headers["Cache-Control"] = NEVER_CACHE
        return response

    return wrapper
