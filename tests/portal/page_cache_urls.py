"""Cached test views that must not be stored, for tests/portal/test_page_cache.py."""

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.urls import path

from portal import content_version
from portal.page_cache import cached_public_page
from portal.urls import urlpatterns as portal_urlpatterns

rendered = []


@cached_public_page
def sets_a_cookie(request):
    rendered.append(request.path)
    response = HttpResponse("cookie")
    response.set_cookie("seen", "1")
    return response


@cached_public_page
def uses_a_csrf_token(request):
    rendered.append(request.path)
    return HttpResponse(f"token {get_token(request)}")


@cached_public_page
def reads_the_user(request):
    rendered.append(request.path)
    return HttpResponse(f"anonymous {request.user.is_anonymous}")


@cached_public_page
def streams(request):
    rendered.append(request.path)
    return StreamingHttpResponse(iter(["a", "b"]))


@cached_public_page
def changes_during_rendering(request):
    rendered.append(request.path)
    content_version.changed()  # e.g. an official saves while this renders
    return HttpResponse(f"render {len(rendered)}")


@cached_public_page
def plain(request):
    rendered.append(request.path)
    return HttpResponse("plain")


failing = []


@cached_public_page
def fails_when_told(request):
    rendered.append(request.path)
    if failing:
        raise RuntimeError("rendering failed")
    return HttpResponse("fine")


gone = []


@cached_public_page
def gone_when_told(request):
    """A page that can go away, as a withdrawn pledge does."""
    rendered.append(request.path)
    if gone:
        raise Http404
    return HttpResponse("here")


urlpatterns = [
    path("cookie/", sets_a_cookie),
    path("csrf/", uses_a_csrf_token),
    path("user/", reads_the_user),
    path("stream/", streams),
    path("changes/", changes_during_rendering),
    path("plain/", plain),
    path("fails/", fails_when_told),
    path("gone/", gone_when_told),
    *portal_urlpatterns,
]
