"""portal.wsgi: the survey form through Django with a shorter middleware
chain, everything else through the full one, the same answers either way."""

import contextlib
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import OperationalError, close_old_connections
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from portal import wsgi
from surveys import services, views
from surveys.models import Response
from tests.surveys.conftest import valid_data

pytestmark = pytest.mark.django_db


class _Served:
    """Django's test client's side of a WSGI server, for any WSGI callable:
    the test's database transaction stays open across requests (as in
    Django's ClientHandler), and the response is closed once read."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ):
        from django.core.handlers.wsgi import WSGIRequest

        request_started.disconnect(close_old_connections)
        try:
            response = self.application(environ, lambda status, headers, exc_info=None: None)
        finally:
            request_started.connect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response.close()
        finally:
            request_finished.connect(close_old_connections)
        response.wsgi_request = WSGIRequest(environ)
        return response


def served_by(application) -> Client:
    """A test client whose requests `application` serves, CSRF checked as
    in production (Django's own test client switches the check off)."""
    client = Client()
    client.handler = _Served(application)
    return client


@pytest.fixture
def app():
    return wsgi.PortalApplication()


@pytest.fixture
def resident(app):
    return served_by(app)


def csrf_token(client) -> str:
    return client.cookies["csrftoken"].value


def form_data(client, survey, **extra) -> dict:
    """A valid submission of the form as `client` was shown it, with the
    CSRF token its cookie goes with."""
    data = valid_data(client, survey, **extra)
    data.setdefault("csrfmiddlewaretoken", csrf_token(client))
    return data


def test_the_resident_chain_is_the_full_one_less_what_officials_use(app):
    full = settings.MIDDLEWARE
    assert set(full) >= wsgi.OFFICIALS_ONLY  # each name is one that runs
    resident_chain = [type(m).__module__ + "." + type(m).__qualname__ for m in _chain(app)]
    assert resident_chain == [path for path in full if path not in wsgi.OFFICIALS_ONLY]
    assert settings.MIDDLEWARE is full  # the setting as it was


def _chain(app):
    """The middleware instances of the resident handler, outermost first."""
    found, handler = [], app.resident_form._middleware_chain
    while True:
        # convert_exception_to_response wraps each one; its closure holds it.
        inner = handler.__wrapped__ if hasattr(handler, "__wrapped__") else handler
        if not hasattr(inner, "get_response"):
            return found
        found.append(inner)
        handler = inner.get_response


# Every real address of the project is checked by the URL walk
# (tests/portal/test_url_walk.py); these are the edges of the pattern.
@pytest.mark.parametrize(
    ("path", "resident_form"),
    [
        ("/osthammar/enkat/hosten-2026/", True),
        ("/tierp/enkat/var_2027/", True),
        ("/osthammar/enkat/hosten-2026", False),
        ("/osthammar/enkat//", False),
        ("/osthammar/enkät/hosten-2026/", False),
        ("//enkat/hosten-2026/", False),
        ("/a/b/enkat/hosten-2026/", False),
        ("/admin/enkat/x/", True),
    ],
)
def test_only_the_survey_forms_address_takes_the_shorter_chain(path, resident_form):
    matched = wsgi.RESIDENT_FORM_PATH.fullmatch(path) is not None
    assert matched is resident_form
    if matched:
        # Whatever the shorter chain gets is the survey form's view: the
        # survey routes come before any other that could take the path.
        assert resolve(path).view_name == "surveys:survey"
    else:
        with contextlib.suppress(Resolver404):
            assert resolve(path).view_name != "surveys:survey"


def test_every_survey_form_address_takes_the_shorter_chain(survey):
    path = reverse("surveys:survey", kwargs={"municipality": "o_s-1", "slug": "A-b_2"})
    assert wsgi.RESIDENT_FORM_PATH.fullmatch(path)
    assert wsgi.RESIDENT_FORM_PATH.fullmatch(survey.get_absolute_url())


def test_requests_are_handed_to_the_chain_their_address_names(app, monkeypatch):
    handed = []
    monkeypatch.setattr(app, "full", lambda environ, start: handed.append("full"))
    monkeypatch.setattr(app, "resident_form", lambda environ, start: handed.append("resident"))
    for method, path in [
        ("POST", "/osthammar/enkat/hosten-2026/"),
        ("GET", "/osthammar/enkat/hosten-2026/"),
        ("POST", "/admin/login/"),
        ("GET", "/osthammar/enkat/hosten-2026/tack/"),
        ("GET", "/"),
    ]:
        app({"REQUEST_METHOD": method, "PATH_INFO": path}, None)
    assert handed == ["resident", "resident", "full", "full", "full"]


@pytest.fixture
def seen(monkeypatch):
    """For each submission the view handled: whether its request had a
    session and a user."""
    seen = []
    submission = views._submission

    def spy(request, municipality, slug):
        seen.append((hasattr(request, "session"), hasattr(request, "user")))
        return submission(request, municipality, slug)

    monkeypatch.setattr(views, "_submission", spy)
    return seen


def test_a_submission_is_saved_through_the_shorter_chain(resident, survey, seen):
    data = form_data(resident, survey)
    response = resident.post(survey.get_absolute_url(), data)
    assert response.status_code == 302
    assert response["Location"] == survey.thanks_url
    assert seen == [(False, False)]
    assert Response.objects.get().answers.count() == 3
    assert "sessionid" not in response.cookies


def test_the_shorter_chain_checks_the_csrf_token(resident, survey):
    url = survey.get_absolute_url()
    data = valid_data(resident, survey)  # the form shown: its CSRF cookie set
    token = csrf_token(resident)
    assert resident.post(url, {**data, "csrfmiddlewaretoken": "x" * 32}).status_code == 403
    resident.cookies.clear()
    assert resident.post(url, {**data, "csrfmiddlewaretoken": token}).status_code == 403
    assert not Response.objects.exists()


def _headers(response) -> dict:
    """The response's headers; of the time-stamped ones, only that they are there."""
    return {
        name: "(a time)" if name in {"Expires", "Date"} else value
        for name, value in response.items()
        if name != "Content-Length"
    }


_ONE_TIME_TOKENS = re.compile(rb'value="[^"]{40,}"')


def _same_page(first, second) -> bool:
    """The same page, apart from the form's one-time tokens."""
    return _ONE_TIME_TOKENS.sub(b"", first.content) == _ONE_TIME_TOKENS.sub(b"", second.content)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_both_chains_show_the_form_alike(app, survey, language):
    full, resident = served_by(get_wsgi_application()), served_by(app)
    for client in (full, resident):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    shown = [client.get(survey.get_absolute_url()) for client in (full, resident)]
    assert [r.status_code for r in shown] == [200, 200]
    assert _headers(shown[0]) == _headers(shown[1])
    assert shown[1]["Content-Language"] == language
    assert "Content-Security-Policy" in shown[1] and "Permissions-Policy" in shown[1]
    assert shown[1]["X-Frame-Options"] == "DENY"
    assert _same_page(*shown)


def _post(client, survey, **extra):
    return client.post(survey.get_absolute_url(), form_data(client, survey, **extra))


def _sent_twice(client, survey):
    data = form_data(client, survey)
    client.post(survey.get_absolute_url(), data)
    return client.post(survey.get_absolute_url(), data)


def _after_closing(client, survey):
    data = form_data(client, survey)
    survey.closes_at = timezone.now() - timedelta(minutes=1)
    survey.save()
    try:
        return client.post(survey.get_absolute_url(), data)
    finally:
        survey.closes_at = timezone.now() + timedelta(days=30)
        survey.save()


def _language_button(client, survey):
    data = form_data(client, survey, language="en")
    del data["send"]  # the form shown again in English, nothing saved
    return client.post(survey.get_absolute_url(), data)


# What a resident may send, and the status both chains must answer it with.
SENT = {
    "a valid form": (302, lambda client, survey: _post(client, survey)),
    "the same form again": (302, _sent_twice),
    "a required answer left out": (
        400,
        lambda client, survey: _post(client, survey, q_trygghet_ute_kvall=""),
    ),
    "a forged form token": (400, lambda client, survey: _post(client, survey, token="x")),
    "a body over the size limit": (
        413,
        lambda client, survey: _post(client, survey, q_forslag="x" * settings.MAX_REQUEST_BYTES),
    ),
    "the language button": (200, _language_button),
    "a form of a survey closed meanwhile": (403, _after_closing),
}


@pytest.mark.parametrize("case", SENT)
def test_both_chains_answer_what_a_resident_sends_alike(app, survey, case):
    status, send = SENT[case]
    answers = [
        send(client, survey) for client in (served_by(get_wsgi_application()), served_by(app))
    ]
    assert [r.status_code for r in answers] == [status, status]
    assert _headers(answers[0]) == _headers(answers[1])
    assert _same_page(*answers)
    saved = 2 if status == 302 else 0
    assert Response.objects.count() == saved


def test_a_lost_database_is_the_friendly_503_on_the_shorter_chain(resident, survey, monkeypatch):
    data = form_data(resident, survey)

    def lost(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "response_submit", lost)
    response = resident.post(survey.get_absolute_url(), data)
    assert response.status_code == 503
    assert "försök igen" in response.content.decode().lower()
    assert not Response.objects.exists()


def test_a_signed_in_official_gets_the_residents_form_and_keeps_the_session(
    app, survey, kommun_editor, seen
):
    """An official opening (and answering) the survey form is served as a
    resident: the form's request has no session or user, no session cookie
    is set, and the session still signs the official in to the admin."""
    official = served_by(app)
    official.force_login(kommun_editor)
    session = official.cookies[settings.SESSION_COOKIE_NAME].value
    assert official.get("/admin/").status_code == 200

    shown = official.get(survey.get_absolute_url())
    anonymous = served_by(app).get(survey.get_absolute_url())
    assert shown.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in shown.cookies
    assert _same_page(shown, anonymous)

    response = official.post(survey.get_absolute_url(), form_data(official, survey))
    assert response.status_code == 302
    assert seen == [(False, False)]
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert Response.objects.count() == 1

    assert official.cookies[settings.SESSION_COOKIE_NAME].value == session
    assert official.get("/admin/").status_code == 200
