"""The Django admin and the two-factor pages work under the strict
Content-Security-Policy: no console violations while logging in (with and
without two-factor login), browsing changelists, change forms with inlines
and the autocomplete widget."""

import base64

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from portal.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def csp_errors(page):
    errors = []
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return errors


def log_in(page, base, username):
    page.goto(base + "/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")


def test_admin_pages_are_csp_clean_without_2fa(demo_site, page, csp_errors, settings):
    from portal.models import Municipality

    settings.PORTAL_REQUIRE_2FA = False
    base = demo_site.url
    log_in(page, base, "admin")
    page.wait_for_url(base + "/admin/")
    osthammar = Municipality.objects.get(slug="osthammar")
    for path in [
        "/admin/portal/municipality/",
        "/admin/portal/organisation/",
        "/admin/portal/membership/",
        "/admin/auth/user/",
        "/admin/portal/auditevent/",
        f"/admin/portal/municipality/{osthammar.pk}/change/",
        "/admin/portal/membership/add/",
    ]:
        response = page.goto(base + path)
        assert response.status == 200, path
    # A change form with inlines and an autocomplete field (select2).
    page.goto(base + "/admin/portal/membership/add/")
    page.click("[aria-labelledby=select2-id_organisation-container]")
    page.locator(".select2-search__field").fill("Östhammar")
    option = page.locator(".select2-results__option", has_text="Östhammars kommun")
    option.first.wait_for()
    option.first.click()
    assert "Östhammars kommun" in page.inner_text("#select2-id_organisation-container")
    assert not csp_errors, csp_errors


def test_two_factor_enrolment_and_admin_are_csp_clean(
    demo_site, page, csp_errors, settings, axe_check
):
    settings.PORTAL_REQUIRE_2FA = True
    base = demo_site.url
    from django.contrib.auth import get_user_model

    from portal import two_factor

    user = get_user_model().objects.get(username="kommun-redaktor")
    enrolment_code = two_factor.enrolment_code_create(user=user, created_by=None)
    log_in(page, base, "kommun-redaktor")
    page.wait_for_url("**/admin/2fa/registrera/**")
    axe_check(page)
    # A password alone does not enrol: first the administrator's code.
    page.fill("#id_code", enrolment_code)
    page.get_by_role("button", name="Fortsätt").click()
    page.locator("img.qr-code").wait_for()
    axe_check(page)
    assert page.locator("img.qr-code").evaluate("img => img.naturalWidth > 0")
    secret = page.inner_text(".totp-secret").replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("#id_code", f"{totp(key):06d}")
    page.get_by_role("button", name="Bekräfta").click()
    # Wait for the page after the click (a plain count() can run before it).
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    axe_check(page)
    page.get_by_role("link", name="Jag har sparat koderna – fortsätt").click()
    page.wait_for_url(base + "/admin/")
    page.goto(base + "/admin/portal/accessibilityfeedback/")
    page.goto(base + "/admin/2fa/hantera/")
    axe_check(page)
    assert not csp_errors, csp_errors
