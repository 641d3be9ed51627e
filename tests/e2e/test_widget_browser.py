"""The widget on web pages in a real browser (headless Debian Chromium) against the local stack."""

from __future__ import annotations

import pytest
from e2e.browser import browser_page, chromium, screenshot
from playwright.sync_api import expect


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


def new_survey(stack, name: str) -> str:
    answer = stack.post(
        "/v1/surveys",
        {
            "name": name,
            "question": "How likely are you to recommend Acme Cloud to a friend or colleague?",
            "allowed_origins": [stack.base_url],
        },
    )
    assert answer.status == 201, answer.text
    return answer.json["survey_id"]


def stored(stack, survey_id: str) -> list[dict]:
    answer = stack.get(f"/v1/responses?survey_id={survey_id}")
    assert answer.status == 200, answer.text
    return answer.json["responses"]


def test_the_widget_on_a_page_records_a_click(stack, browser):
    survey_id = new_survey(stack, "E2E browser: widget")
    demo_url = f"{stack.base_url}/local/widget-demo?survey={survey_id}"

    with browser_page("widget", browser=browser) as page:
        page.goto(demo_url)
        widget = page.locator("section.nps-widget")
        expect(widget).to_be_visible()
        expect(widget).to_contain_text("How likely are you to recommend Acme Cloud")
        expect(widget.locator("button[data-score]")).to_have_count(11)
        # The widget sits inside the window, and the page (snippet included) needs no sideways scrolling.
        viewport = page.viewport_size
        box = widget.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (box, viewport)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        widget.locator("button[data-score='10']").click()
        expect(widget).to_have_attribute("data-state", "sent")
        expect(widget.get_by_role("status")).to_have_text("Thank you for your feedback!")
        expect(widget.locator("button[data-score]")).to_have_count(0)
        screenshot(page, "widget-sent")

    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["channel"]) == (10, "widget")
    assert answer["contact_id"] is None and answer["invitation_id"] is None
