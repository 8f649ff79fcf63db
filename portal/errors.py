"""Swedish error pages. The 500 page renders without the database or the
request context, so it works whatever broke."""

from django.http import HttpResponseNotFound, HttpResponseServerError
from django.template import loader


def page_not_found(request, exception):
    body = loader.render_to_string("404.html", request=request)
    return HttpResponseNotFound(body)


def server_error(request):
    body = loader.render_to_string("500.html")
    return HttpResponseServerError(body)
