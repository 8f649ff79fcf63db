"""Django's Redis cache backend, keeping one redis-py client per server.

Django's backend builds a new `redis.Redis` object for every cache call,
and redis-py fills a table of some 170 response callbacks each time it
builds one: about a quarter of a millisecond per call, more than the round
trip to Redis itself, on every cached page and every survey submission.
The client holds no connection of its own (those are in the pool, which
Django already keeps per server) and is safe to share between threads, so
one per server does the same work.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


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
