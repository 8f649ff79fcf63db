"""Django's Redis cache backend, keeping one redis-py client per server and
going on without Redis when it cannot be reached.

Django's backend builds a new `redis.Redis` object for every cache call,
and redis-py fills a table of some 170 response callbacks each time it
builds one: about a quarter of a millisecond per call, more than the round
trip to Redis itself, on every cached page and every survey submission.
The client holds no connection of its own (those are in the pool, which
Django already keeps per server) and is safe to share between threads, so
one per server does the same work.

Redis holds only what can be rebuilt (whole pages, survey structures, the
page version numbers, rate-limit counters), so an outage must not take the
portal down with it: when Redis cannot be reached (refused, reset, timed
out) a read is a miss and a write is dropped, and for RETRY_SECONDS this
process does not try again, so that requests do not each wait for a dead
server. Everything is then rendered from the database. The outage is logged
once per attempt. `incr`, `decr` and `clear` still raise: a counter that
cannot count and a clear that did not happen are the caller's to decide.
What the callers do about it: portal/page_cache.py (version numbers that
cannot be read are unknown, and nothing is reused under them; a version
bump that could not be written is written again once Redis answers) and
the rate limit in surveys/security.py, a command of its own run through
`soft` (not counted).
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What "Redis cannot be reached" is: refused or broken connections (and
# Redis still loading its data) and timeouts. Anything else (a wrong
# command, a read-only replica) is a fault to see, not an outage.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
RETRY_SECONDS = 5.0

# Until when each server (its LOCATION) is left alone, per process.
_unreachable_until: dict[tuple, float] = {}


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
        self._location = tuple(self._servers)

    def reachable(self) -> bool:
        """False for RETRY_SECONDS after Redis could not be reached."""
        until = _unreachable_until.get(self._location)
        return until is None or until <= time.monotonic()

    def _away(self, exc: Exception) -> None:
        """Note that Redis could not be reached: calls are not tried for
        RETRY_SECONDS (the caller goes on without the cache)."""
        _unreachable_until[self._location] = time.monotonic() + RETRY_SECONDS
        # The message names the address, never the password.
        logger.error(
            "Redis cannot be reached (%s): going on without the cache, next attempt in %g s",
            exc,
            RETRY_SECONDS,
        )

    def _back(self) -> None:
        if _unreachable_until.pop(self._location, None) is not None:
            logger.warning("Redis answers again: the cache is in use")

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self.soft(super().add, False, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self.soft(super().get, default, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self.soft(super().set, None, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self.soft(super().touch, False, key, timeout, version)

    def delete(self, key, version=None):
        return self.soft(super().delete, False, key, version)

    def get_many(self, keys, version=None):
        return self.soft(super().get_many, {}, keys, version)

    def has_key(self, key, version=None):
        return self.soft(super().has_key, False, key, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        """The keys that were not set: all of them when Redis is away."""
        return self.soft(super().set_many, list(data), data, timeout, version)

    def delete_many(self, keys, version=None):
        self.soft(super().delete_many, None, keys, version)

    def soft(self, call, failed, *args):
        """`call(*args)`, or `failed` when Redis cannot be reached (or was
        not, less than RETRY_SECONDS ago). For commands the cache API has
        not, e.g. the survey's rate-limit counter."""
        if not self.reachable():
            return failed
        try:
            result = call(*args)
        except UNREACHABLE as exc:
            self._away(exc)
            return failed
        self._back()
        return result
