"""Stream isolation and the fact before the task: a bad record is its own item failure and never fails the
batch around it, and no task write, however broken the task, keeps a response's fact from being written.
The handler is invoked as Lambda invokes it, through the Chalice test client's `lambda_.invoke`, with events
recorded from moto's stream (tests/events/)."""

from __future__ import annotations

import copy
import json

import pytest
from support_events import emf_lines, load_event, metric_total

from chalicelib.store.models import LoopTask, ResponseFact


@pytest.fixture
def account(api):
    r = api.put("/v1/accounts/acc-1", {"owner": "olive@example.com", "manager": "max@example.com", "segment": "smb"})
    assert r.status_code in (200, 201), r.body


def invoke(client, event) -> dict:
    answer = client.lambda_.invoke("response_stream", copy.deepcopy(event))
    payload = answer.payload
    return json.loads(payload) if isinstance(payload, (str, bytes)) else payload


def sequence(record) -> str:
    return record["dynamodb"]["SequenceNumber"]


def test_a_lone_bad_record_is_reported_as_its_own_failure_not_a_crash(client, account, capsys):
    event = load_event("lone_bad_record")
    assert invoke(client, event) == {"batchItemFailures": [{"itemIdentifier": sequence(event["Records"][0])}]}
    lines = emf_lines(capsys.readouterr().out)
    assert metric_total(lines, "HandlerFailures") == 1


def test_every_bad_record_fails_alone_and_the_good_ones_are_processed(client, account, capsys, caplog):
    event = load_event("bad_records")
    records = event["Records"]
    result = invoke(client, event)
    bad = {
        r["eventID"]: sequence(r)
        for r in records
        if isinstance(r, dict)
        and isinstance(r.get("dynamodb"), dict)
        and r["eventID"].split("-")[0] in ("image", "score", "keys", "old", "status")
    }
    assert len(bad) == 5
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == sorted(bad.values())
    assert sorted(f.response_id for f in ResponseFact.scan()) == ["rsp_event_1", "rsp_good_2"]
    assert LoopTask.count() == 2
    # Three records cannot be named (no sequence number): counted as failures and logged, never reported
    # with an empty identifier (which would make Lambda retry the whole batch).
    out = capsys.readouterr().out
    assert metric_total(emf_lines(out), "HandlerFailures") == 5 + 3
    assert "skipped records without a sequence number" in caplog.text


def test_a_batch_of_100_with_a_record_whose_dynamodb_is_not_an_object(client, account):
    template = load_event("detractor_insert")["Records"][0]
    records = []
    for i in range(99):
        record = copy.deepcopy(template)
        record["dynamodb"]["SequenceNumber"] = str(int(sequence(template)) + i)
        for part in ("Keys", "NewImage"):
            record["dynamodb"][part]["response_id"]["S"] = f"rsp_many_{i:03d}"
        records.append(record)
    records.insert(50, {**copy.deepcopy(template), "dynamodb": ["not", "an", "object"]})
    assert invoke(client, {"Records": records}) == {"batchItemFailures": []}
    assert ResponseFact.count() == 99


@pytest.mark.parametrize("event", [{}, {"Records": None}, {"Records": "x"}, {"Records": []}, [], "x"])
def test_an_event_that_is_not_a_batch_answers_without_failing(client, event):
    assert invoke(client, event) == {"batchItemFailures": []}


def _fill_to_the_limit(task_id: str) -> int:
    """Pad the task (like one grown before notes were bounded) until DynamoDB refuses any larger write."""
    from pynamodb.exceptions import UpdateError

    def pad(length: int) -> bool:
        # Removed first: moto counts the value being replaced on top of the new one.
        LoopTask(task_id).update(actions=[LoopTask.resolution.remove()], add_version_condition=False)
        try:
            LoopTask(task_id).update(actions=[LoopTask.resolution.set("x" * length)], add_version_condition=False)
        except UpdateError as error:
            assert error.cause_response_code == "ValidationException"  # noqa: PT017 (a probe, not a test)
            return False
        return True

    low, high = 300_000, 420_000
    while high - low > 16:
        mid = (low + high) // 2
        low, high = (mid, high) if pad(mid) else (low, mid)
    assert pad(low)
    return low  # the last write that went through


def test_a_rescore_of_a_task_at_the_item_size_limit_still_reaches_its_fact(client, account, capsys, caplog):
    assert invoke(client, load_event("detractor_insert")) == {"batchItemFailures": []}
    (task,) = LoopTask.scan()
    assert _fill_to_the_limit(task.task_id) > 390_000
    rescore = load_event("rescore_modify")
    assert invoke(client, rescore) == {"batchItemFailures": []}
    assert invoke(client, rescore) == {"batchItemFailures": []}
    fact = ResponseFact.get("rsp_event_1")
    assert (int(fact.version), int(fact.score)) == (2, 5)
    assert int(LoopTask.get(task.task_id).last_version) == 1  # the task could not take the write
    out = capsys.readouterr().out
    lines = emf_lines(out)
    assert metric_total(lines, "TaskWriteFailures") == 2
    assert metric_total(lines, "HandlerFailures") == 0
    assert "task write refused for good" in caplog.text


def test_an_erased_response_keeps_its_score_and_loses_every_link_to_the_person(client, account, api):
    assert invoke(client, load_event("detractor_insert")) == {"batchItemFailures": []}
    (task,) = LoopTask.scan()
    assert api.patch(f"/v1/tasks/{task.task_id}", {"note": "Spoke to con-1 at ann@example.com"}).status_code == 200
    assert invoke(client, load_event("rescore_modify")) == {"batchItemFailures": []}
    assert invoke(client, load_event("erasure_modify")) == {"batchItemFailures": []}
    fact = ResponseFact.get("rsp_event_1")
    assert (int(fact.score), fact.contact_id, fact.invitation_id, fact.themes) == (5, None, None, [])
    assert fact.account_id == "acc-1"  # the account is a company, not the person; revenue metrics need it
    erased = LoopTask.get(task.task_id)
    assert (erased.comment, erased.contact_id, erased.drivers) == (None, None, None)
    assert {n["text"] for n in erased.notes} == {"[removed: the person was erased]"}
    assert len(erased.notes) == 2 and int(erased.score) == 5 and erased.kind == "recovery"
