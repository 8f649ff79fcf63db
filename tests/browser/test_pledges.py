"""The pledge pages in Chromium: axe (WCAG 2.1 A/AA) on screen and in print,
and the archive by keyboard only."""

import re

import pytest
from django.utils import timezone

pytestmark = pytest.mark.browser


def _pages():
    return [
        "/osthammar/",
        "/osthammar/medborgarlofte/",
        "/osthammar/medborgarlofte/2021/",
        "/osthammar/medborgarlofte/2023-2024/",
        f"/osthammar/medborgarlofte/{timezone.localdate().year}/",
        "/tierp/",
        "/tierp/medborgarlofte/",
    ]


def test_the_pledge_pages_pass_axe(demo_site, page, axe_check):
    for path in _pages():
        response = page.goto(demo_site.url + path)
        assert response.status == 200, path
        axe_check(page)


def test_the_pledge_pages_pass_axe_in_english(demo_site, page, axe_check):
    page.goto(demo_site.url + "/sprak/en/?next=/osthammar/")
    assert page.locator("h1").inner_text().startswith("Citizen pledge")
    for path in _pages()[:3]:
        page.goto(demo_site.url + path)
        axe_check(page)


@pytest.mark.parametrize("period", ["2021", "2023-2024", "current"])
def test_the_printed_pledge_is_a_clean_document(demo_site, page, axe_check, period):
    if period == "current":
        period = str(timezone.localdate().year)
    page.goto(f"{demo_site.url}/osthammar/medborgarlofte/{period}/")
    page.emulate_media(media="print")
    axe_check(page)
    assert not page.locator(".site-header nav").is_visible()
    assert not page.locator(".site-footer").is_visible()
    assert not page.locator(".pledge-links").is_visible()
    assert page.locator("h1").is_visible()
    assert page.get_by_text("Detta genom att:").first.is_visible()
    # Links are written out on paper.
    after = page.evaluate(
        "getComputedStyle(document.querySelector('main a[href^=\\'/\\']'), '::after').content"
    )
    assert "/osthammar/" in after
    # One or two A4 pages.
    pdf = page.pdf(format="A4")
    assert 1 <= len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) <= 2


def test_the_archive_works_by_keyboard(demo_site, page):
    page.goto(demo_site.url + "/osthammar/medborgarlofte/")
    target = "/osthammar/medborgarlofte/2021/"
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == target:
            break
    else:
        pytest.fail(f"{target} is not reachable by Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**" + target)
    assert page.locator("h1").inner_text() == "Medborgarlöfte 2021 – Östhammars kommun"


def test_the_municipality_page_links_the_archive_and_feed_by_keyboard(demo_site, page):
    page.goto(demo_site.url + "/osthammar/")
    seen = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        href = page.evaluate("document.activeElement.getAttribute('href')")
        if href:
            seen.add(href)
    assert "/osthammar/medborgarlofte/" in seen
    assert "/osthammar/flode.atom" in seen


def test_the_pledge_pages_have_no_csp_errors(demo_site, page):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    for path in _pages()[:3]:
        page.goto(demo_site.url + path)
    assert not errors, errors
