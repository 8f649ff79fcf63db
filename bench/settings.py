"""Settings for `make bench`: the production settings, on loopback, plus
two ceiling views (bench/urls.py). Only the benchmark uses them."""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(60))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
# Plain HTTP on loopback: cookies must not demand HTTPS here.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LANGUAGE_COOKIE_SECURE = False
# The load comes from one address; the survey's per-client limit would
# refuse most of it. The load test (make loadtest) keeps it on.
SURVEY_RATE_LIMIT = os.environ.get("SURVEY_RATE_LIMIT", "1000000/h")
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
