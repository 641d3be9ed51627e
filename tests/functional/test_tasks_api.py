"""Task routes: list with filters and pagination, get, PATCH (assign, note, status, resolve, reopen), the SLA
sweep and erasure, all on real tables."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from chalicelib.domain import clock
from chalicelib.events.sweep import run_sweep
from chalicelib.store import responses as response_store
from chalicelib.store.models import Contact, LoopTask, Response
from nps_local.responses_stream import responses_poller


@pytest.fixture
def tasks(api, survey):
    """Five detractor tasks: accounts acc-0..acc-2 owned by two owners; one task already overdue."""
    for a, owner in enumerate(["olive@example.com", "olive@example.com", "pat@example.com"]):
        assert api.put(
            f"/v1/accounts/acc-{a}", {"owner": owner, "manager": "max@example.com", "segment": "smb"}
        ).status_code in (200, 201)
    now = clock.utcnow()
    for i in range(5):
        response_store.record_answer(
            response_id=f"rsp_t{i}",
            survey_id=survey["survey_id"],
            channel="email",
            answer={"score": i, "comment": f"Problem number {i}"},
            now=now,
            touchpoint=None,
            contact_id=f"con-{i}",
            account_id=f"acc-{i % 3}",
        )
    assert responses_poller(api.client).poll_once()["records_discarded"] == 0
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
    assert ids(api.get("/v1/tasks?owner=olive@example.com")) == sorted(
        t.task_id for t in tasks if t.owner == "olive@example.com"
    )
    assert ids(api.get("/v1/tasks?owner=pat@example.com")) == sorted(
        t.task_id for t in tasks if t.owner == "pat@example.com"
    )
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
    assert (body["owner"], body["status"], body["kind"], body["score"]) == ("olive@example.com", "open", "recovery", 1)
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
    assert changes == [
        ("opened", "open"),
        ("assigned", "quinn@example.com"),
        ("status", "in_progress"),
        ("status", "resolved"),
        ("status", "open"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "done"}, "status"),
        ({"owner": ""}, "owner"),
        ({"colour": "red"}, "colour"),
        ({}, "body"),
        ({"note": "x" * 2001}, "note"),
        ({"root_cause": "x"}, "status"),
    ],
)
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
    r = api.post(
        f"/v1/surveys/{survey['survey_id']}/invitations",
        {"contacts": [{"contact_id": "con-1", "account_id": "acc-1", "email": "ann@example.com", "name": "Ann"}]},
    )
    assert r.status_code == 201
    r = api.delete("/v1/contacts/con-1")
    assert r.status_code == 200 and r.json["responses_erased"] == 1 and r.json["tasks_scrubbed"] == 1
    contact = Contact.get("con-1")
    assert (contact.email, contact.name) == (None, None)
    response = Response.get("rsp_t1")
    assert response.comment is None and int(response.score) == 1 and response.erased
    assert LoopTask.get(tasks[1].task_id).comment is None
    # the stream sees the erasure and keeps derived state right (no comment comes back)
    assert responses_poller(api.client).poll_once()["records_discarded"] == 0
    assert LoopTask.get(tasks[1].task_id).comment is None
    again = api.delete("/v1/contacts/con-1")
    assert again.status_code == 200 and again.json["responses_erased"] == 0
    assert api.delete("/v1/contacts/nobody").status_code == 404


# ---- filters by kind, survey and account; cursors -------------------------------------------------------


@pytest.fixture
def mixed(api, survey, tasks):
    """Beside the five detractor tasks of `tasks` (survey 1): promoters of survey 1 and detractors of survey 2."""
    other = api.post(
        "/v1/surveys",
        {
            "name": "Support follow-up",
            "kind": "transactional",
            "loop_rules": {"categories": ["detractor"], "sla_hours": 24},
        },
    )
    assert other.status_code == 201, other.body
    now = clock.utcnow()
    answers = [(survey["survey_id"], f"rsp_m{i}", 9 + i % 2, f"acc-{i % 3}") for i in range(4)]
    answers += [(other.json["survey_id"], f"rsp_o{i}", i, f"acc-{i % 3}") for i in range(6)]
    for survey_id, rid, score, account in answers:
        response_store.record_answer(
            response_id=rid,
            survey_id=survey_id,
            channel="email",
            answer={"score": score},
            now=now,
            touchpoint=None,
            contact_id=f"con-{rid}",
            account_id=account,
        )
    assert responses_poller(api.client).poll_once()["records_discarded"] == 0
    assert LoopTask.count() == 15
    return {"first": survey["survey_id"], "second": other.json["survey_id"], "all": list(LoopTask.scan())}


def walk(api, query, limit):
    """Every page of a list; the task ids in the order given, and the number of pages."""
    seen, cursor, pages = [], None, 0
    while True:
        r = api.get(f"/v1/tasks?{query}&limit={limit}" + (f"&next={cursor}" if cursor else ""))
        assert r.status_code == 200, r.body
        assert len(r.json["tasks"]) <= limit
        seen += [t["task_id"] for t in r.json["tasks"]]
        pages += 1
        cursor = r.json["next"]
        if not cursor:
            return seen, pages
        assert pages < 50


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("kind=advocacy", lambda t, s: t.kind == "advocacy"),
        ("kind=recovery", lambda t, s: t.kind == "recovery"),
        ("survey_id={second}", lambda t, s: t.survey_id == s["second"]),
        ("account_id=acc-1", lambda t, s: t.account_id == "acc-1"),
        (
            "kind=recovery&survey_id={first}&account_id=acc-0",
            lambda t, s: (t.kind, t.survey_id, t.account_id) == ("recovery", s["first"], "acc-0"),
        ),
        ("status=open&kind=advocacy", lambda t, s: t.kind == "advocacy"),
        (
            "owner=olive@example.com&survey_id={second}",
            lambda t, s: t.owner == "olive@example.com" and t.survey_id == s["second"],
        ),
        ("overdue=true&account_id=acc-0", lambda t, s: t.account_id == "acc-0" and t.task_id == s["late"]),
        ("overdue=true&account_id=acc-1", lambda t, s: False),
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 50])
def test_filters_by_kind_survey_and_account_alone_and_combined_and_paginated(api, tasks, mixed, query, wanted, limit):
    values = {**mixed, "late": tasks[0].task_id}
    seen, _ = walk(api, query.format(**values), limit)
    assert len(seen) == len(set(seen)), "a task was listed twice"
    assert sorted(seen) == sorted(t.task_id for t in mixed["all"] if wanted(t, values))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=referral", "kind"),
        ("survey_id=", "survey_id"),
        ("survey_id=a%20b", "survey_id"),
        ("account_id=" + "x" * 300, "account_id"),
        ("kind=", "kind"),
    ],
)
def test_filter_values_are_checked(api, tasks, query, field):
    r = api.get(f"/v1/tasks?{query}")
    assert r.status_code == 422 and field in r.json["error"]["fields"], r.body


def test_a_forged_or_foreign_cursor_is_400_on_every_filter(api, tasks):
    from chalicelib.api.cursors import encode_cursor

    due = {"S": "2026-01-01T00:00:00.000000+0000"}
    stale = [
        {"p": 5, "k": None},  # partition out of range
        {"p": True, "k": None},
        {"p": 0, "k": {"task_id": {"S": "t"}}},  # key of the table on an index
        {"p": 0, "k": {"task_id": {"S": "t"}, "status": {"S": "resolved"}, "due_at": due}},  # another status
        {"p": 0, "k": {"task_id": {"S": "t"}, "status": {"S": "open"}, "due_at": {"S": "yesterday"}}},
        {"p": 0, "k": {"task_id": {"N": "1"}, "status": {"S": "open"}, "due_at": due}},
        {"k": "not a key"},
        {"x": 1},
    ]
    for query in (
        "",
        "status=open",
        "owner=olive@example.com",
        "overdue=true",
        "kind=recovery",
        "status=open&kind=recovery",
        "account_id=acc-1",
    ):
        for value in stale:
            r = api.get(f"/v1/tasks?{query}&next={encode_cursor(value, 'tasks')}")
            assert r.status_code == 400 and r.json["error"]["code"] == "malformed", (query, value, r.body)
        # signed for another list, or forged: refused before the store
        r = api.get(f"/v1/tasks?{query}&next={encode_cursor({'k': None, 'p': 0}, 'surveys')}")
        assert r.status_code == 400, (query, r.body)
        assert api.get(f"/v1/tasks?{query}&next=eyJwIjo5OX0").status_code == 400


def test_a_cursor_of_one_filter_is_refused_by_another(api, tasks):
    first = api.get("/v1/tasks?status=open&limit=1")
    assert first.json["next"]
    r = api.get(f"/v1/tasks?owner=olive@example.com&limit=1&next={first.json['next']}")
    assert r.status_code == 400
    r = api.get(f"/v1/tasks?limit=1&next={first.json['next']}")
    assert r.status_code == 400


# ---- revisions: ETag and If-Match -----------------------------------------------------------------------


def etag(r) -> str:
    return {k.lower(): v for k, v in r.headers.items()}["etag"]


def test_get_and_patch_send_the_revision_as_etag_and_every_write_bumps_it(api, tasks):
    tid = tasks[1].task_id
    first = api.get(f"/v1/tasks/{tid}")
    assert etag(first) == '"1"' and first.json["revision"] == 1
    r = api.patch(f"/v1/tasks/{tid}", {"note": "Called"}, headers={"If-Match": etag(first)})
    assert r.status_code == 200 and etag(r) == '"2"' and r.json["revision"] == 2
    assert etag(api.get(f"/v1/tasks/{tid}")) == '"2"'
    # the sweep's escalation is a write too
    late = tasks[0].task_id
    assert etag(api.get(f"/v1/tasks/{late}")) == '"1"'
    run_sweep()
    assert etag(api.get(f"/v1/tasks/{late}")) == '"2"'


def test_patch_with_a_stale_if_match_is_409_and_changes_nothing(api, tasks):
    tid = tasks[2].task_id
    seen = etag(api.get(f"/v1/tasks/{tid}"))
    assert api.patch(f"/v1/tasks/{tid}", {"owner": "quinn@example.com"}).status_code == 200
    before = LoopTask.get(tid).attribute_values
    r = api.patch(f"/v1/tasks/{tid}", {"note": "Based on an old read"}, headers={"If-Match": seen})
    assert r.status_code == 409 and r.json["error"]["code"] == "concurrent_change"
    assert LoopTask.get(tid).attribute_values == before
    for header in ('W/"2"', '"7", "8"', '"abc"'):
        assert api.patch(f"/v1/tasks/{tid}", {"note": "x"}, headers={"If-Match": header}).status_code == 409
    assert api.patch(f"/v1/tasks/{tid}", {"note": "x"}, headers={"If-Match": "2"}).status_code == 400
    assert api.patch(f"/v1/tasks/{tid}", {"note": "ok"}, headers={"If-Match": '"1", "2"'}).status_code == 200
    assert api.patch(f"/v1/tasks/{tid}", {"note": "ok"}, headers={"If-Match": "*"}).status_code == 200


def test_two_racing_edits_that_keep_the_status_cannot_both_succeed(api, tasks, client):
    """Two PATCHes on the same read, as two people saving at once: A reads the task and is held before its
    UpdateItem; only then does B start, read the same revision and hold; A writes, then B writes on its stale read.

    The steps are ordered, not released together, for two reasons of the test harness (not of Lambda, where a
    process serves one request at a time): Chalice keeps one `current_request` per app, so B may start only once
    A has parsed its body (else A would run B's edit); and moto's conditional writes are not atomic across
    threads, so two UpdateItems let go at once could both pass the revision check (DynamoDB's never do)."""
    import threading

    tid = tasks[3].task_id
    a_holds, b_read, a_wrote = threading.Event(), threading.Event(), threading.Event()

    def hold(**kwargs):
        name = threading.current_thread().name
        if name == "editor-a":
            a_holds.set()
            b_read.wait(30)
        elif name == "editor-b":
            b_read.set()
            a_wrote.wait(30)

    def wrote(**kwargs):
        if threading.current_thread().name == "editor-a":
            a_wrote.set()

    events = LoopTask._get_connection().connection.client.meta.events
    hooks = [
        ("before-call.dynamodb.UpdateItem", hold),
        ("after-call.dynamodb.UpdateItem", wrote),
        ("after-call-error.dynamodb.UpdateItem", wrote),
    ]
    for event, hook in hooks:
        events.register(event, hook)
    results = {}

    def edit(name, body):
        results[name] = api.patch(f"/v1/tasks/{tid}", body)

    # chalice.test swaps os.environ for a patched copy per request and puts back what it found: two requests at
    # once can leave the stage's copy in place for every later test. Put the real environment back here.
    environ = os.environ
    try:
        a = threading.Thread(target=edit, name="editor-a", args=("a", {"owner": "ann@example.com"}))
        b = threading.Thread(target=edit, name="editor-b", args=("b", {"note": "Left a voicemail"}))
        a.start()
        assert a_holds.wait(30), "A never reached its write"
        b.start()
        for t in (a, b):
            t.join(60)
    finally:
        for event, hook in hooks:
            events.unregister(event, hook)
        os.environ = environ
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], {k: (r.status_code, r.body) for k, r in results.items()}
    assert (results["a"].status_code, results["b"].status_code) == (200, 409)
    loser = next(r for r in results.values() if r.status_code == 409)
    assert loser.json["error"]["code"] == "concurrent_change"
    task = LoopTask.get(tid)
    assert int(task.revision) == 2
    assert (task.owner == "ann@example.com") != bool(task.notes), "exactly one of the two edits applied"
    assert task.owner == "ann@example.com", "the edit that wrote first is the one kept"


# ---- bounded notes and history --------------------------------------------------------------------------


def test_long_notes_never_break_the_task_they_are_refused_with_422(api, tasks):
    tid = tasks[4].task_id
    note = "€" * 2000  # 6,000 bytes: before the bound, the item passed 400 KB near the 67th note and 500ed
    codes = []
    for _ in range(100):
        r = api.patch(f"/v1/tasks/{tid}", {"note": note})
        assert r.status_code in (200, 422), r.body
        codes.append(r.status_code)
    refused = next(i for i, c in enumerate(codes) if c == 422)
    assert 5 <= refused < 20 and set(codes[refused:]) == {422}
    r = api.patch(f"/v1/tasks/{tid}", {"note": note})
    assert "note" in r.json["error"]["fields"] and "KB" in r.json["error"]["message"]
    # short notes still fit until the count bound
    task = api.get(f"/v1/tasks/{tid}").json
    assert len(task["notes"]) == refused
    short = [api.patch(f"/v1/tasks/{tid}", {"note": "ok"}).status_code for _ in range(100 - refused + 1)]
    assert short[:-1] == [200] * (100 - refused) and short[-1] == 422
    assert len(api.get(f"/v1/tasks/{tid}").json["notes"]) == 100
    # and the other edits still work on the full task
    assert api.patch(f"/v1/tasks/{tid}", {"status": "in_progress"}).status_code == 200


def test_history_keeps_its_first_entry_and_the_latest_ones(api, tasks):
    tid = tasks[1].task_id
    for i in range(70):
        assert api.patch(f"/v1/tasks/{tid}", {"owner": f"owner-{i}@example.com"}).status_code == 200
    history = api.get(f"/v1/tasks/{tid}").json["history"]
    assert len(history) == 50
    assert history[0]["change"] == "opened"
    assert history[-1]["to"] == "owner-69@example.com" and history[1]["to"] == "owner-21@example.com"


# ---- erasure: anonymise ---------------------------------------------------------------------------------


def test_anonymise_redacts_what_may_quote_the_person_and_keeps_the_rest(api, tasks):
    from chalicelib.store import tasks as task_store

    tid = tasks[1].task_id
    assert api.patch(f"/v1/tasks/{tid}", {"note": "Ann (ann@example.com) wants a call"}).status_code == 200
    assert (
        api.patch(
            f"/v1/tasks/{tid}",
            {"status": "resolved", "root_cause": "support", "resolution": "Called Ann Smith on +1 555 0100"},
        ).status_code
        == 200
    )
    before = api.get(f"/v1/tasks/{tid}").json
    assert task_store.anonymise(tasks[1].response_id) is True
    after = api.get(f"/v1/tasks/{tid}").json
    assert (after["comment"], after["drivers"], after["contact_id"]) == (None, [], None)
    assert [n["text"] for n in after["notes"]] == ["[removed: the person was erased]"]
    assert after["resolution"] == "[removed: the person was erased]"
    for kept in (
        "kind",
        "category",
        "score",
        "status",
        "created_at",
        "due_at",
        "closed_at",
        "root_cause",
        "account_id",
        "owner",
        "history",
    ):
        assert after[kept] == before[kept], kept
    assert "ann" not in str(after).lower()
    assert after["revision"] == before["revision"] + 1
    assert task_store.anonymise(tasks[1].response_id) is True  # again: nothing left to change, no write
    assert api.get(f"/v1/tasks/{tid}").json["revision"] == after["revision"]
    assert task_store.anonymise("rsp_none") is False
