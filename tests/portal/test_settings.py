"""The settings refuse an unsafe production configuration."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "Zx9-random-production-key-for-tests-" + "q" * 10
# Production names its database; importing the settings connects to nothing.
PRODUCTION_DB = "postgres://portal@db.example.se:5432/portal"


CONFIG_VARS = {
    "DEBUG",
    "PORTAL_DEVELOPMENT",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    # Set by the test settings; production runs with lockouts and 2FA on.
    "AXES_ENABLED",
    "PORTAL_REQUIRE_2FA",
}


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    """Run a Python command in a clean environment (with a production
    DATABASE_URL unless `env` says otherwise) plus `env`."""
    base = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    base["DATABASE_URL"] = PRODUCTION_DB
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def run_settings(env: dict, code: str = "import portal.settings") -> subprocess.CompletedProcess:
    return run(["-c", code], env)


def test_production_refuses_to_start_without_a_secret_key():
    result = run_settings({"ALLOWED_HOSTS": "example.se"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_short_or_development_key():
    result = run_settings({"SECRET_KEY": "short", "ALLOWED_HOSTS": "example.se"})
    assert "SECRET_KEY is too short" in result.stderr


def test_production_refuses_to_start_without_hosts():
    result = run_settings({"SECRET_KEY": GOOD_KEY})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_debug_must_be_true_or_false():
    result = run_settings({"DEBUG": "yes"})
    assert "DEBUG must be 'true' or 'false'" in result.stderr


def test_debug_is_off_by_default():
    result = run_settings(
        {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "example.se"},
        "import portal.settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)",
    )
    assert result.stdout.strip() == "False True True"


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_the_redis_timeout_must_be_a_positive_whole_number(value):
    result = run_settings(
        {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "example.se", "REDIS_TIMEOUT_MS": value}
    )
    assert result.returncode != 0
    assert "REDIS_TIMEOUT_MS must be" in result.stderr


def test_the_redis_timeout_reaches_the_cache_connections():
    result = run_settings(
        {
            "SECRET_KEY": GOOD_KEY,
            "ALLOWED_HOSTS": "example.se",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "REDIS_TIMEOUT_MS": "250",
        },
        "import portal.settings as s; print(s.CACHES['default']['OPTIONS'])",
    )
    assert result.stdout.strip() == "{'socket_connect_timeout': 0.25, 'socket_timeout': 0.25}"


def test_database_url_picks_the_database():
    result = run_settings(
        {"PORTAL_DEVELOPMENT": "true", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal"},
        "import portal.settings as s; d = s.DATABASES['default']; "
        "print(d['ENGINE'], d['HOST'], d['NAME'], 'pool' in d['OPTIONS'])",
    )
    assert result.stdout.strip() == "django.db.backends.postgresql 127.0.0.1 portal True"


def test_without_database_url_development_uses_the_projects_own_postgresql():
    result = run_settings(
        {"PORTAL_DEVELOPMENT": "true", "DATABASE_URL": ""},
        "import portal.settings as s; d = s.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['NAME'])",
    )
    from portal import devdb

    socket_dir = devdb.database_url().split("@")[1].split("/")[0].replace("%2F", "/")
    assert result.stdout.strip() == f"django.db.backends.postgresql {socket_dir} portal"


def test_production_refuses_to_start_without_a_database():
    result = run_settings(
        {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "example.se", "DATABASE_URL": ""}
    )
    assert result.returncode != 0
    assert "DATABASE_URL must be set in production" in result.stderr


@pytest.mark.parametrize("url", ["sqlite:///var/portal.sqlite3", "mysql://portal@db/portal"])
def test_the_portal_runs_on_postgresql_only(url):
    result = run_settings({"PORTAL_DEVELOPMENT": "true", "DATABASE_URL": url})
    assert result.returncode != 0
    assert "The portal runs on PostgreSQL only" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    env = {
        "SECRET_KEY": GOOD_KEY,
        "ALLOWED_HOSTS": "trygghet.example.se",
        "CSRF_TRUSTED_ORIGINS": "https://trygghet.example.se",
    }
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {**env, "PORTAL_DEVELOPMENT": "false"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_has_lockouts_2fa_and_the_security_middleware_on():
    result = run_settings(
        {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "example.se"},
        "import portal.settings as s; print(s.AXES_ENABLED, s.PORTAL_REQUIRE_2FA, "
        "s.AXES_LOCKOUT_PARAMETERS, s.MIDDLEWARE[-1], s.AUTHENTICATION_BACKENDS[0], "
        "s.SESSION_SAVE_EVERY_REQUEST)",
    )
    assert result.stdout.strip() == (
        "True True [['username', 'ip_address']] axes.middleware.AxesMiddleware "
        "axes.backends.AxesStandaloneBackend False"
    ), result.stderr


def test_gunicorn_reads_the_committed_settings():
    """`gunicorn portal.wsgi` in the project directory picks up
    gunicorn.conf.py; the settings and the application load."""
    code = (
        "import sys; from gunicorn.app.wsgiapp import WSGIApplication;"
        "sys.argv = ['gunicorn', 'portal.wsgi'];"
        "app = WSGIApplication(); cfg = app.cfg;"
        "print(cfg.worker_class_str, cfg.workers, cfg.timeout, cfg.bind, cfg.backlog);"
        "app.load_wsgiapp()"
    )
    env = {
        "SECRET_KEY": GOOD_KEY,
        "ALLOWED_HOSTS": "trygghet.example.se",
        "PORTAL_DEVELOPMENT": "false",
        "GUNICORN_WORKERS": "3",
    }
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["sync", "3", "300", "['127.0.0.1:8000']", "2048"]


def test_a_gunicorn_worker_freezes_the_loaded_application_for_the_collector():
    code = (
        "import gc, sys; from gunicorn.app.wsgiapp import WSGIApplication;"
        "sys.argv = ['gunicorn', 'portal.wsgi'];"
        "app = WSGIApplication(); app.load_wsgiapp();"
        "before = gc.get_freeze_count(); app.cfg.post_worker_init(None);"
        "print(before, gc.get_freeze_count() > 10000)"
    )
    env = {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "trygghet.example.se"}
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["0", "True"]
