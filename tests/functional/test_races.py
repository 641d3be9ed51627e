"""Races the conditional writes exist for, made to happen: just before our write reaches DynamoDB (moto), a
competing writer's real write lands first, through botocore's `before-call` event. Nothing of ours is replaced;
the competitor runs the same code a second caller would."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from chalicelib.domain import clock
from chalicelib.events.sweep import run_sweep
from chalicelib.store import responses as response_store
from chalicelib.store import surveys as survey_store
from chalicelib.store.models import Contact, Invitation, LoopTask
from chalicelib.usecases import invitations
from nps_local.responses_stream import responses_poller


@contextlib.contextmanager
def first_lands(model, operation: str, competitor):
    """Run `competitor()` once, right before the first `operation` request on `model`'s client; the
    competitor's own requests go straight through."""
    events = model._get_connection().connection.client.meta.events
    state = {"fired": False}

    def before(**kwargs):
        if not state["fired"]:
            state["fired"] = True
            competitor()

    name = f"before-call.dynamodb.{operation}"
    events.register(name, before)
    try:
        yield state
    finally:
        events.unregister(name, before)


def test_two_invitations_racing_for_one_contact_invite_them_once(api, survey):
    """Both calls read the contact as never invited; the one whose transaction lands second is throttled by
    its condition, and nothing of it is written: one invitation, one stamp."""
    model = survey_store.get(survey["survey_id"])
    contact = {"contact_id": "c-race", "account_id": "acc-race", "email": "rae@example.com"}
    rival: list[dict] = []

    with first_lands(
        Contact, "TransactWriteItems", lambda: rival.extend(invitations.invite(model, [contact], clock.utcnow()))
    ) as state:
        ours = invitations.invite(model, [contact], clock.utcnow())

    assert state["fired"]
    assert "link" in rival[0] and rival[0]["contact_id"] == "c-race"
    assert ours == [{"contact_id": "c-race", "skipped": "throttled"}]
    stored = [i for i in Invitation.scan() if i.contact_id == "c-race"]
    assert [i.invitation_id for i in stored] == [rival[0]["invitation_id"]]
    assert list(Contact.get("c-race").invitation_ids) == [rival[0]["invitation_id"]]


def test_a_task_resolved_while_the_sweep_escalates_it_stays_resolved(api, survey):
    """The sweep read the task as overdue and open; the owner resolves it before the sweep's write. The
    escalation's condition fails, the sweep counts nothing, and the task keeps its resolution."""
    assert api.put("/v1/accounts/acc-s", {"owner": "olive@example.com", "manager": "max@example.com"}).status_code
    now = clock.utcnow()
    response_store.record_answer(
        response_id="rsp_sweep",
        survey_id=survey["survey_id"],
        channel="email",
        answer={"score": 2, "comment": "Nobody called back"},
        now=now,
        touchpoint=None,
        contact_id="c-s",
        account_id="acc-s",
    )
    assert responses_poller(api.client).poll_once()["records_discarded"] == 0
    (task,) = list(LoopTask.scan())
    task.update(actions=[LoopTask.due_at.set(now - timedelta(hours=1))])

    def owner_resolves():
        body = {"status": "resolved", "root_cause": "support", "resolution": "Called back"}
        assert api.patch(f"/v1/tasks/{task.task_id}", body).status_code == 200

    with first_lands(LoopTask, "UpdateItem", owner_resolves) as state:
        result = run_sweep()

    assert state["fired"]
    assert result == {"overdue": 1, "escalated": 0}
    kept = api.get(f"/v1/tasks/{task.task_id}").json
    assert (kept["status"], kept["root_cause"]) == ("resolved", "support")
    assert LoopTask.get(task.task_id).escalated_at is None
    assert "escalated" not in [h["change"] for h in kept["history"]]
    assert run_sweep() == {"overdue": 0, "escalated": 0}
