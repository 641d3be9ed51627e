"""Task routes: list with filters and pagination, get, PATCH (assign, note, status, resolve, reopen), the SLA
sweep and erasure, all on real tables."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support_stream import StreamReader, deliver

from chalicelib.domain import tokens
from chalicelib.events.processing import handle_stream_event
from chalicelib.events.sweep import run_sweep
from chalicelib.store import responses as response_store
from chalicelib.store.models import Contact, LoopTask, Response


@pytest.fixture
def tasks(api, survey):
    """Five detractor tasks: accounts acc-0..acc-2 owned by two owners; one task already overdue."""
    for a, owner in enumerate(["olive@example.com", "olive@example.com", "pat@example.com"]):
        assert api.put(f"/v1/accounts/acc-{a}", {"owner": owner, "manager": "max@example.com",
                                                 "segment": "smb"}).status_code in (200, 201)
    now = tokens.utcnow()
    for i in range(5):
        response_store.record_answer(
            response_id=f"rsp_t{i}", survey_id=survey["survey_id"], channel="email",
            answer={"score": i, "comment": f"Problem number {i}"}, now=now, touchpoint=None,
            contact_id=f"con-{i}", account_id=f"acc-{i % 3}",
        )
    assert deliver(handle_stream_event, StreamReader().read()) == []
    items = sorted(LoopTask.scan(), key=lambda t: t.response_id)
    assert len(items) == 5
    late = items[0]
    late.update(actions=[LoopTask.due_at.set(now - timedelta(hours=1))])
    return items


def ids(response):
    return sorted(t["task_id"] for t in response.json["tasks"])


def test_list_and_filters(api, tasks):
    r = api.get("/v1/tasks")
    assert r.status_code == 200 and len(r.json["tasks"]) == 5 and r.json["next"] is None
    assert ids(api.get("/v1/tasks?owner=olive@example.com")) == sorted(t.task_id for t in tasks
                                                                         if t.owner == "olive@example.com")
    assert ids(api.get("/v1/tasks?owner=pat@example.com")) == sorted(t.task_id for t in tasks
                                                                       if t.owner == "pat@example.com")
    assert ids(api.get("/v1/tasks?status=open")) == sorted(t.task_id for t in tasks)
    assert ids(api.get("/v1/tasks?status=resolved")) == []
    overdue = api.get("/v1/tasks?overdue=true")
    assert ids(overdue) == [tasks[0].task_id] and overdue.json["tasks"][0]["overdue"] is True


def test_pagination_visits_every_task_once(api, tasks):
    seen, cursor = [], None
    for _ in range(10):
        r = api.get("/v1/tasks?status=open&limit=2" + (f"&next={cursor}" if cursor else ""))
        assert r.status_code == 200 and len(r.json["tasks"]) <= 2
        seen += [t["task_id"] for t in r.json["tasks"]]
        cursor = r.json["next"]
        if not cursor:
            break
    assert sorted(seen) == sorted(t.task_id for t in tasks)


def test_get_task_and_unknown(api, tasks):
    r = api.get(f"/v1/tasks/{tasks[1].task_id}")
    assert r.status_code == 200
    body = r.json
    assert (body["owner"], body["status"], body["kind"], body["score"]) == ("olive@example.com", "open",
                                                                            "recovery", 1)
    assert body["comment"] == "Problem number 1"
    assert api.get("/v1/tasks/task_nope").status_code == 404
    assert api.get("/v1/tasks/task_nope").json["error"]["code"] == "task_not_found"


def test_patch_flow_assign_note_progress_resolve_reopen(api, tasks):
    tid = tasks[2].task_id
    r = api.patch(f"/v1/tasks/{tid}", {"owner": "quinn@example.com", "note": "Called the customer"})
    assert r.status_code == 200 and r.json["owner"] == "quinn@example.com"
    assert [n["text"] for n in r.json["notes"]] == ["Called the customer"]
    assert api.patch(f"/v1/tasks/{tid}", {"status": "in_progress"}).json["status"] == "in_progress"
    missing_cause = api.patch(f"/v1/tasks/{tid}", {"status": "resolved"})
    assert missing_cause.status_code == 422 and "root_cause" in missing_cause.json["error"]["fields"]
    r = api.patch(f"/v1/tasks/{tid}", {"status": "resolved", "root_cause": "billing", "resolution": "Refunded"})
    assert r.status_code == 200
    assert (r.json["status"], r.json["root_cause"], r.json["resolution"]) == ("resolved", "billing", "Refunded")
    assert r.json["closed_at"] is not None
    assert api.patch(f"/v1/tasks/{tid}", {"status": "in_progress"}).status_code == 409
    r = api.patch(f"/v1/tasks/{tid}", {"status": "open"})
    assert r.status_code == 200 and r.json["closed_at"] is None and r.json["root_cause"] is None
    changes = [(h["change"], h.get("to")) for h in r.json["history"]]
    assert changes == [("opened", "open"), ("assigned", "quinn@example.com"), ("status", "in_progress"),
                       ("status", "resolved"), ("status", "open")]


@pytest.mark.parametrize("body, field", [
    ({"status": "done"}, "status"),
    ({"owner": ""}, "owner"),
    ({"colour": "red"}, "colour"),
    ({}, "body"),
    ({"note": "x" * 2001}, "note"),
    ({"root_cause": "x"}, "status"),
])
def test_patch_invalid_values_are_422_and_change_nothing(api, tasks, body, field):
    before = LoopTask.get(tasks[3].task_id).attribute_values
    r = api.patch(f"/v1/tasks/{tasks[3].task_id}", body)
    assert r.status_code == 422 and field in r.json["error"]["fields"]
    assert LoopTask.get(tasks[3].task_id).attribute_values == before


def test_patch_errors(api, tasks):
    assert api.patch("/v1/tasks/task_nope", {"note": "x"}).status_code == 404
    assert api.patch(f"/v1/tasks/{tasks[0].task_id}", raw="{", content_type="application/json").status_code == 400
    assert api.get("/v1/tasks?status=weird").status_code == 422
    assert api.get("/v1/tasks?overdue=maybe").status_code == 422
    assert api.get("/v1/tasks?colour=red").status_code == 422
    assert api.get("/v1/tasks?next=!!!").status_code == 400
    assert api.get("/v1/tasks", token=None).status_code == 401


def test_sla_sweep_escalates_overdue_once(api, tasks):
    first = run_sweep()
    assert first == {"overdue": 1, "escalated": 1}
    again = run_sweep()
    assert again == {"overdue": 1, "escalated": 0}
    late = api.get(f"/v1/tasks/{tasks[0].task_id}").json
    assert (late["status"], late["manager"]) == ("escalated", "max@example.com")
    assert [h["change"] for h in late["history"]].count("escalated") == 1
    assert all(api.get(f"/v1/tasks/{t.task_id}").json["status"] == "open" for t in tasks[1:])


def test_erasure_removes_pii_everywhere_and_keeps_scores(api, survey, tasks):
    r = api.post(f"/v1/surveys/{survey['survey_id']}/invitations",
                 {"contacts": [{"contact_id": "con-1", "account_id": "acc-1", "email": "ann@example.com",
                                "name": "Ann"}]})
    assert r.status_code == 201
    r = api.delete("/v1/contacts/con-1")
    assert r.status_code == 200 and r.json["responses_erased"] == 1 and r.json["tasks_scrubbed"] == 1
    contact = Contact.get("con-1")
    assert (contact.email, contact.name) == (None, None)
    response = Response.get("rsp_t1")
    assert response.comment is None and int(response.score) == 1 and response.erased
    assert LoopTask.get(tasks[1].task_id).comment is None
    # the stream sees the erasure and keeps derived state right (no comment comes back)
    assert deliver(handle_stream_event, StreamReader().read()) == []
    assert LoopTask.get(tasks[1].task_id).comment is None
    again = api.delete("/v1/contacts/con-1")
    assert again.status_code == 200 and again.json["responses_erased"] == 0
    assert api.delete("/v1/contacts/nobody").status_code == 404
