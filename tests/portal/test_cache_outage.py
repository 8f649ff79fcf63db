"""The portal without Redis: public pages, the survey and the admin keep
working while the cache cannot be reached, a dead server is not asked on
every call, and a version bump the cache missed is written once it answers
again, so no page from before a change outlives the outage."""

import logging
import socket
import time
from io import StringIO
from unittest import mock

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bench.run import discover_pages
from portal import cache as portal_cache
from portal import content_version
from surveys import security
from surveys.models import Response, Survey
from tests.surveys.conftest import valid_data


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def away_cache():
    """The default cache on a Redis address where nothing listens."""
    settings = {
        "default": {
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=settings):
        yield caches["default"]
    portal_cache._unreachable_until.clear()


def test_reads_miss_and_writes_are_dropped_while_redis_is_away(away_cache, caplog):
    with caplog.at_level(logging.ERROR, logger="portal.cache"):
        assert away_cache.get("k") is None
    assert "Redis cannot be reached" in caplog.text
    assert away_cache.get("k", "default") == "default"
    assert away_cache.get_many(["a", "b"]) == {}
    assert away_cache.add("k", 1) is False
    assert away_cache.set("k", 1) is None
    assert away_cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert away_cache.delete("k") is False
    assert away_cache.delete_many(["a"]) is None
    assert away_cache.touch("k") is False
    assert away_cache.has_key("k") is False
    assert away_cache.get_or_set("k", lambda: "computed") == "computed"


def test_after_a_failure_redis_is_left_alone_then_tried_again(redis_cache, caplog):
    redis_cache.set("k", "v")
    with mock.patch.object(Redis, "get", side_effect=RedisConnectionError("refused")) as get:
        with caplog.at_level(logging.ERROR, logger="portal.cache"):
            assert redis_cache.get("k") is None
        assert get.call_count == 1
        assert "refused" in caplog.text
        # Within RETRY_SECONDS no call reaches redis-py at all.
        assert redis_cache.get("k") is None
        assert redis_cache.get_many(["k"]) == {}
        assert get.call_count == 1
        assert redis_cache.reachable() is False
    later = time.monotonic() + portal_cache.RETRY_SECONDS + 1
    with (
        mock.patch.object(portal_cache.time, "monotonic", return_value=later),
        caplog.at_level(logging.WARNING, logger="portal.cache"),
    ):
        assert redis_cache.get("k") == "v"
    assert "Redis answers again" in caplog.text
    assert redis_cache.reachable() is True


def test_a_timeout_counts_as_away_and_other_errors_are_raised(redis_cache):
    with mock.patch.object(Redis, "mget", side_effect=RedisTimeoutError("timed out")):
        assert redis_cache.get_many(["k"]) == {}
    assert redis_cache.reachable() is False
    portal_cache._unreachable_until.clear()
    # A fault that is not an outage (a wrong command, a read-only replica)
    # is not hidden.
    with (
        mock.patch.object(Redis, "get", side_effect=ResponseError("READONLY")),
        pytest.raises(ResponseError),
    ):
        redis_cache.get("k")
    assert redis_cache.reachable() is True


def test_the_rate_limit_does_not_count_while_redis_is_away(away_cache, settings):
    assert security._count("k", 60) == 0
    assert away_cache.reachable() is False
    # Not tried again at once: no connection attempt per submission.
    with mock.patch.object(security, "_count_on_redis") as on_redis:
        assert security._count("k", 60) == 0
    on_redis.assert_not_called()


def test_the_rate_limit_counts_again_once_redis_answers(redis_cache):
    with mock.patch.object(
        security, "_count_on_connection", side_effect=RedisConnectionError("reset")
    ):
        assert security._count("k", 60) == 0
    assert redis_cache.reachable() is False
    later = time.monotonic() + portal_cache.RETRY_SECONDS + 1
    with mock.patch.object(portal_cache.time, "monotonic", return_value=later):
        assert [security._count("k", 60) for _ in range(2)] == [1, 2]


@pytest.mark.django_db
def test_public_pages_the_survey_and_the_admin_work_while_redis_is_away(
    away_cache, login, site_admin
):
    call_command("load_demo", stdout=StringIO())
    pages = discover_pages()
    assert {"home", "pledge", "follow-up", "results"} <= pages.keys()
    client = Client()
    for name, path in pages.items():
        for _ in range(2):  # rendered every time: nothing is stored
            response = client.get(path)
            assert response.status_code == 200, name
            assert "X-Page-Cache" not in response, name
    survey = Survey.objects.open_now().get(municipality__slug="osthammar")
    before = Response.objects.count()
    data = valid_data(client, survey)
    response = client.post(survey.get_absolute_url(), data)
    assert response.status_code == 302
    assert Response.objects.count() == before + 1
    assert client.get(response["Location"]).status_code == 200  # the thanks page
    # The same form sent again is recognised by its token, not the cache.
    again = client.post(survey.get_absolute_url(), data)
    assert again.status_code == 302 and again["Location"].endswith("?redan=1")
    assert Response.objects.count() == before + 1
    # An official's change is saved; the page shows it at once.
    admin = login(site_admin)
    municipality = survey.municipality
    url = reverse("admin:portal_municipality_change", args=[municipality.pk])
    assert admin.get(url).status_code == 200
    assert "Östhammars kommun (ny)" not in client.get("/").content.decode()
    data = {
        "name": "Östhammars kommun (ny)",
        "short_name": municipality.short_name,
        "slug": municipality.slug,
        "code": municipality.code,
        "invitation_retention_days": "30",
        "districts-TOTAL_FORMS": "0",
        "districts-INITIAL_FORMS": "0",
    }
    response = admin.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert "Östhammars kommun (ny)" in client.get("/").content.decode()


def test_a_bump_the_cache_missed_is_written_once_it_answers(redis_cache, client, osthammar):
    client.get("/osthammar/")
    assert client.get("/osthammar/")["X-Page-Cache"] == "hit"
    # A change while the cache does not answer (but keeps its contents).
    with mock.patch.object(Redis, "pipeline", side_effect=RedisConnectionError("reset")):
        content_version.changed(osthammar)
    assert redis_cache.reachable() is False
    osthammar.name = "Östhammars kommun (ändrad)"
    osthammar.save()
    later = time.monotonic() + portal_cache.RETRY_SECONDS + 1
    with mock.patch.object(portal_cache.time, "monotonic", return_value=later):
        response = client.get("/osthammar/")
    # The copy from before the change is not served once the cache answers.
    assert "X-Page-Cache" not in response
    assert "Östhammars kommun (ändrad)" in response.content.decode()
    assert not content_version.unwritten()


@pytest.mark.django_db
def test_the_survey_form_is_read_afresh_while_the_versions_are_unknown(away_cache, client):
    call_command("load_demo", stdout=StringIO())
    survey = Survey.objects.open_now().get(municipality__slug="osthammar")
    assert client.get(survey.get_absolute_url()).status_code == 200
    # Without version numbers to check a copy against, a change made in the
    # meantime (outside the admin, which could not bump them anyway) shows
    # on the next request, not after the process' minute-long memory.
    question = survey.questions.in_form_order()[0]
    Survey.objects.filter(pk=survey.pk).update(title="Trygghetsenkät (ändrad)")
    texts = {**question.texts, "sv": "Hur trygg känner du dig nu?"}
    type(question).objects.filter(pk=question.pk).update(texts=texts)
    html = client.get(survey.get_absolute_url()).content.decode()
    assert "Trygghetsenkät (ändrad)" in html
    assert "Hur trygg känner du dig nu?" in html
