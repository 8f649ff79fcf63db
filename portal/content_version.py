"""The content version: one number for the whole site and one per
municipality, kept in the shared cache, that change whenever content a
resident can see changes.

Anything derived from public content and kept for reuse (a whole public
page in portal/page_cache.py, a survey's structure in surveys/views.py) is
stored under the version pair current when it was read, so one bump makes
every copy stale at once on every app server sharing the cache.

`changed()` is the one way to say "this changed", and the audit log is the
one place that says it for officials' changes (portal/audit.py `log_event`:
every change made in the admin or through a service is recorded there).
The demo loader says it for the data it writes. A change in a shell, or
what time does by itself (a scheduled pledge going public, a survey
opening), shows when the cached copies expire (PUBLIC_PAGE_CACHE_SECONDS).
"""

from __future__ import annotations

import time
from functools import partial

from django.core.cache import cache
from django.db.transaction import on_commit

from portal.models import Municipality

SITE_KEY = "pagever:site"


def municipality_key(slug: str) -> str:
    return f"pagever:m:{slug}"


def keys(slug: str) -> list[str]:
    """The cache keys of the (site, municipality) pair, for a caller that
    reads them together with something else in one round trip."""
    return [SITE_KEY, municipality_key(slug)]


def pair(found: dict, slug: str) -> tuple:
    """The (site, municipality) pair out of a `get_many` result over `keys`."""
    return (found.get(SITE_KEY), found.get(municipality_key(slug)))


def known(versions: tuple) -> bool:
    """Whether the cache gave both numbers: nothing may be reused or stored
    under a pair holding a None (the cache is away, portal/cache.py)."""
    return None not in versions


def versions(slug: str) -> tuple:
    """The current (site, municipality) pair: part of any cache key whose
    value must change when the municipality's content does."""
    write_unwritten()
    found = cache.get_many(keys(slug))
    missing = [key for key in keys(slug) if key not in found]
    if missing:
        # A version is never assumed: after a cache flush a new one starts,
        # so nothing derived from older data can match it.
        for key in missing:
            cache.add(key, time.time_ns(), None)
        found = cache.get_many(keys(slug))
    return pair(found, slug)


def changed(*municipalities) -> None:
    """New versions for these municipalities' content (Municipality objects
    or ids); with none named, for the whole site. Written when the current
    transaction commits (at once outside one): a page rendered before the
    commit, from the old data, is then stale, and one rendered after it
    reads the new data."""
    if not municipalities:
        names = [SITE_KEY]
    else:
        ids = {m.pk if isinstance(m, Municipality) else m for m in municipalities}
        slugs = Municipality.objects.filter(pk__in=ids).values_list("slug", flat=True)
        names = [municipality_key(slug) for slug in slugs]
    if names:
        on_commit(partial(_write, names))


# Version keys whose new number the cache did not take (it was away):
# written again by this process once the cache answers, so that copies
# stored before the change cannot outlive an outage that did not empty it.
_unwritten: set[str] = set()


def _write(names: list[str]) -> None:
    failed = cache.set_many(dict.fromkeys(names, time.time_ns()), None)
    _unwritten.difference_update(names)
    _unwritten.update(failed)


def write_unwritten() -> None:
    """Write the bumps the cache missed, if any (cheap when there are none)."""
    if _unwritten:
        _write(list(_unwritten))


def unwritten() -> frozenset[str]:
    return frozenset(_unwritten)


def forget_unwritten() -> None:
    """Drop the bumps still to write (tests, after clearing the cache)."""
    _unwritten.clear()
