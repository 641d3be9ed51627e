"""A person answering in a real browser (headless Debian Chromium) against the local stack: the score link of an
email, the same page with script turned off, and mail scanners that run the page's script. Each test then reads
the stored response back through the admin API.

Time on the page is the page's own clock (Playwright's `clock`), fast-forwarded, not slept: the page decides
from its timers, and so does a scanner that leaves after a few seconds. Settlement is fired "later" through the
local scheduler's `at`.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

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


def posts_of(page) -> list[dict]:
    """Every answer the page posts, as sent (a list that fills while the page runs)."""
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.method == "POST" else None)
    return sent


def settle_later(stack, minutes: float = 3) -> dict:
    """Fire the settle job as if it ran `minutes` from now (past the 90 s quiet period); its counts."""
    at = (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = stack.post(f"/local/scheduler/fire?name=settle_pending&at={at}")
    assert answer.status == 200, answer.text
    stack.drain_stream()
    return answer.json["result"]


def tasks_of(stack, survey_id: str) -> list[dict]:
    answer = stack.get(f"/v1/tasks?survey_id={survey_id}")
    assert answer.status == 200, answer.text
    return answer.json["tasks"]


def test_an_email_score_link_records_the_score_once_the_person_types(stack, browser):
    survey_id = new_survey(stack, "E2E browser: email link")
    invitation = invite_one(stack, survey_id)
    comment = "Setup was quick, but the invoices confuse our finance team."

    with browser_page("survey-email-link", browser=browser) as page:
        sent = posts_of(page)
        page.clock.install()
        page.goto(invitation["score_links"][3])
        expect(score_radio(page, 3)).to_be_checked()
        for other in (0, 9, 10):
            expect(score_radio(page, other)).not_to_be_checked()
        # Loading the page records nothing: it says the score will be saved, and waits for the person.
        expect(page.locator("#status")).to_contain_text("You chose 3")
        assert sent == [] and stored(stack, survey_id) == []
        screenshot(page, "survey-email-link-score")

        # Typing is a gesture: the chosen score is recorded at once, and counted.
        page.locator("#comment").press_sequentially("Setup")
        expect(page.locator("#status")).to_contain_text("score of 3 is recorded")
        [answer] = stored(stack, survey_id)
        assert (answer["score"], answer["status"], answer["comment"]) == (3, "counted", None)

        page.locator("#comment").fill(comment)
        page.get_by_label("support").check()
        page.locator("#submit").click()
        expect(page.locator("#status")).to_have_text("Thank you for your feedback!")
        expect(page.locator("#submit")).to_have_text("Update")
        screenshot(page, "survey-email-link-sent")
        assert {p["signal"] for p in sent} == {"gesture"} and len({p["submission"] for p in sent}) == len(sent)

    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["comment"], answer["drivers"]) == (3, comment, ["support"])
    assert (answer["channel"], answer["status"]) == ("email", "counted")
    assert (answer["invitation_id"], answer["contact_id"]) == (invitation["invitation_id"], invitation["contact_id"])


def test_a_scanner_that_leaves_each_score_link_after_two_seconds_records_nothing(stack, browser):
    survey_id = new_survey(stack, "E2E browser: quick scanner")
    invitation = invite_one(stack, survey_id)
    with browser_page("survey-scanner-quick", browser=browser) as page:
        sent = posts_of(page)
        page.clock.install()
        for score, url in enumerate(invitation["score_links"]):
            page.goto(url)
            expect(score_radio(page, score)).to_be_checked()
            assert page.evaluate("document.visibilityState") == "visible"
            page.clock.run_for(2000)  # the scanner's two seconds on the page
        page.goto("about:blank")
    assert sent == []
    assert stored(stack, survey_id) == []
    settle_later(stack)
    assert stored(stack, survey_id) == [] and tasks_of(stack, survey_id) == []


def test_all_eleven_score_links_open_at_once_count_nothing_and_open_no_task(stack, browser):
    survey_id = new_survey(stack, "E2E browser: scanner opening every link")
    invitation = invite_one(stack, survey_id)
    with browser_page("survey-scanner-all", browser=browser) as first:
        context = first.context
        context.clock.install()
        pages = [first] + [context.new_page() for _ in range(10)]
        errors: list[str] = []
        for score, (page, url) in enumerate(zip(pages, invitation["score_links"], strict=True)):
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)
            expect(score_radio(page, score)).to_be_checked()
        first.clock.run_for(12_000)  # one clock for the whole context: every page stays 12 s
        for score, page in enumerate(pages):
            # The script ran and recorded each page's view (kept pending), as a script-running scanner would.
            expect(page.locator("#status")).to_contain_text(f"score of {score} is saved")
        screenshot(pages[5], "survey-scanner-all-open")
        assert errors == []
    [answer] = stored(stack, survey_id)
    assert answer["status"] == "pending"
    settled = settle_later(stack)
    assert settled["excluded"] >= 1, settled
    [answer] = stored(stack, survey_id)
    assert (answer["status"], answer["excluded_reason"]) == ("excluded", "suspected_scanner")
    assert tasks_of(stack, survey_id) == []


def test_a_person_who_stays_on_one_link_is_recorded_and_later_counted(stack, browser):
    survey_id = new_survey(stack, "E2E browser: person who reads")
    invitation = invite_one(stack, survey_id)
    with browser_page("survey-person-stays", browser=browser) as page:
        sent = posts_of(page)
        page.clock.install()
        page.goto(invitation["score_links"][2])
        page.clock.run_for(8000)  # eight seconds reading, no touch
        expect(page.locator("#status")).to_have_text("Your score of 2 is saved. Tell us more below if you like.")
        screenshot(page, "survey-person-stays")
    assert [p["signal"] for p in sent] == ["dwell"]
    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["status"]) == (2, "pending")
    stack.drain_stream()
    assert tasks_of(stack, survey_id) == [], "a pending answer opens no task"
    settle_later(stack)
    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["status"]) == (2, "counted")
    [task] = tasks_of(stack, survey_id)
    assert (task["score"], task["kind"]) == (2, "recovery")


def test_a_person_tapping_another_score_is_counted_at_once(stack, browser):
    survey_id = new_survey(stack, "E2E browser: person who taps")
    invitation = invite_one(stack, survey_id)
    with browser_page(
        "survey-person-taps", browser=browser, has_touch=True, viewport={"width": 390, "height": 844}
    ) as page:
        sent = posts_of(page)
        page.clock.install()
        page.goto(invitation["score_links"][3])
        page.locator("label", has=score_radio(page, 9)).tap()
        expect(score_radio(page, 9)).to_be_checked()
        expect(page.locator("#status")).to_contain_text("score of 9 is recorded")
        page.clock.run_for(10_000)  # staying on afterwards adds no dwell
        screenshot(page, "survey-person-taps")
    assert [(p["score"], p["signal"]) for p in sent] == [(9, "gesture")], "the link's 3 is never sent"
    [answer] = stored(stack, survey_id)
    assert (answer["score"], answer["status"]) == (9, "counted")


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_the_scale_is_one_row_of_eleven_equal_options(stack, browser, width):
    survey_id = new_survey(stack, f"E2E browser: scale at {width}")
    invitation = invite_one(stack, survey_id)
    with browser_page(f"survey-scale-{width}", browser=browser, viewport={"width": width, "height": 800}) as page:
        page.goto(invitation["score_links"][7])
        labels = [page.locator("label", has=score_radio(page, n)) for n in range(11)]
        boxes = [label.bounding_box() for label in labels]
        tops = {round(b["y"]) for b in boxes}
        widths = [b["width"] for b in boxes]
        assert len(tops) == 1, f"one row: {tops}"
        assert max(widths) - min(widths) < 1, widths
        assert boxes[0]["x"] >= 0 and boxes[10]["x"] + boxes[10]["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
        for n, label in enumerate(labels):
            assert label.locator("span").evaluate("s => s.scrollWidth <= s.clientWidth"), f"{n} fits its option"
        ends = page.locator(".ends span")
        low, high = ends.first.bounding_box(), ends.last.bounding_box()
        first_left, last_right = boxes[0]["x"], boxes[10]["x"] + boxes[10]["width"]
        assert abs(low["x"] - first_left) < 2, "Not at all likely starts under 0"
        assert abs(high["x"] + high["width"] - last_right) < 2, "Extremely likely ends under 10"
        assert low["y"] >= boxes[0]["y"] + boxes[0]["height"] - 1 and abs(low["y"] - high["y"]) < 2
        assert page.evaluate("document.documentElement.lang") == "en"
        screenshot(page, f"survey-scale-{width}")


def test_a_survey_in_german_at_320_px(stack, browser):
    survey_id = new_survey(stack, "E2E browser: German")
    answer = stack.patch(
        f"/v1/surveys/{survey_id}",
        {
            "language": "de",
            "question": "Wie wahrscheinlich ist es, dass Sie Acme Cloud einem Freund oder Kollegen empfehlen?",
            "strings": {
                "scale_label": "Ihre Bewertung von 0 bis 10",
                "scale_low": "Überhaupt nicht wahrscheinlich",
                "scale_high": "Äußerst wahrscheinlich",
                "comment_label": "Was ist der wichtigste Grund für Ihre Bewertung?",
                "drivers_label": "Was war am wichtigsten?",
                "send": "Senden",
                "thanks": "Vielen Dank!",
                "score_chosen": "Sie haben {score} gewählt. Wir speichern es gleich.",
                "score_recorded": "Danke! Ihre Bewertung {score} ist gespeichert.",
            },
        },
    )
    assert answer.status == 200, answer.text
    invitation = invite_one(stack, survey_id)
    with browser_page("survey-german-320", browser=browser, viewport={"width": 320, "height": 700}) as page:
        page.clock.install()
        page.goto(invitation["score_links"][10])
        assert page.evaluate("document.documentElement.lang") == "de"
        expect(page.locator("#status")).to_have_text("Sie haben 10 gewählt. Wir speichern es gleich.")
        expect(page.locator(".ends")).to_contain_text("Äußerst wahrscheinlich")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        screenshot(page, "survey-german-320")
        page.locator("#submit").click()
        expect(page.locator("#status")).to_have_text("Vielen Dank!")
    [stored_answer] = stored(stack, survey_id)
    assert (stored_answer["score"], stored_answer["status"]) == (10, "counted")


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


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_without_script_a_form_that_does_not_validate_says_why_and_leads_back(stack, browser, width):
    survey_id = new_survey(stack, f"E2E browser: no-script error at {width}")
    invitation = invite_one(stack, survey_id)
    with browser_page(
        f"survey-no-script-error-{width}",
        browser=browser,
        java_script_enabled=False,
        viewport={"width": width, "height": 700},
        allowed_errors="422",
    ) as page:
        page.goto(invitation["link"])
        page.locator("#comment").fill("I forgot to pick a score.")
        with page.expect_navigation():
            page.locator("#submit").click()
        expect(page.get_by_role("alert")).to_have_text("Your answer could not be saved.")
        expect(page.locator("main")).to_contain_text("Choose a score from 0 to 10 first.")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"survey-no-script-error-{width}")
        with page.expect_navigation():
            page.get_by_role("link", name="Back to the survey").click()
        assert page.url == invitation["link"]
        expect(page.locator("input[name=score]")).to_have_count(11)
    assert stored(stack, survey_id) == []
