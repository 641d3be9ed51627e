"""The loop end to end in a real browser, on the local stack: a survey emailed with "send": true, the email
opened in the local outbox, score 2 clicked in the rendered email, a comment added on the page it opens, and
the close-the-loop task found with that comment. Then a bounce played through the outbox stops any more mail."""

from __future__ import annotations

import secrets

import pytest
from e2e.browser import browser_page, chromium, screenshot
from playwright.sync_api import expect

from chalicelib.domain import page_text


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


def test_an_emailed_survey_answered_from_the_outbox_opens_a_task_with_the_comment(stack, browser):
    tag = secrets.token_hex(4)
    survey = stack.post(
        "/v1/surveys",
        {
            "name": f"E2E outbox {tag}",
            "drivers": ["price", "support"],
            "loop_rules": {"categories": ["detractor"], "sla_hours": 48, "fallback_owner": "cx@example.org"},
        },
    )
    assert survey.status == 201, survey.text
    survey_id = survey.json["survey_id"]
    account, contact = f"e2e-outbox-acct-{tag}", f"e2e-outbox-{tag}"
    assert stack.put(f"/v1/accounts/{account}", {"name": "Outbox Ltd", "owner": "olive@example.org"}).status == 201
    person = {"account_id": account, "email": f"{contact}@example.org", "name": "Robin Tester", "language": "fr"}
    assert stack.put(f"/v1/contacts/{contact}", person).status == 201
    invited = stack.post(f"/v1/surveys/{survey_id}/invitations", {"contacts": [{"contact_id": contact}], "send": True})
    assert invited.status == 201, invited.text
    [invitation] = invited.json["invitations"]
    assert invitation["email"] == "queued"
    assert stack.post("/local/outbox/poll").status == 200

    comment = "La facture était fausse deux fois."
    with browser_page("outbox-answer", browser=browser, viewport={"width": 390, "height": 900}) as page:
        page.goto(stack.url(f"/local/outbox?token={stack.admin_token}"))
        email = page.locator("article.email", has=page.locator("td", has_text=f"{contact}@example.org"))
        expect(email).to_have_count(1)
        frame = email.locator("iframe").content_frame
        expect(frame.locator("html")).to_have_attribute("lang", "fr")
        screenshot(page, "outbox-390")
        with page.context.expect_page() as opened:
            frame.locator('a[href*="?score=2&lang=fr"]').click()
        survey_page = opened.value
        # The page speaks the email's language: its links carry it.
        expect(survey_page.locator("html")).to_have_attribute("lang", "fr")
        expect(survey_page.locator("input[name=score][value='2']")).to_be_checked()
        survey_page.locator("#comment").fill(comment)
        survey_page.locator("#submit").click()
        expect(survey_page.locator("#status")).to_have_text(page_text.BUILT_IN["fr"]["thanks"])
        screenshot(survey_page, "outbox-answered")

    stack.drain_stream()
    tasks = stack.get(f"/v1/tasks?survey_id={survey_id}").json["tasks"]
    assert [(t["score"], t["comment"], t["contact_id"]) for t in tasks] == [(2, comment, contact)]
    shown = stack.get(f"/v1/invitations/{invitation['invitation_id']}").json
    assert shown["answered"] is True and [h["event"] for h in shown["history"]] == ["queued", "sent", "answered"]

    # A permanent bounce, played through the outbox: the contact is bounced and no more invitations go.
    [sent] = [e for e in stack.get("/local/outbox.json").json["emails"] if f"{contact}@example.org" in e["to"]]
    assert stack.post(f"/local/outbox/feedback?id={sent['id']}&outcome=bounced").json["result"] == "bounced"
    assert stack.get(f"/v1/contacts/{contact}").json["status"] == "bounced"
    again = stack.post(f"/v1/surveys/{survey_id}/invitations", {"contacts": [{"contact_id": contact}], "send": True})
    assert again.json["invitations"] == [{"contact_id": contact, "skipped": "bounced"}]
