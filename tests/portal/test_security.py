"""Lockout after failed logins (django-axes), security headers and the
officials' sliding inactivity timeout."""

import pytest
from django.test import override_settings
from django.urls import reverse

from portal.audit import Action, AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def attempt(client, username, password, ip):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def axes_on():
    from axes.models import AccessAttempt

    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5):
        yield
    AccessAttempt.objects.all().delete()


def lock_out(client, username, ip):
    responses = [attempt(client, username, "fel-losenord", ip) for _ in range(5)]
    assert [r.status_code for r in responses[:4]] == [200] * 4
    return responses[-1]


def test_five_failures_lock_that_username_from_that_address(client, kommun_editor, axes_on):
    response = lock_out(client, "kommun_editor", "10.0.0.1")
    assert response.status_code == 429
    html = response.content.decode()
    assert "För många misslyckade inloggningar" in html
    assert "15 minuter" in html
    # Even the right password is refused now.
    response = attempt(client, "kommun_editor", PASSWORD, "10.0.0.1")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_another_user_from_the_same_address_can_still_log_in(
    client, kommun_editor, police_editor, axes_on
):
    lock_out(client, "kommun_editor", "10.0.0.1")
    response = attempt(client, "police_editor", PASSWORD, "10.0.0.1")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_same_user_from_another_address_can_still_log_in(client, kommun_editor, axes_on):
    lock_out(client, "kommun_editor", "10.0.0.1")
    response = attempt(client, "kommun_editor", PASSWORD, "10.0.0.2")
    assert response.status_code == 302


def test_a_lockout_and_the_failed_logins_are_audited_without_addresses(
    client, kommun_editor, axes_on
):
    lock_out(client, "kommun_editor", "10.0.0.1")
    lockout = AuditEvent.objects.get(action=Action.LOCKOUT)
    assert lockout.actor_username == "kommun_editor"
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).count() >= 4
    for event in AuditEvent.objects.all():
        assert "10.0.0.1" not in str(event.details)
        assert "fel-losenord" not in str(event.details)


def test_a_successful_login_resets_the_count(client, kommun_editor, axes_on):
    for _ in range(4):
        attempt(client, "kommun_editor", "fel-losenord", "10.0.0.1")
    assert attempt(client, "kommun_editor", PASSWORD, "10.0.0.1").status_code == 302
    client.post(reverse("admin:logout"))
    for _ in range(4):
        assert attempt(client, "kommun_editor", "fel-losenord", "10.0.0.1").status_code == 200


def test_the_client_address_is_taken_from_a_trusted_proxy_only(rf, settings):
    from portal.security import client_ip

    request = rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.7")
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.1.1.1"
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    # The left entry was written by the client; only the proxy's is trusted.
    assert client_ip(request) == "192.0.2.7"


def test_every_response_has_a_permissions_policy(client, db):
    policy = client.get("/")["Permissions-Policy"]
    for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"]:
        assert feature in policy


def test_admin_pages_have_the_security_headers(login, kommun_editor):
    response = login(kommun_editor).get("/admin/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_an_officials_session_slides_while_they_work(login, kommun_editor, monkeypatch):
    import time
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = login(kommun_editor)
    client.get("/admin/")
    first = Session.objects.get().expire_date
    # Within the minute: no session write.
    client.get("/admin/")
    assert Session.objects.get().expire_date == first
    # Ten minutes of work later, the hour counts from now again.
    later, real_now = time.time() + 600, timezone.now
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(seconds=600))
    client.get("/admin/")
    assert (Session.objects.get().expire_date - first).total_seconds() >= 590


def test_an_idle_official_is_logged_out(login, kommun_editor):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = login(kommun_editor)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_public_pages_never_refresh_the_session(client, db):
    response = client.get("/om/")
    assert "sessionid" not in response.cookies
