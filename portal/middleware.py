import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Turn a lost database connection into a friendly Swedish 503 page.

    The request's transaction has already been rolled back when this runs,
    so nothing is half-saved; the resident is told to try again.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError) or (
            isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
        ):
            logger.warning("Database unavailable: %s", exception)
            body = render_to_string("503.html", request=None)
            response = HttpResponse(body, status=503)
            response["Retry-After"] = "10"
            return response
        return None


class SwedishFirstLocaleMiddleware:
    """Swedish unless the visitor has chosen another language.

    Django's LocaleMiddleware would follow the browser's Accept-Language; a
    Swedish public-sector site speaks Swedish first (Språklagen), and a
    visitor switches language with the links in the footer (a cookie).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = dict(settings.LANGUAGES)

    def __call__(self, request):
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if code not in self.languages:
            code = settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = code
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", code)
        return response


class RequestSizeLimitMiddleware:
    """Refuse bodies larger than MAX_REQUEST_BYTES before Django reads them.

    Django limits form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but streams file
    uploads to disk whatever their size; no public form takes files, so a
    large body is refused outright with a Swedish 413 page.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.MAX_REQUEST_BYTES

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = self.limit + 1
        if length > self.limit:
            body = render_to_string("413.html")
            return HttpResponse(body, status=413)
        return self.get_response(request)
