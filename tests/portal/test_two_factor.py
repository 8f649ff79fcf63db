"""Two-factor login for officials: enrolment, verification with a real
TOTP code, recovery codes, and what an unverified session can reach."""

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import two_factor
from portal.audit import Action, AuditEvent
from portal.models import EnrolmentCode
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


def start_enrolment(client, user) -> TOTPDevice:
    """Give the administrator's enrolment code: the QR code's device."""
    code = two_factor.enrolment_code_create(user=user, created_by=None)
    response = client.post(reverse("admin:2fa_enrol"), {"code": code, "next": "/admin/"})
    assert response.status_code == 302, response.content.decode()
    return TOTPDevice.objects.get(user=user, confirmed=False)


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
    # No QR code before the administrator's enrolment code.
    assert "data:image/svg+xml" not in html
    assert "inskrivningskod" in html
    start_enrolment(client, kommun_editor)
    html = client.get(reverse("admin:2fa_enrol")).content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    assert 'class="totp-secret"' in html
    assert "<script" not in html.split("</header>")[1]
    assert 'style="' not in html


def test_enrolment_confirms_the_device_and_shows_ten_recovery_codes_once(
    client, kommun_editor, require_2fa
):
    password_login(client, kommun_editor)
    device = start_enrolment(client, kommun_editor)

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
    start_enrolment(client, kommun_editor)
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
    assert not TOTPDevice.objects.filter(user=kommun_editor, confirmed=True).exists()
    assert not StaticDevice.objects.filter(user=kommun_editor).exists()
    assert AuditEvent.objects.filter(actor=kommun_editor, action=Action.OTP_REMOVED).exists()
    # Removing the device also ends the verified state.
    assert client.get("/admin/").status_code == 302
    # Both factors were given: the new phone's QR code needs no enrolment code.
    html = client.get(reverse("admin:2fa_enrol")).content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    fresh = TOTPDevice.objects.get(user=kommun_editor)
    assert fresh.key != device.key
    response = client.post(reverse("admin:2fa_enrol"), {"code": code_for(fresh)})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 200


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


# -- Enrolment codes: a password alone does not enrol a device ------------------


def test_a_password_alone_does_not_enrol_a_device(client, kommun_editor, require_2fa):
    password_login(client, kommun_editor)
    # An unconfirmed device left from before is neither shown nor confirmable.
    stale = TOTPDevice.objects.create(user=kommun_editor, name="gammal", confirmed=False)
    response = client.post(reverse("admin:2fa_enrol"), {"code": code_for(stale)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Inskrivningskoden stämmer inte" in html
    assert 'id="error-summary"' in html
    assert not TOTPDevice.objects.filter(user=kommun_editor, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302
    assert AuditEvent.objects.filter(
        actor=kommun_editor, action=two_factor.ENROLMENT_CODE_REFUSED
    ).exists()


def test_the_enrolment_code_is_stored_hashed_and_works_once(client, kommun_editor, require_2fa):
    code = two_factor.enrolment_code_create(user=kommun_editor, created_by=None)
    record = EnrolmentCode.objects.get(user=kommun_editor)
    assert code.replace("-", "") not in record.code_hash
    password_login(client, kommun_editor)
    assert client.post(reverse("admin:2fa_enrol"), {"code": code}).status_code == 302
    first = TOTPDevice.objects.get(user=kommun_editor, confirmed=False)
    record.refresh_from_db()
    assert record.used is not None

    other = client_class_login(kommun_editor)
    response = other.post(reverse("admin:2fa_enrol"), {"code": code})
    assert response.status_code == 400
    assert "Inskrivningskoden stämmer inte" in response.content.decode()
    # The first session's device is still the only one.
    assert list(TOTPDevice.objects.filter(user=kommun_editor)) == [first]


def client_class_login(user):
    from django.test import Client

    other = Client()
    password_login(other, user)
    return other


def test_an_expired_enrolment_code_is_refused(client, kommun_editor, require_2fa):
    from datetime import timedelta

    from django.utils import timezone

    code = two_factor.enrolment_code_create(user=kommun_editor, created_by=None)
    EnrolmentCode.objects.update(expires=timezone.now() - timedelta(minutes=1))
    password_login(client, kommun_editor)
    response = client.post(reverse("admin:2fa_enrol"), {"code": code})
    assert response.status_code == 400
    assert "har gått ut" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=kommun_editor).exists()


def test_another_users_enrolment_code_is_refused(
    client, kommun_editor, kommun_approver, require_2fa
):
    code = two_factor.enrolment_code_create(user=kommun_approver, created_by=None)
    password_login(client, kommun_editor)
    assert client.post(reverse("admin:2fa_enrol"), {"code": code}).status_code == 400


def test_a_new_enrolment_code_replaces_the_unused_one(client, kommun_editor, require_2fa):
    old = two_factor.enrolment_code_create(user=kommun_editor, created_by=None)
    new = two_factor.enrolment_code_create(user=kommun_editor, created_by=None)
    password_login(client, kommun_editor)
    assert client.post(reverse("admin:2fa_enrol"), {"code": old}).status_code == 400
    assert client.post(reverse("admin:2fa_enrol"), {"code": new}).status_code == 302


def test_the_site_administrator_creates_codes_in_the_admin_shown_once(
    client, kommun_editor, django_user_model
):
    admin_user = django_user_model.objects.create_superuser("admin", "a@example.se", PASSWORD)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "create_enrolment_codes", "_selected_action": [kommun_editor.pk]},
    )
    assert response.status_code == 200
    html = response.content.decode()
    codes = re.findall(r'<code class="enrolment-code">([a-z0-9-]+)</code>', html)
    assert len(codes) == 1
    assert "72 timmar" in html
    record = EnrolmentCode.objects.get(user=kommun_editor)
    assert record.created_by == admin_user
    assert AuditEvent.objects.filter(
        actor=admin_user, action=two_factor.ENROLMENT_CODE_CREATED
    ).exists()
    # Nowhere to read it again: not in the database, not on the user's page.
    change = client.get(reverse("admin:auth_user_change", args=[kommun_editor.pk]))
    assert codes[0] not in change.content.decode()
    assert two_factor.enrolment_code_redeem(user=kommun_editor, code=codes[0])


def test_officials_cannot_create_enrolment_codes(login, kommun_editor, kommun_approver):
    client = login(kommun_editor)
    response = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "create_enrolment_codes", "_selected_action": [kommun_approver.pk]},
    )
    assert response.status_code == 403
    assert not EnrolmentCode.objects.exists()


def test_the_management_command_prints_a_code(kommun_editor):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("enrolment_code", "kommun_editor", stdout=out)
    code = out.getvalue().split()[0]
    assert two_factor.enrolment_code_redeem(user=kommun_editor, code=code)


# -- A password alone shows nothing that is not public ---------------------------


def test_a_password_alone_does_not_open_the_preview_of_unpublished_results(
    client, kommun_editor, osthammar, require_2fa
):
    from tests.surveys.factories import SurveyFactory

    survey = SurveyFactory(municipality=osthammar, results_published=False)
    url = reverse("surveys:results", args=[osthammar.slug, survey.slug])
    device = enrolled(kommun_editor)
    password_login(client, kommun_editor)
    assert client.get(url).status_code == 404
    client.post(reverse("admin:2fa_verify"), {"code": code_for(device)})
    assert client.get(url).status_code == 200
