"""Erasure that really anonymises, end to end through the real stream: after `DELETE /v1/contacts/{id}` no
response, fact, task or invitation links a kept score to the person, no text that quotes them is left, their
links and widget identity create nothing (410), and a call that failed halfway is finished by calling again."""

from __future__ import annotations

import json

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from support import path_of
from support_ddb import all_tables, assert_error, invite

from chalicelib.domain import clock, tokens
from chalicelib.store.models import Contact, Invitation, LoopTask, Response, ResponseFact
from nps_local.responses_stream import responses_poller

EMAIL, NAME = "ana.lopez@example.com", "Ana Lopez"
SHOP = "https://shop.example.com"


@pytest.fixture
def person(api, survey):
    """Ana: invited twice (one link answered with a comment that names her, one never answered), one widget
    answer with her identity, a task whose notes and resolution quote her; all through the stream."""
    sid = survey["survey_id"]
    reader = responses_poller(api.client)
    assert api.put("/v1/accounts/acc-1", {"owner": "olive@example.com", "manager": "max@example.com"}).status_code
    other = api.post("/v1/surveys", {"name": "Onboarding"}).json["survey_id"]
    contact = {"contact_id": "con-1", "account_id": "acc-1", "email": EMAIL, "name": NAME}
    answered = invite(api, sid, contact)[0]
    unanswered = invite(api, other, contact)[0]
    link = path_of(answered["link"])
    r = api.post(link, {"score": 2, "comment": f"Write to me at {EMAIL}, {NAME}", "drivers": ["support"]}, token=None)
    assert r.status_code == 201, r.body
    identity = tokens.identity_signature(survey["identity_secret"], "con-1", "acc-1")
    widget = {
        "score": 10,
        "comment": "Love it",
        "contact_id": "con-1",
        "account_id": "acc-1",
        "identity": identity,
        "page": f"https://shop.example.com/account?email={EMAIL}",
    }
    r = api.post(f"/v1/surveys/{sid}/responses", widget, token=None, headers={"Origin": SHOP})
    assert r.status_code == 201, r.body
    assert reader.poll_once(redeliver=True)["records_discarded"] == 0
    (task,) = [t for t in LoopTask.scan() if t.kind == "recovery"]
    for change in (
        {"note": f"Called {NAME} on {EMAIL}"},
        {"status": "resolved", "root_cause": "support", "resolution": f"{NAME} got a refund"},
    ):
        assert api.patch(f"/v1/tasks/{task.task_id}", change).status_code == 200
    assert ResponseFact.count() == 2
    return {
        "reader": reader,
        "link": link,
        "unanswered": path_of(unanswered["link"]),
        "widget": widget,
        "survey_id": sid,
        "invitations": [answered["invitation_id"], unanswered["invitation_id"]],
    }


def text_of_every_table(but_contacts: bool = False) -> str:
    tables = all_tables()
    if but_contacts:  # the erased contact's own item keeps its id (and nothing else)
        tables.pop("Contact")
    return json.dumps(tables, default=str)


def assert_anonymous(person) -> None:
    everything, but_contacts = text_of_every_table(), text_of_every_table(but_contacts=True)
    for trace in (EMAIL, NAME, *person["invitations"]):
        assert trace not in everything, trace
    assert "con-1" not in but_contacts
    for r in Response.scan():
        assert r.contact_id is None and r.invitation_id is None and r.comment is None and r.page is None
    for f in ResponseFact.scan():
        assert f.contact_id is None and f.invitation_id is None
    for t in LoopTask.scan():
        assert t.contact_id is None and t.comment is None
    assert Invitation.count() == 0


def erase(api):
    r = api.delete("/v1/contacts/con-1")
    assert r.status_code == 200, r.body
    return r.json


