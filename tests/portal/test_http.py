"""portal.http.never_cache: the headers Django's never_cache gives."""

import pytest
from django.http import HttpResponse, HttpResponseRedirect
from django.test import RequestFactory
from django.utils.cache import add_never_cache_headers
from django.utils.http import parse_http_date

from portal.http import never_cache


def djangos(response):
    add_never_cache_headers(response)
    return response


@pytest.mark.parametrize(
    "make",
    [
        lambda: HttpResponse("x"),
        lambda: HttpResponseRedirect("/tack/"),
        lambda: HttpResponse("x", headers={"Cache-Control": "public, max-age=600"}),
        lambda: HttpResponse("x", headers={"Expires": "Thu, 01 Jan 2037 00:00:00 GMT"}),
    ],
)
def test_the_same_headers_as_djangos_never_cache(make):
    ours = never_cache(lambda request: make())(RequestFactory().get("/"))
    theirs = djangos(make())
    assert ours.headers["Cache-Control"] == theirs.headers["Cache-Control"]
    assert (
        abs(parse_http_date(ours.headers["Expires"]) - parse_http_date(theirs.headers["Expires"]))
        <= 1
    )
    assert ours.headers.keys() == theirs.headers.keys()
