"""Shared fixtures: two municipalities served by one police area, a fixed
cast of officials for permission tests, and the cache on a real Redis."""

import os
import uuid

import pytest
from django.core.cache import caches
from django.test import override_settings

from portal import cache as portal_cache
from portal import content_version
from portal.models import Membership, Organisation
from tests.factories import MembershipFactory, MunicipalityFactory, OrganisationFactory, UserFactory

PASSWORD = "secret-password-123"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from portal import page_cache

    cache.clear()
    page_cache.forget_local_copies()
    yield
    cache.clear()
    page_cache.forget_local_copies()
    portal_cache._unreachable_until.clear()


@pytest.fixture(autouse=True)
def _content_version_at_once(monkeypatch):
    """A new content version is written when the transaction commits, and a
    test's transaction never commits: here it is written at once, as after
    the commit of the change. tests/portal/test_content_version.py checks
    the waiting itself."""
    monkeypatch.setattr(content_version, "on_commit", lambda func, **kwargs: func())


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_cache():
    """The default cache on Redis, as in production, under a key prefix of
    its own (skipped where no Redis runs, except in CI)."""
    settings = {
        "default": {
            "BACKEND": "portal.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    with override_settings(CACHES=settings):
        backend = caches["default"]
        try:
            backend._cache.get_client(write=True).ping()
        except Exception as exc:  # pragma: no cover - depends on the machine
            if os.environ.get("CI"):
                raise
            pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
        yield backend
        portal_cache._unreachable_until.clear()
        backend.clear()


@pytest.fixture
def osthammar(db):
    return MunicipalityFactory(
        name="Östhammars kommun", short_name="Östhammar", slug="osthammar", code="0382"
    )


@pytest.fixture
def tierp(db):
    return MunicipalityFactory(name="Tierps kommun", short_name="Tierp", slug="tierp", code="0360")


@pytest.fixture
def kommun(osthammar):
    return OrganisationFactory(
        name="Östhammars kommun", kind=Organisation.Kind.KOMMUN, municipalities=[osthammar]
    )


@pytest.fixture
def tierp_kommun(tierp):
    return OrganisationFactory(
        name="Tierps kommun", kind=Organisation.Kind.KOMMUN, municipalities=[tierp]
    )


@pytest.fixture
def police(osthammar, tierp):
    return OrganisationFactory(
        name="Lokalpolisområde Norduppland",
        kind=Organisation.Kind.POLIS,
        municipalities=[osthammar, tierp],
    )


@pytest.fixture
def partner(osthammar):
    return OrganisationFactory(
        name="Östhammarshem", kind=Organisation.Kind.PARTNER, municipalities=[osthammar]
    )


def _member(username, organisation, role, title=""):
    return MembershipFactory(
        user=UserFactory(username=username, first_name=username.split("_")[0].title()),
        organisation=organisation,
        role=role,
        title=title,
    ).user


@pytest.fixture
def kommun_editor(kommun):
    return _member("kommun_editor", kommun, Membership.Role.EDITOR, "Trygghetssamordnare")


@pytest.fixture
def kommun_approver(kommun):
    return _member(
        "kommun_approver", kommun, Membership.Role.APPROVER, "Kommunstyrelsens ordförande"
    )


@pytest.fixture
def police_editor(police):
    return _member("police_editor", police, Membership.Role.EDITOR, "Kommunpolis")


@pytest.fixture
def police_approver(police):
    return _member("police_approver", police, Membership.Role.APPROVER, "Lokalpolisområdeschef")


@pytest.fixture
def other_kommun_editor(tierp_kommun):
    return _member(
        "other_kommun_editor", tierp_kommun, Membership.Role.EDITOR, "Säkerhetssamordnare"
    )


@pytest.fixture
def site_admin(db):
    return UserFactory(username="site_admin", is_superuser=True, is_staff=True)


@pytest.fixture
def login(client):
    """Log a user in on the test client (2FA is a separate concern)."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture(scope="session", autouse=True)
def _end_stray_sessions_before_teardown(django_db_setup, django_db_blocker):
    """Before the PostgreSQL test database is dropped, end any connection a
    live-server request thread left open (a browser navigating away
    mid-request), which would otherwise make the drop fail."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connection.close()
