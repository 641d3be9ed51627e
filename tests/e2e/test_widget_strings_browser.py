"""The widget speaks its survey's own words, in a real browser (headless Debian Chromium) against the local stack:
it asks `GET /v1/surveys/{survey_id}/widget-strings` before it shows its card, draws right-to-left languages
right to left, and falls back to its built-in words when that answer fails or does not come in time.

Host pages come from tests/e2e/test_widget_browser.py's small web server (another origin than the stack's)."""

from __future__ import annotations

import pytest
from e2e.browser import browser_page, chromium, screenshot
from e2e.test_widget_browser import (
    HostSite,
    assert_inside,
    assert_on_top,
    assert_readable,
    box_of,
    host_page,
    new_survey,
    stored,
)
from playwright.sync_api import expect

from chalicelib.domain import widget_text

VIEWPORTS = {390: 844, 1280: 800}
GERMAN = {
    "question": "Wie wahrscheinlich ist es, dass Sie Acme Cloud einer Kollegin oder einem Kollegen empfehlen?",
    "widget_label": "Ihre Meinung zu Acme",
    "scale_low": "Auf keinen Fall",
    "scale_high": "Auf jeden Fall",
    "widget_close": "Zumachen",
    "widget_recorded": "Danke! Wir haben Ihre Bewertung.",
    "widget_more": "Was können wir besser machen? (freiwillig)",
    "send": "Abschicken",
}
HEBREW = {
    "question": "עד כמה סביר שתמליצו על Acme Cloud לחבר או לעמית?",
    "widget_label": "משוב",
    "scale_label": "הציון שלך, מ-0 (בכלל לא סביר) עד 10 (סביר מאוד)",
    "scale_low": "בכלל לא סביר",
    "scale_high": "סביר מאוד",
    "widget_close": "סגירה",
    "widget_recorded": "תודה! הציון שלך נרשם.",
    "widget_more": "רוצים להוסיף משהו? (לא חובה)",
    "send": "שליחה",
    "thanks": "תודה על המשוב!",
    "widget_failed": "מצטערים, לא הצלחנו לשלוח את התשובה. נסו שוב.",
}
ARABIC = {
    "question": "ما مدى احتمال أن توصي بـ Acme Cloud لصديق أو زميل؟",
    "widget_label": "رأيك",
    "scale_low": "غير محتمل إطلاقًا",
    "scale_high": "محتمل جدًا",
    "widget_close": "إغلاق",
}


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def site():
    running = HostSite()
    yield running
    running.close()


def viewport(width: int) -> dict:
    return {"width": width, "height": VIEWPORTS[width]}


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_the_widget_shows_its_surveys_own_german_words(stack, browser, site, width):
    survey_id = new_survey(stack, f"E2E widget strings: de {width}", [site.origin], strings={"de": GERMAN})

    with browser_page(f"widget-strings-de-{width}", browser=browser, viewport=viewport(width)) as page:
        page.goto(site.add(host_page(stack, survey_id, hostile=False, attrs='data-lang="de-DE"', question=None)))
        card = page.locator("nps-widget .card")
        expect(card).to_have_attribute("aria-label", GERMAN["widget_label"])
        expect(card).to_have_attribute("lang", "de")
        expect(card).to_have_attribute("dir", "ltr")
        expect(card.locator(".question")).to_have_text(GERMAN["question"])
        expect(card.locator(".ends span")).to_have_text([GERMAN["scale_low"], GERMAN["scale_high"]])
        close = page.get_by_role("button", name=GERMAN["widget_close"])
        expect(close).to_be_visible()
        card_box = box_of(card)
        assert_inside(card_box, {"x": 0, "y": 0, **viewport(width)}, "card")
        assert_on_top(page, close, "close")
        assert_readable(page, {GERMAN["question"], GERMAN["scale_low"], GERMAN["scale_high"], "0", "10"})
        screenshot(page, f"widget-strings-de-{width}")

        page.locator("nps-widget button[data-score='9']").click()
        expect(page.get_by_role("status")).to_have_text(GERMAN["widget_recorded"])
        comment = page.get_by_label(GERMAN["widget_more"])
        send = page.get_by_role("button", name=GERMAN["send"])
        for part in (comment, send):
            expect(part).to_be_visible()
            assert_inside(box_of(part), box_of(card), "comment step")
        assert_readable(page, {GERMAN["widget_recorded"], GERMAN["widget_more"], GERMAN["send"]})
        screenshot(page, f"widget-strings-de-{width}-comment")

    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["channel"]) == (9, "widget")


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_a_hebrew_widget_renders_right_to_left(stack, browser, site, width):
    survey_id = new_survey(stack, f"E2E widget strings: he {width}", [site.origin], strings={"he": HEBREW})

    with browser_page(f"widget-strings-he-{width}", browser=browser, viewport=viewport(width)) as page:
        page.goto(site.add(host_page(stack, survey_id, hostile=False, attrs='data-lang="he"', question=None)))
        card = page.locator("nps-widget .card")
        expect(card).to_have_attribute("dir", "rtl")
        expect(card).to_have_attribute("lang", "he")
        expect(card).to_have_attribute("aria-label", HEBREW["widget_label"])
        assert card.evaluate("e => getComputedStyle(e).direction") == "rtl"
        question = card.locator(".question")
        expect(question).to_have_text(HEBREW["question"])
        scores = page.locator("nps-widget button[data-score]")
        expect(scores).to_have_count(11)
        boxes = [box_of(scores.nth(n)) for n in range(11)]
        assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < 0.5, boxes  # one row
        assert all(boxes[n]["x"] > boxes[n + 1]["x"] for n in range(10)), boxes  # 0 on the right, 10 on the left
        low, high = (box_of(card.locator(".ends span").nth(n)) for n in range(2))
        assert low["x"] > high["x"], "the low end sits under 0, on the right"
        card_box = box_of(card)
        close = page.get_by_role("button", name=HEBREW["widget_close"])
        close_box, question_box = box_of(close), box_of(question)
        # The close button at the start of a right-to-left line (the left), clear of the question.
        assert close_box["x"] + close_box["width"] < card_box["x"] + card_box["width"] / 2, close_box
        assert close_box["x"] + close_box["width"] <= question_box["x"] + 0.5, (close_box, question_box)
        assert_inside(card_box, {"x": 0, "y": 0, **viewport(width)}, "card")
        for n in range(11):
            assert_inside(boxes[n], card_box, f"score {n}")
            assert_on_top(page, scores.nth(n), f"score {n}")
        assert_on_top(page, close, "close")
        assert_readable(page, {HEBREW["question"], HEBREW["scale_low"], HEBREW["scale_high"]})
        screenshot(page, f"widget-strings-he-{width}")

        scores.nth(3).click()
        expect(page.get_by_role("status")).to_have_text(HEBREW["widget_recorded"])
        comment = page.get_by_label(HEBREW["widget_more"])
        send = page.get_by_role("button", name=HEBREW["send"])
        assert box_of(send)["x"] < box_of(comment)["x"], "Send follows the field, to its left"
        assert_readable(page, {HEBREW["widget_recorded"], HEBREW["widget_more"], HEBREW["send"]})
        screenshot(page, f"widget-strings-he-{width}-comment")
        comment.fill("שירות מצוין")
        send.click()
        expect(page.get_by_role("status")).to_have_text(HEBREW["thanks"])
        screenshot(page, f"widget-strings-he-{width}-thanks")

    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["comment"]) == (3, "שירות מצוין")