def test_nothing_kept_links_a_score_to_the_person_and_the_scores_stay(api, person):
    scores_before = sorted(int(f.score) for f in ResponseFact.scan())
    result = erase(api)
    assert result["erased"] and result["contact_found"]
    assert (result["responses_erased"], result["invitations_deleted"], result["links_closed"]) == (2, 2, 1)
    assert person["reader"].poll_once(redeliver=True)["records_discarded"] == 0
    assert_anonymous(person)
    # The contact keeps only its id and the two dates.
    raw = Contact.get("con-1").attribute_values
    assert set(raw) == {"contact_id", "erased_at", "unsubscribed_at"}
    # Scores stay (facts are what metrics count); the task keeps its kind, score and status.
    assert sorted(int(f.score) for f in ResponseFact.scan()) == scores_before
    (task,) = [t for t in LoopTask.scan() if t.kind == "recovery"]
    assert (int(task.score), task.status, task.root_cause) == (2, "resolved", "support")
    # The never-answered invitation left a tombstone: no score, excluded as erased, in no export.
    tombstone = Response.get(clock.stable_id("rsp", person["invitations"][1]))
    assert (tombstone.score, tombstone.erased, tombstone.status, tombstone.excluded_reason) == (
        None,
        True,
        "excluded",
        "erased",
    )
    exported = api.get("/v1/responses").json["responses"]
    assert sorted(r["score"] for r in exported) == [2, 10] and all(r["erased"] for r in exported)


def test_the_persons_links_and_identity_create_nothing_afterwards(api, person):
    erase(api)
    assert person["reader"].poll_once()["records_discarded"] == 0
    before = all_tables()
    assert_error(api.post(person["unanswered"], {"score": 0}, token=None), 410)
    assert_error(api.post(person["link"], {"score": 9}, token=None), 410)
    widget = api.post(
        f"/v1/surveys/{person['survey_id']}/responses", person["widget"], token=None, headers={"Origin": SHOP}
    )
    assert_error(widget, 410)
    assert all_tables() == before
    again = api.post(
        f"/v1/surveys/{person['survey_id']}/invitations",
        {"contacts": [{"contact_id": "con-1", "account_id": "acc-1", "email": EMAIL}]},
    )
    assert again.json["invitations"][0]["skipped"] == "unsubscribed"
    assert EMAIL not in text_of_every_table()


def test_erasing_again_changes_nothing(api, person):
    erase(api)
    assert person["reader"].poll_once()["records_discarded"] == 0
    before = all_tables()
    again = erase(api)
    assert (again["responses_erased"], again["links_closed"], again["invitations_deleted"]) == (0, 0, 0)
    assert all_tables() == before
    assert person["reader"].read_new() == [], "a second call writes no new response version"


@pytest.mark.parametrize("failing_call", range(1, 11))
def test_a_call_that_fails_halfway_is_finished_by_calling_again(api, person, failing_call):
    writes = {"n": 0}
    original = BaseClient._make_api_call

    def failing(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb" and operation in (
            "UpdateItem",
            "DeleteItem",
            "PutItem",
            "TransactWriteItems",
        ):
            writes["n"] += 1
            if writes["n"] == failing_call:
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, operation)
        return original(self, operation, params)

    BaseClient._make_api_call = failing
    try:
        first = api.delete("/v1/contacts/con-1")
    finally:
        BaseClient._make_api_call = original
    assert first.status_code == 500
    erase(api)
    assert person["reader"].poll_once(redeliver=True)["records_discarded"] == 0
    assert_anonymous(person)
    assert set(Contact.get("con-1").attribute_values) == {"contact_id", "erased_at", "unsubscribed_at"}


def test_a_person_known_only_from_imported_answers_is_erased_too_and_unknown_ones_404(api, survey):
    row = {
        "external_id": "crm-1",
        "survey_id": survey["survey_id"],
        "contact_id": "con-7",
        "account_id": "acc-7",
        "score": 4,
        "comment": "Ask for Bob",
        "submitted_at": "2026-11-02T10:00:00Z",
    }
    assert api.post("/v1/responses/import", raw=json.dumps(row), content_type="application/x-ndjson").status_code
    result = api.delete("/v1/contacts/con-7").json
    assert (result["contact_found"], result["responses_erased"]) == (False, 1)
    (stored,) = Response.scan()
    assert stored.contact_id is None and stored.comment is None and int(stored.score) == 4
    assert Contact.get("con-7").erased_at is not None, "their widget identity is refused from now on"
    before = all_tables()
    assert_error(api.delete("/v1/contacts/con-nobody"), 404, "contact_not_found")
    assert all_tables() == before
