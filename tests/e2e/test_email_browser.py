"""The survey email in a real browser (headless Debian Chromium) at a phone's width, 375 px: in English, in
German (the longest words) and in Arabic (right to left), light and dark. Nothing may overflow sideways, and
each of the 11 score links must be visible, big enough to tap, the element under its centre, and open its own
score when clicked. The email is rendered by the domain (no stack): the sender sends exactly this HTML."""

from __future__ import annotations

import pytest
from e2e.browser import browser_page, chromium, screenshot
from playwright.sync_api import expect

from chalicelib.domain import email_text, page_text, survey_email

BASE = "https://nps.example.test"
SCORE_LINKS = [f"{BASE}/s/tok?score={n}" for n in range(11)]
ARABIC = {
    "ar": {
        "question": "ما مدى احتمال أن توصي بنا لصديق أو زميل؟",
        "scale_low": "غير محتمل على الإطلاق",
        "scale_high": "محتمل للغاية",
    }
}
CASES = [("en", "light"), ("en", "dark"), ("de", "light"), ("ar", "dark")]


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


def email_html(language: str) -> str:
    text = email_text.email_text(page_text.DEFAULT_QUESTIONS["en"], ARABIC, language)
    return survey_email.render_survey_email(
        text,
        score_links=SCORE_LINKS,
        page_link=f"{BASE}/s/tok",
        unsubscribe_link=f"{BASE}/u/unsub",
        name="Anna-Katharina Schmidt-Weißenfels",
    ).html


@pytest.mark.parametrize(("language", "scheme"), CASES)
def test_the_email_fits_a_phone_and_every_score_link_can_be_tapped(browser, language, scheme):
    name = f"email-{language}-{scheme}-375"
    with browser_page(name, browser=browser, viewport={"width": 375, "height": 740}, color_scheme=scheme) as page:
        # The links lead nowhere real: the browser's requests for them are answered here, and recorded.
        opened: list[str] = []

        def answer(route):
            opened.append(route.request.url)
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>score</title>")

        page.context.route(f"{BASE}/**", answer)
        page.set_content(email_html(language))
        screenshot(page, name)

        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1] == 375, f"horizontal overflow: {widths}"
        assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")

        buttons = page.locator("a.nps-btn-a")
        assert buttons.count() == 11
        boxes = []
        for score in range(11):
            link = buttons.nth(score)
            assert link.is_visible(), score
            assert link.inner_text() == str(score) and link.get_attribute("href") == SCORE_LINKS[score]
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, (score, box)
            assert box["width"] >= 24 and box["height"] >= 40, ("too small to tap", score, box)
            centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('a')?.href", list(centre))
            assert hit == SCORE_LINKS[score], (score, hit)
            boxes.append(box)
        # One row, in reading order: 0 at the start side (left, or right in Arabic).
        assert len({round(b["y"]) for b in boxes}) == 1
        xs = [b["x"] for b in boxes]
        assert xs == sorted(xs, reverse=language == "ar")

        for score in (0, 2, 10):
            with page.context.expect_page() as popup:
                buttons.nth(score).click()
            popup.value.wait_for_load_state()
            assert popup.value.url == SCORE_LINKS[score]
            popup.value.close()
        assert opened == [SCORE_LINKS[0], SCORE_LINKS[2], SCORE_LINKS[10]]
        unsubscribe = email_text.BUILT_IN.get(language, email_text.ENGLISH)["unsubscribe"]
        expect(page.get_by_role("link", name=unsubscribe, exact=True)).to_be_visible()
        expect(page.get_by_role("link", name=unsubscribe, exact=True)).to_have_attribute("href", f"{BASE}/u/unsub")
