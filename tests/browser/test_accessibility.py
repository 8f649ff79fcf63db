"""Every public page reachable from the home page passes axe (WCAG 2.1 A
and AA) in Chromium, and the pages work by keyboard."""

from urllib.parse import urljoin, urlparse

import pytest

pytestmark = pytest.mark.browser

SKIP_PREFIXES = ("/admin/", "/static/", "/sprak/", "/healthz")


def crawl(page, base_url, limit=200):
    """Breadth-first over same-site links from the home page."""
    seen, queue, pages = set(), ["/"], []
    while queue and len(pages) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(urljoin(base_url, path))
        if (
            response is None
            or response.status != 200
            or "html" not in response.headers.get("content-type", "")
        ):
            continue
        pages.append(path)
        for href in page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href'))"
        ):
            target = urlparse(urljoin(base_url + path, href))
            if target.netloc != urlparse(base_url).netloc or target.path.startswith(SKIP_PREFIXES):
                continue
            if target.path not in seen:
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return pages


def test_every_public_page_passes_axe(demo_site, page, axe_check):
    pages = crawl(page, demo_site.url)
    assert "/" in pages and "/om/" in pages and "/tillganglighet/" in pages
    for path in pages:
        page.goto(demo_site.url + path)
        axe_check(page)


def test_every_public_page_passes_axe_in_english(demo_site, page, axe_check):
    page.goto(demo_site.url + "/sprak/en/?next=/")
    assert page.locator("html").get_attribute("lang") == "en"
    for path in crawl(page, demo_site.url, limit=30):
        page.goto(demo_site.url + path)
        axe_check(page)


def test_feedback_form_error_state_passes_axe(demo_site, page, axe_check):
    page.goto(demo_site.url + "/tillganglighet/")
    page.get_by_role("button", name="Skicka").click()
    assert page.locator("#error-summary").is_visible()
    axe_check(page)


def test_skip_link_is_first_and_leads_to_the_main_content(demo_site, page):
    page.goto(demo_site.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Hoppa till huvudinnehållet"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    # The jump to #main lands a moment after the key press: waited for,
    # not read at once (it failed once in CI on a busy machine).
    page.wait_for_url("**#main", timeout=5000)
    assert page.url.endswith("#main")
    page.keyboard.press("Tab")
    in_main = page.evaluate("document.activeElement.closest('main') !== null")
    assert in_main


def test_feedback_can_be_sent_by_keyboard_only(demo_site, page):
    from portal.models import AccessibilityFeedback

    page.goto(demo_site.url + "/tillganglighet/")
    page.get_by_label("Ditt meddelande").focus()
    page.keyboard.type("Kontrasten på knapparna är för låg.")
    # Tab forward to the submit button and press Enter.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/tillganglighet/tack/")
    assert AccessibilityFeedback.objects.filter(message__contains="Kontrasten").exists()


def test_pages_have_no_console_errors_from_csp(demo_site, page):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    for path in ["/", "/om/", "/tillganglighet/"]:
        page.goto(demo_site.url + path)
    assert not [e for e in errors if "Content Security Policy" in e], errors