def test_without_data_lang_the_browsers_arabic_is_asked_for_and_renders_right_to_left(stack, browser, site):
    survey_id = new_survey(stack, "E2E widget strings: ar", [site.origin], strings={"ar": ARABIC})
    # No data-lang and no <html lang>: the widget leaves the language to the browser's Accept-Language.
    html = host_page(stack, survey_id, hostile=False, question=None).replace('<html lang="en">', "<html>")

    with browser_page("widget-strings-ar", browser=browser, viewport=viewport(390), locale="ar-EG") as page:
        page.goto(site.add(html))
        card = page.locator("nps-widget .card")
        expect(card).to_have_attribute("lang", "ar")
        expect(card).to_have_attribute("dir", "rtl")
        expect(card.locator(".question")).to_have_text(ARABIC["question"])
        expect(page.get_by_role("button", name=ARABIC["widget_close"])).to_be_visible()
        assert_readable(page, {ARABIC["question"], ARABIC["scale_low"], ARABIC["scale_high"]})
        screenshot(page, "widget-strings-ar-390")


@pytest.mark.parametrize("trouble", ["fails", "too-slow"])
def test_when_the_words_do_not_come_the_widget_shows_its_built_in_ones(stack, browser, site, trouble):
    survey_id = new_survey(stack, f"E2E widget strings: {trouble}", [site.origin], strings={"de": GERMAN})
    built_in = widget_text.widget_strings(None, None, "de")
    held = []

    def hold(route):  # never answered: the widget stops waiting
        held.append(route)

    with browser_page(
        f"widget-strings-{trouble}",
        browser=browser,
        viewport=viewport(390),
        allowed_errors="Failed to load resource|ERR_FAILED|widget-strings",
    ) as page:
        if trouble == "fails":
            page.route("**/widget-strings*", lambda route: route.abort())
        else:
            page.route("**/widget-strings*", hold)
        page.goto(site.add(host_page(stack, survey_id, attrs='data-lang="de"', question=None)))
        card = page.locator("nps-widget .card")
        expect(card).to_have_attribute("aria-label", built_in["label"])
        expect(card.locator(".question")).to_have_text(built_in["question"])
        expect(card.locator(".ends span")).to_have_text([built_in["low"], built_in["high"]])
        expect(page.get_by_role("button", name=built_in["close"])).to_be_visible()
        page.locator("nps-widget button[data-score='6']").click()
        expect(page.get_by_role("status")).to_have_text(built_in["recorded"])
        for route in held:
            route.abort()

    assert (trouble == "too-slow") == bool(held)
    assert [a["score"] for a in stored(stack, survey_id)] == [6]
