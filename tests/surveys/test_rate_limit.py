"""The survey's per-client counter, on the real Redis cache as in
production (one round trip) and on the portable path the tests use."""

from unittest import mock

import pytest
from django.core.cache import caches
from django.test import override_settings
from redis.commands.core import Script

from surveys import security
from surveys.models import Response
from tests.surveys.conftest import valid_data


def test_the_counter_counts_and_expires_on_redis(redis_cache):
    assert isinstance(redis_cache, security.RedisCache)
    assert [security._count("k", 60) for _ in range(3)] == [1, 2, 3]
    assert security._count("other", 60) == 1
    client = redis_cache._cache.get_client(redis_cache.make_and_validate_key("k"), write=True)
    ttl = client.ttl(redis_cache.make_and_validate_key("k"))
    assert 0 < ttl <= 60
    # Counting again does not push the window's end further away.
    security._count("k", 3600)
    assert client.ttl(redis_cache.make_and_validate_key("k")) <= 60
    # The value stays readable through the cache API.
    assert redis_cache.get("k") == 4


def redis_client(backend):
    return backend._cache.get_client(backend.make_and_validate_key("k"), write=True)


def test_the_counter_runs_on_a_pooled_connection_without_redis_pys_command_path(redis_cache):
    security._count("k", 60)  # the script is known to Redis from here on
    with mock.patch.object(Script, "__call__", autospec=True) as script_path:
        assert [security._count("k", 60) for _ in range(3)] == [2, 3, 4]
    script_path.assert_not_called()


def test_the_counter_counts_on_after_redis_forgot_the_script(redis_cache):
    assert security._count("k", 60) == 1
    redis_client(redis_cache).script_flush()  # as after a restart
    assert [security._count("k", 60) for _ in range(2)] == [2, 3]


def test_the_counter_counts_on_after_redis_closed_its_connection(redis_cache):
    assert security._count("k", 60) == 1
    redis_client(redis_cache).client_kill_filter(_type="normal", skipme=True)
    # The command never reached Redis: counted once, on a new connection.
    assert [security._count("k", 60) for _ in range(2)] == [2, 3]


class Sock:
    """A socket that hands out its replies a byte at a time, or fails."""

    def __init__(self, real, fail=None):
        self.real, self.fail = real, fail

    def __getattr__(self, name):
        return getattr(self.real, name)

    def recv(self, size):
        if self.fail:
            raise self.fail
        return self.real.recv(1)


def test_a_reply_in_pieces_is_read_whole(redis_cache):
    assert security._count("k", 60) == 1
    connection = security._held.connection
    connection._sock = Sock(connection._sock)
    assert [security._count("k", 60) for _ in range(3)] == [2, 3, 4]


@pytest.mark.parametrize(
    ("failure", "raised"),
    [(TimeoutError("timed out"), None), (KeyboardInterrupt(), KeyboardInterrupt)],
)
def test_a_reply_left_unread_never_answers_the_next_command(redis_cache, failure, raised):
    assert security._count("k", 60) == 1
    connection = security._held.connection
    connection._sock = Sock(connection._sock, fail=failure)
    if raised:
        with pytest.raises(raised):
            security._count("k", 60)
    else:
        # The command reached Redis before the reply was lost: counted twice.
        assert security._count("k", 60) == 3
    assert security._held.connection is None
    assert redis_cache.get("k") == (3 if raised is None else 2)
    assert security._count("k", 60) == redis_cache.get("k")


def test_a_forked_worker_takes_its_own_connection(redis_cache):
    assert security._count("k", 60) == 1
    kept = security._held.connection
    security._held.pid = -1  # as seen from a child after fork
    assert security._count("k", 60) == 2
    assert security._held.connection is not kept


def test_the_counter_on_other_cache_backends():
    caches["default"].delete("portable")
    assert [security._count("portable", 60) for _ in range(3)] == [1, 2, 3]


@override_settings(SURVEY_RATE_LIMIT="2/h")
def test_the_survey_refuses_the_third_submission_on_redis(redis_cache, client, survey):
    for _ in range(2):
        assert client.post(survey.get_absolute_url(), valid_data(client, survey)).status_code == 302
    assert client.post(survey.get_absolute_url(), valid_data(client, survey)).status_code == 429
    assert Response.objects.count() == 2
