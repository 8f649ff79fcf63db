import logging
import time

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
        if database_unavailable(exception):
            return unavailable_response(exception)
        return None


def database_unavailable(exception: BaseException) -> bool:
    """Whether `exception` says the database cannot be reached."""
    return isinstance(exception, OperationalError | InterfaceError) or (
        isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
    )


def unavailable_response(exception: BaseException) -> HttpResponse:
    """The friendly Swedish 503 page, asking to try again shortly."""
    logger.warning("Database unavailable: %s", exception)
    response = HttpResponse(render_to_string("503.html", request=None), status=503)
    response["Retry-After"] = "10"
    return response


def request_language(request) -> str:
    """The language a request is served in: the language cookie when it
    names one of settings.LANGUAGES, else settings.LANGUAGE_CODE (Swedish).
    The single rule for SwedishFirstLocaleMiddleware and the page cache."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    for known, _name in settings.LANGUAGES:
        if code == known:
            return code
    return settings.LANGUAGE_CODE


class SwedishFirstLocaleMiddleware:
    """Swedish unless the visitor has chosen another language.

    Django's LocaleMiddleware would follow the browser's Accept-Language; a
    Swedish public-sector site speaks Swedish first (Språklagen), and a
    visitor switches language with the links in the footer (a cookie).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        code = request_language(request)
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


class PermissionsPolicyMiddleware:
    """Send a Permissions-Policy header turning off browser features the
    portal never uses (camera, microphone, geolocation, payment, usb, ...)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})"
            for feature, origins in settings.PORTAL_PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


class OfficialSessionTimeoutMiddleware:
    """A sliding inactivity timeout for officials in the admin.

    The session expires SESSION_COOKIE_AGE after it was last saved. For a
    logged-in official working in the admin the session is saved again (at
    most once a minute), so it lapses only after that long without
    activity. Public pages never reach the session: only requests under the
    admin's address are looked at, so SESSION_SAVE_EVERY_REQUEST stays off.
    """

    REFRESH_KEY = "_portal_activity"
    MIN_INTERVAL = 60  # seconds between session writes

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_path = None

    def __call__(self, request):
        if self.admin_path is None:
            from django.urls import reverse

            self.admin_path = reverse("admin:index")
        if request.path.startswith(self.admin_path):
            # The first read of the session and the user: Django turns an
            # exception raised in a middleware into its 500 page, so a lost
            # database is answered here with the 503 the views give.
            try:
                signed_in = request.user.is_authenticated
                if signed_in:
                    now = int(time.time())
                    if now - request.session.get(self.REFRESH_KEY, 0) >= self.MIN_INTERVAL:
                        request.session[self.REFRESH_KEY] = now
            except DatabaseError as exc:
                if not database_unavailable(exc):
                    raise
                return unavailable_response(exc)
        return self.get_response(request)
