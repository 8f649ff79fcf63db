"""The WSGI application gunicorn serves (`gunicorn portal.wsgi`).

A resident's survey form, what a burst of invitation letters sends by the
thousand, is served by Django with a shorter middleware chain: without the
middleware that exists for officials' logins (sessions, users, two-factor
devices, the inactivity timeout, messages, the edit history's request, the
login lockout). The form is anonymous and never reads any of them; every
other middleware, the security headers, the CSRF check and the locale
among them, runs as for any other page. Every other request goes through
the full chain.
"""

import os
import re

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# What only officials' requests use. A middleware added to settings later
# runs on the resident's form too unless it is named here.
OFFICIALS_ONLY = frozenset(
    {
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django_otp.middleware.OTPMiddleware",
        "portal.middleware.OfficialSessionTimeoutMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "simple_history.middleware.HistoryRequestMiddleware",
        "axes.middleware.AxesMiddleware",
    }
)

# The survey form's address (surveys/urls.py, "surveys:survey": two slugs
# around "enkat"). The survey routes come first among the URL patterns, so
# every path this matches is the form's (tests/portal/test_url_walk.py
# checks every address of the project, tests/surveys/test_form_chain.py
# the pattern's edges).
RESIDENT_FORM_PATH = re.compile(r"/[-a-zA-Z0-9_]+/enkat/[-a-zA-Z0-9_]+/")


class ResidentFormHandler(WSGIHandler):
    """Django's handler with settings.MIDDLEWARE less OFFICIALS_ONLY."""

    def load_middleware(self, is_async=False):
        # Django builds the chain from settings.MIDDLEWARE: it reads the
        # shorter list while this handler is made (once, at start-up).
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = [path for path in full if path not in OFFICIALS_ONLY]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class PortalApplication:
    """Survey forms to ResidentFormHandler, everything else to Django's."""

    def __init__(self):
        self.full = get_wsgi_application()
        self.resident_form = ResidentFormHandler()

    def __call__(self, environ, start_response):
        if RESIDENT_FORM_PATH.fullmatch(environ.get("PATH_INFO", "")):
            return self.resident_form(environ, start_response)
        return self.full(environ, start_response)


application = PortalApplication()
