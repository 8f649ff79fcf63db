"""Test settings: the production settings with development defaults and
speed-ups (fast password hashing, in-memory e-mail)."""

import os

os.environ.setdefault("PORTAL_DEVELOPMENT", "true")
os.environ.setdefault("DEBUG", "false")
# django-axes needs the request in authenticate(), which the test client's
# login() does not pass; the lockout tests turn it on themselves.
os.environ.setdefault("AXES_ENABLED", "false")

from portal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# Tests run without the psycopg pool: connections that Django's live-server
# threads return to a pool outlive the test database and make dropping it
# fail ("being accessed by other users"). The pool itself is production
# configuration, checked in tests/portal/test_settings.py.
DATABASES["default"]["OPTIONS"].pop("pool", None)  # noqa: F405
