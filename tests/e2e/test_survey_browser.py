"""A person answering in a real browser (headless Debian Chromium) against the local stack: the score link of an
email, the same page with script turned off, and the widget on a web page. Each test then reads the stored
response back through the export API."""

from __future__ import annotations

import secrets

import pytest
from e2e.browser import browser_page, chromium, screenshot
from playwright.sync_api import expect

DRIVERS = ["price", "support", "product"]


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
            "drivers": DRIVERS,
            "allowed_origins": [stack.base_url],
        },
    )
    assert answer.status == 201, answer.text
    return answer.json["survey_id"]


def invite_one(stack, survey_id: str) -> dict:
    contact = {
        "contact_id": f"e2e-browser-{secrets.token_hex(4)}",
        "account_id": "e2e-browser-account",
        "email": "browser.tester@example.org",
    }
    answer = stack.post(f"/v1/surveys/{survey_id}/invitations", {"contacts": [contact]})
    assert answer.status == 201, answer.text
    [invitation] = answer.json["invitations"]
    assert invitation["contact_id"] == contact["contact_id"] and "link" in invitation, invitation
    return invitation


def stored(stack, survey_id: str) -> list[dict]:
    answer = stack.get(f"/v1/responses?survey_id={survey_id}")
    assert answer.status == 200, answer.text
    return answer.json["responses"]


def score_radio(page, score: int):
    return page.locator(f"input[name=score][value='{score}']")


def test_an_email_score_link_records_the_score_then_the_comment_and_driver(stack, browser):
    survey_id = new_survey(stack, "E2E browser: email link")
    invitation = invite_one(stack, survey_id)
    comment = "Setup was quick, but the invoices confuse our finance team."

    with browser_page("survey-email-link", browser=browser) as page:
        page.goto(invitation["score_links"][3])
        expect(score_radio(page, 3)).to_be_checked()
        for other in (0, 9, 10):
            expect(score_radio(page, other)).not_to_be_checked()
        # The page's script records the chosen score on its own, then invites a comment.
        expect(page.locator("#status")).to_contain_text("score of 3 is recorded")
        screenshot(page, "survey-email-link-score")
        [answer] = stored(stack, survey_id)
        assert (answer["score"], answer["comment"], answer["drivers"]) == (3, None, [])

        page.locator("#comment").fill(comment)
        page.get_by_label("support").check()
        page.locator("#submit").click()
        expect(page.locator("#status")).to_have_text("Thank you for your feedback!")
        expect(page.locator("#submit")).to_have_text("Update")
        screenshot(page, "survey-email-link-sent")

    [answer] = stored(stack, survey_id)
    assert answer["score"] == 3
    assert answer["comment"] == comment
    assert answer["drivers"] == ["support"]
    assert answer["channel"] == "email"
    assert (answer["invitation_id"], answer["contact_id"]) == (invitation["invitation_id"], invitation["contact_id"])


def test_without_script_the_form_button_records_the_answer(stack, browser):
    survey_id = new_survey(stack, "E2E browser: no script")
    invitation = invite_one(stack, survey_id)

    with browser_page("survey-no-script", browser=browser, java_script_enabled=False) as page:
        page.goto(invitation["link"])
        for score in range(11):
            expect(score_radio(page, score)).not_to_be_checked()
        # The radio itself is visually hidden behind its styled label, which is what a person clicks.
        page.locator("label", has=score_radio(page, 9)).click()
        expect(score_radio(page, 9)).to_be_checked()
        page.locator("#comment").fill("Works fine without JavaScript.")
        assert stored(stack, survey_id) == [], "nothing is recorded before the button is pressed"
        with page.expect_navigation():
            page.locator("#submit").click()
        expect(page.locator("h1")).to_have_text("Thank you!")
        expect(page.get_by_role("status")).to_have_text("Your score of 9 is recorded.")
        change = page.get_by_role("link", name="Change your answer or add a comment")
        # A relative link (works under a stage prefix too) that the browser resolves back to the survey page.
        expect(change).to_have_attribute("href", "./" + invitation["link"].rsplit("/s/", 1)[1] + "?score=9")
        assert change.evaluate("a => a.href") == f"{invitation['link']}?score=9"
        screenshot(page, "survey-no-script-thanks")

    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["comment"], answer["channel"]) == (9, "Works fine without JavaScript.", "email")

