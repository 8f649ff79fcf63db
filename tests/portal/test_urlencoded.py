"""A POSTed form parsed by portal.middleware.parse_urlencoded: the same
QueryDict Django builds, and Django's answers for every body it refuses."""

from unittest import mock

import pytest
from django.http import HttpResponse, QueryDict
from django.test import Client
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.middleware import parse_urlencoded
from portal.urls import urlpatterns as portal_urlpatterns

seen = []


@csrf_exempt
def echo(request):
    seen.append(request)
    return HttpResponse(repr(sorted(request.POST.lists())))


urlpatterns = [path("echo/", echo), *portal_urlpatterns]


def django_parse(body: bytes) -> QueryDict:
    return QueryDict(body, encoding="utf-8")


def assert_same(body: bytes):
    ours, theirs = parse_urlencoded(body), django_parse(body)
    assert type(ours) is QueryDict
    assert list(ours.lists()) == list(theirs.lists())
    assert ours.encoding == theirs.encoding == "utf-8"
    with pytest.raises(AttributeError, match="immutable"):
        ours["x"] = "y"
    with pytest.raises(AttributeError, match="immutable"):
        ours.appendlist("x", "y")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"&",
        b"a",
        b"a=",
        b"=b",
        b"=",
        b"a=1&a=2&b=3&a=4",
        b"&&a=1&&b=&c&",
        b"a=b=c",
        b"a+b=c+d&%61=%62",
        b"q=%C3%B6stra+Sj%C3%B6n",
        b"q=\xc3\xb6stra",  # raw UTF-8
        b"q=\xf6stra",  # not UTF-8: read as ISO-8859-1
        b"q=%F6stra",  # an escape that is not UTF-8: replaced
        b"q=%&r=%4&s=%zz&t=%%41",  # broken escapes stay as they are
        b"a;b=1&c=2",  # ; is no separator
        b"token=abc%3Adef%3Aghi&csrfmiddlewaretoken=XyZ",
        b"a=%2B+%26%3D",
    ],
)
def test_the_same_querydict_as_django(body):
    assert_same(body)


FIELD_PART = st.lists(
    st.sampled_from([*"ab_=+%&;2FfC3öé \x00", "%41", "%C3%B6", "%F6", "%zz"]), max_size=8
).map("".join)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(FIELD_PART, st.booleans(), FIELD_PART), max_size=8),
    st.sampled_from(["utf-8", "iso-8859-1"]),
)
def test_the_same_querydict_as_django_for_any_body(fields, encoding):
    text = "&".join(f"{name}={value}" if eq else name for name, eq, value in fields)
    assert_same(text.encode(encoding))


def test_too_many_fields_are_left_to_django(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    assert_same(b"a=1&b=2&c=3")
    assert parse_urlencoded(b"a=1&b=2&c=3&d=4") is None
    assert parse_urlencoded(b"a=1&b=2&&") is None  # Django counts empty fields too
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = None
    assert_same(b"&".join(b"f=%d" % n for n in range(2000)))


# Through the middleware


@pytest.fixture
def echo_urls(settings):
    settings.ROOT_URLCONF = __name__
    seen.clear()


def post(client, body: bytes, content_type="application/x-www-form-urlencoded"):
    return client.generic("POST", "/echo/", body, content_type=content_type)


def test_the_view_gets_the_parsed_form_and_can_still_read_the_body(client, echo_urls):
    with mock.patch("portal.middleware.parse_urlencoded", wraps=parse_urlencoded) as parse:
        response = post(client, b"a=1&b=%C3%A5&a=2")
    assert response.status_code == 200
    parse.assert_called_once_with(b"a=1&b=%C3%A5&a=2")
    request = seen[0]
    assert sorted(request.POST.lists()) == [("a", ["1", "2"]), ("b", ["å"])]
    assert request.body == b"a=1&b=%C3%A5&a=2"
    assert not request.FILES
    assert django_parse(request.body) == request.POST


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        # Django's own answers, unchanged by the middleware:
        (b"a=1&b=2&c=3&d=4", "application/x-www-form-urlencoded", 400),  # too many fields
        (b"a=1", "application/x-www-form-urlencoded; charset=latin-1", 400),  # not UTF-8
        (b"a=" + b"x" * 200, "application/x-www-form-urlencoded", 400),  # over the memory limit
        (b"a=1", "text/plain", 200),  # not a form: an empty POST
    ],
)
def test_bodies_django_refuses_get_djangos_answer(
    echo_urls, settings, body, content_type, expected
):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    with_it = post(Client(raise_request_exception=False), body, content_type)
    # A client loads the middleware once: a new one for the other setting.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "UrlencodedForm" not in m]
    without = post(Client(raise_request_exception=False), body, content_type)
    assert without.status_code == with_it.status_code == expected
    assert without.content == with_it.content


def test_a_multipart_form_is_left_to_django(client, echo_urls):
    response = client.post("/echo/", {"a": "1", "b": "två"})  # the test client sends multipart
    assert response.status_code == 200
    assert sorted(seen[0].POST.lists()) == [("a", ["1"]), ("b", ["två"])]


def test_the_middleware_runs_before_the_csrf_check(settings):
    middleware = settings.MIDDLEWARE
    assert middleware.index("portal.middleware.UrlencodedFormMiddleware") < middleware.index(
        "django.middleware.csrf.CsrfViewMiddleware"
    )
