"""Two-factor login for officials: enrolment, verification with a real
TOTP code, recovery codes, and what an unverified session can reach."""

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.audit import Action, AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def require_2fa(settings):
    settings.PORTAL_REQUIRE_2FA = True


def code_for(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def password_login(client, user):
    response = client.post(
        reverse("admin:login"),
        {"username": user.username, "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    return response


def enrolled(user) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Reservkoder", confirmed=True)
    StaticToken.objects.create(device=static, token="abcd2345")
    return device


def follow_to(client, url, expected_prefix):
    """Follow redirects from url and return the final path."""
    response = client.get(url, follow=True)
    final = response.redirect_chain[-1][0] if response.redirect_chain else url
    assert final.startswith(expected_prefix), response.redirect_chain
    return response


def test_an_official_without_a_device_is_sent_to_enrolment(client, kommun_editor, require_2fa):
    password_login(client, kommun_editor)
    response = follow_to(client, "/admin/", reverse("admin:2fa_enrol"))
    html = response.content.decode()
    assert "Ställ in tvåfaktorsinloggning" in html
    assert 'src="data:image/svg+xml;base64,' in html
    assert 'class="totp-secret"' in html
    assert "<script" not in html.split("</header>")[1]
    assert 'style="' not in html


def test_enrolment_confirms_the_device_and_shows_ten_recovery_codes_once(
    client, kommun_editor, require_2fa
):
    password_login(client, kommun_editor)
    client.get(reverse("admin:2fa_enrol"))
    device = TOTPDevice.objects.get(user=kommun_editor)
    assert not device.confirmed

    response = client.post(
        reverse("admin:2fa_enrol"), {"code": code_for(device), "next": "/admin/"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", html)
    assert len(codes) == 10
    assert "visas bara nu" in html
    device.refresh_from_db()
    assert device.confirmed
    assert set(
        StaticToken.objects.filter(device__user=kommun_editor).values_list("token", flat=True)
    ) == set(codes)
    # The session is verified: the admin opens.
    assert client.get("/admin/").status_code == 200
    # The codes are not shown again.
    assert client.get(reverse("admin:2fa_enrol")).status_code == 302
    assert AuditEvent.objects.filter(actor=kommun_editor, action=Action.OTP_ENROLLED).count() == 1


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Skriv koden"),
        ("000000", "Koden stämmer inte"),
        ("12<>34", "bara av siffror och bokstäver"),
    ],
)
def test_enrolment_refuses_a_wrong_code_with_a_swedish_message(
    client, kommun_editor, require_2fa, code, message
):
    password_login(client, kommun_editor)
    client.get(reverse("admin:2fa_enrol"))
    response = client.post(reverse("admin:2fa_enrol"), {"code": code})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'id="error-summary"' in html
    assert not TOTPDevice.objects.get(user=kommun_editor).confirmed
    assert not StaticDevice.objects.filter(user=kommun_editor).exists()


def test_verification_with_a_totp_code_opens_the_admin(client, kommun_editor, require_2fa):
    device = enrolled(kommun_editor)
    password_login(client, kommun_editor)
    follow_to(client, "/admin/", reverse("admin:2fa_verify"))
    response = client.post(
        reverse("admin:2fa_verify") + "?next=/admin/", {"code": code_for(device)}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused_and_audited(client, kommun_editor, require_2fa):
    enrolled(kommun_editor)
    password_login(client, kommun_editor)
    response = client.post(reverse("admin:2fa_verify"), {"code": "123456"})
    assert response.status_code == 400
    assert "Koden stämmer inte" in response.content.decode()
    assert client.get("/admin/").status_code == 302
    assert AuditEvent.objects.filter(actor=kommun_editor, action=Action.OTP_FAILED).exists()


def test_a_recovery_code_works_once(client, kommun_editor, require_2fa):
    enrolled(kommun_editor)
    password_login(client, kommun_editor)
    response = client.post(reverse("admin:2fa_verify"), {"code": "ABCD-2345"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(actor=kommun_editor, action=Action.RECOVERY_CODE_USED).exists()

    client.post(reverse("admin:logout"))
    password_login(client, kommun_editor)
    response = client.post(reverse("admin:2fa_verify"), {"code": "abcd2345"})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_an_unverified_session_reaches_no_admin_page(
    client, kommun_editor, police, osthammar, require_2fa
):
    from tests.portal.test_url_walk import admin_urls_for_walk

    enrolled(kommun_editor)
    password_login(client, kommun_editor)
    urls = admin_urls_for_walk(osthammar)
    assert len(urls) > 20
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        if response.status_code == 302:
            assert response["Location"].startswith(
                (reverse("admin:login"), reverse("admin:2fa_verify"), reverse("admin:index"))
            ), (url, response["Location"])
        assert 'id="changelist"' not in response.content.decode()


def test_without_the_requirement_a_password_is_enough(client, kommun_editor, settings):
    settings.PORTAL_REQUIRE_2FA = False
    password_login(client, kommun_editor)
    assert client.get("/admin/").status_code == 200


def test_the_requirement_is_on_by_default_in_production():
    from tests.portal.test_settings import GOOD_KEY, run_settings

    result = run_settings(
        {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "example.se"},
        "import portal.settings as s; print(s.PORTAL_REQUIRE_2FA)",
    )
    assert result.stdout.strip() == "True"
    result = run_settings(
        {"PORTAL_DEVELOPMENT": "true", "PORTAL_REQUIRE_2FA": "false"},
        "import portal.settings as s; print(s.PORTAL_REQUIRE_2FA)",
    )
    assert result.stdout.strip() == "False"


def test_an_official_removes_and_re_enrols_their_device(client, kommun_editor, require_2fa):
    device = enrolled(kommun_editor)
    password_login(client, kommun_editor)
    client.post(reverse("admin:2fa_verify"), {"code": code_for(device)})
    html = client.get(reverse("admin:2fa_manage")).content.decode()
    assert "1 oanvänd reservkod" in html

    response = client.post(reverse("admin:2fa_manage"), {"action": "remove"})
    assert response["Location"] == reverse("admin:2fa_enrol")
    assert not TOTPDevice.objects.filter(user=kommun_editor).exists()
    assert not StaticDevice.objects.filter(user=kommun_editor).exists()
    assert AuditEvent.objects.filter(actor=kommun_editor, action=Action.OTP_REMOVED).exists()
    # Removing the device also ends the verified state.
    assert client.get("/admin/").status_code == 302


def test_removing_the_device_needs_the_second_factor(client, kommun_editor, require_2fa):
    enrolled(kommun_editor)
    password_login(client, kommun_editor)
    response = client.post(reverse("admin:2fa_manage"), {"action": "remove"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:2fa_verify"))
    assert TOTPDevice.objects.filter(user=kommun_editor).exists()


def test_new_recovery_codes_replace_the_old_ones(client, kommun_editor, require_2fa):
    device = enrolled(kommun_editor)
    password_login(client, kommun_editor)
    client.post(reverse("admin:2fa_verify"), {"code": code_for(device)})
    response = client.post(reverse("admin:2fa_manage"), {"action": "recovery_codes"})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(codes) == 10
    assert not StaticToken.objects.filter(token="abcd2345").exists()
    assert AuditEvent.objects.filter(
        actor=kommun_editor, action=Action.RECOVERY_CODES_RENEWED
    ).exists()


def test_two_factor_pages_need_a_password_login_first(client, db):
    for name in ["admin:2fa_verify", "admin:2fa_enrol", "admin:2fa_manage"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_verification_refuses_an_outside_next_address(client, kommun_editor, require_2fa):
    device = enrolled(kommun_editor)
    password_login(client, kommun_editor)
    response = client.post(
        reverse("admin:2fa_verify") + "?next=https://evil.example/",
        {"code": code_for(device)},
    )
    assert response["Location"] == reverse("admin:index")


def test_the_admin_links_to_the_two_factor_settings(login, kommun_editor):
    html = login(kommun_editor).get("/admin/").content.decode()
    assert f'href="{reverse("admin:2fa_manage")}">Tvåfaktorsinloggning</a>' in html
