"""The survey in a real browser: axe (WCAG 2.1 A/AA) on every survey page,
in Swedish and Finnish, the error state, and answering by keyboard only."""

import pytest

pytestmark = pytest.mark.browser

FORM = "/osthammar/enkat/trygghetsenkat-2026/"


def test_the_survey_form_passes_axe_in_swedish_and_finnish(demo_site, page, axe_check):
    page.goto(demo_site.url + FORM)
    assert page.get_by_role("heading", name="Trygghetsenkät 2026").is_visible()
    axe_check(page)
    page.goto(demo_site.url + FORM + "?sprak=fi")
    assert page.locator("div[lang=fi]").count() == 1
    axe_check(page)


def test_the_error_state_passes_axe_and_links_to_the_fields(demo_site, page, axe_check):
    page.goto(demo_site.url + FORM)
    page.get_by_role("button", name="Skicka svaren").click()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    axe_check(page)
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.name") == "q_trygghet_ute_kvall"


def test_the_language_switch_keeps_what_was_filled_in(demo_site, page):
    page.goto(demo_site.url + FORM)
    page.get_by_label("Ganska trygg").first.check()
    page.get_by_role("button", name="Suomi").click()
    assert page.get_by_label("Melko turvalliseksi").first.is_checked()


def test_the_thanks_closed_and_results_pages_pass_axe(demo_site, page, axe_check):
    for path in (
        FORM + "tack/",
        "/osthammar/enkat/hosten-2020/",
        "/osthammar/enkat/hosten-2020/resultat/",
        "/osthammar/enkat/hosten-2021/resultat/",
    ):
        response = page.goto(demo_site.url + path)
        assert response.status == 200, path
        axe_check(page)


def test_the_whole_survey_can_be_answered_by_keyboard_only(demo_site, page):
    from surveys.models import Response, Survey

    survey = Survey.objects.get(slug="trygghetsenkat-2026")
    before = Response.objects.filter(survey=survey).count()
    page.goto(demo_site.url + FORM)
    # Tab into the first question and answer every radio group with the
    # arrow keys (the first arrow press selects the next answer).
    page.locator("#id_q_trygghet_ute_kvall_0").focus()
    page.keyboard.press("Space")
    answered = 0
    for _ in range(400):
        page.keyboard.press("Tab")
        info = page.evaluate(
            "({type: document.activeElement.type, name: document.activeElement.name, "
            "text: document.activeElement.textContent.trim()})"
        )
        if info["type"] == "radio":
            page.keyboard.press("ArrowDown")
            answered += 1
        elif info["type"] == "submit" and info["name"] == "send":
            break
    assert answered >= 30
    page.keyboard.press("Enter")
    page.wait_for_url("**/tack/")
    assert "Tack för dina svar" in page.content()
    assert Response.objects.filter(survey=survey).count() == before + 1
