"""The follow-up pages in Chromium: axe (WCAG 2.1 A/AA) on the follow-up
page and the yearly report, on screen and in print; the way from the
pledge page to the follow-up by keyboard; no CSP errors."""

import pytest
from django.utils import timezone

pytestmark = pytest.mark.browser


def _pages():
    year = timezone.localdate().year
    return [
        "/osthammar/medborgarlofte/2021/uppfoljning/",
        "/osthammar/medborgarlofte/2021/uppfoljning/rapport/",
        f"/osthammar/medborgarlofte/{year}/uppfoljning/",
        f"/osthammar/medborgarlofte/{year}/uppfoljning/rapport/",
    ]


def test_the_follow_up_pages_pass_axe(demo_site, page, axe_check):
    for path in _pages():
        response = page.goto(demo_site.url + path)
        assert response.status == 200, path
        axe_check(page)
        assert page.locator("svg[role=img][aria-label]").count() >= 1
        assert page.locator("table.indicator-table").count() >= 1


def test_the_earlier_reports_open_and_pass_axe(demo_site, page, axe_check):
    page.goto(demo_site.url + _pages()[0])
    for summary in page.locator("details.followup-timeline > summary").all():
        summary.click()
    axe_check(page)


@pytest.mark.parametrize("index", [1, 3])
def test_the_printed_report_is_a_clean_document(demo_site, page, axe_check, index):
    page.goto(demo_site.url + _pages()[index])
    page.emulate_media(media="print")
    axe_check(page)
    assert not page.locator(".site-header nav").is_visible()
    assert not page.locator(".site-footer").is_visible()
    assert page.locator("h1").is_visible()
    assert page.locator("table.followup-report-table").first.is_visible()
    assert page.get_by_text("Åtgärder och deras status").first.is_visible()
    if index == 1:  # 2021: Båtsamverkan was not done
        assert page.get_by_text("Det som inte blev gjort och varför").first.is_visible()


def test_the_follow_up_is_reachable_by_keyboard_from_the_pledge_page(demo_site, page):
    page.goto(demo_site.url + "/osthammar/medborgarlofte/2021/")
    target = "/osthammar/medborgarlofte/2021/uppfoljning/"
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == target:
            break
    else:
        pytest.fail(f"{target} is not reachable by Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**" + target)
    assert page.locator("h1").inner_text().startswith("Uppföljning av medborgarlöfte 2021")


def test_the_follow_up_pages_have_no_csp_errors(demo_site, page):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    for path in _pages():
        page.goto(demo_site.url + path)
    assert not errors, errors
