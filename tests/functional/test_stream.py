"""The responses stream handler on realistic events (tests/events/) and on the real moto stream."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from support import path_of
from support_events import emf_lines, load_event, metric_total

from chalicelib.store.models import LoopTask, ResponseFact
from nps_local.responses_stream import responses_poller


@pytest.fixture
def account(api):
    r = api.put(
        "/v1/accounts/acc-1",
        {"name": "Acme", "segment": "smb", "owner": "olive@example.com", "manager": "max@example.com"},
    )
    assert r.status_code in (200, 201), r.body
    return r.json


@pytest.fixture
def run(client):
    """Invoke the stream function with an event, as Lambda does (through the test client); its answer."""
    return lambda event: client.lambda_.invoke("response_stream", copy.deepcopy(event)).payload


def test_detractor_opens_one_task_owned_by_account_owner_even_when_delivered_twice(aws, run, account, capsys):
    event = load_event("detractor_insert")
    assert run(event) == {"batchItemFailures": []}
    assert run(event) == {"batchItemFailures": []}
    tasks = list(LoopTask.scan())
    assert len(tasks) == 1
    task = tasks[0]
    assert (task.owner, task.manager, task.kind, task.status) == (
        "olive@example.com",
        "max@example.com",
        "recovery",
        "open",
    )
    assert task.due_at - task.created_at == timedelta(hours=48)
    assert task.comment == "Support never answered my ticket."
    fact = ResponseFact.get("rsp_event_1")
    assert (fact.category, int(fact.score), int(fact.version)) == ("detractor", 2, 1)
    assert "support" in fact.themes
    lines = emf_lines(capsys.readouterr().out)
    assert metric_total(lines, "Detractors") == 1
    assert metric_total(lines, "Responses") == 1
    assert metric_total(lines, "TasksOpened") == 1
    assert {doc.get("channel") for doc in lines if "Responses" in doc} == {"email"}


def test_rescore_adds_one_note_and_never_a_second_task(aws, run, account):
    run(load_event("detractor_insert"))
    rescore = load_event("rescore_modify")
    run(rescore)
    run(rescore)
    tasks = list(LoopTask.scan())
    assert len(tasks) == 1
    assert [n["text"] for n in tasks[0].notes] == ["Re-scored from 2 to 5 (detractor)."]
    assert int(tasks[0].score) == 5
    assert int(ResponseFact.get("rsp_event_1").version) == 2


def test_replaying_an_older_record_after_a_newer_one_changes_nothing(aws, run, account):
    run(load_event("detractor_insert"))
    run(load_event("rescore_modify"))
    run(load_event("detractor_insert"))
    fact = ResponseFact.get("rsp_event_1")
    assert (int(fact.score), int(fact.version)) == (5, 2)


def test_erasure_removes_comment_from_task_and_themes(aws, run, account):
    run(load_event("detractor_insert"))
    run(load_event("rescore_modify"))
    run(load_event("erasure_modify"))
    task = next(iter(LoopTask.scan()))
    assert task.comment is None
    fact = ResponseFact.get("rsp_event_1")
    assert fact.themes == [] and int(fact.score) == 5


def test_remove_deletes_the_fact(aws, run, account):
    run(load_event("detractor_insert"))
    run(load_event("remove"))
    assert ResponseFact.count() == 0


def test_records_of_other_tables_are_skipped_without_failing(aws, run, caplog):
    assert run(load_event("foreign_table")) == {"batchItemFailures": []}
    assert ResponseFact.count() == 0
    assert "not from the responses table" in caplog.text


def test_old_imported_answers_open_no_task(aws, run, account):
    run(load_event("detractor_insert", age=timedelta(days=15)))
    assert LoopTask.count() == 0
    assert ResponseFact.count() == 1


def test_poison_record_is_reported_and_does_not_block_the_others(aws, run, client, account):
    good = load_event("detractor_insert")["Records"][0]
    poison = load_event("poison_score")["Records"][0]
    later = load_event("rescore_modify")["Records"][0]
    result = run({"Records": [poison, good, later]})
    assert result == {"batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]}
    assert int(ResponseFact.get("rsp_event_1").version) == 2
    # Lambda retries from the poison record (with the records after it) until its retries run out, then sends
    # that batch, which starts at the poison record, to on-failure; the others' effects happened only once.
    stream = responses_poller(client)
    failed = stream.deliver([poison, good, later])
    assert [r["eventID"] for r in failed] == [poison["eventID"], good["eventID"], later["eventID"]]
    assert stream.stats.retries == 5 and stream.stats.on_failure_messages == 1
    assert LoopTask.count() == 1
    assert int(ResponseFact.get("rsp_event_1").version) == 2


def test_capture_to_task_through_the_real_stream(api, client, survey):
    r = api.post(
        f"/v1/surveys/{survey['survey_id']}/invitations",
        {"contacts": [{"contact_id": "c-9", "account_id": "acc-404", "email": "zed@example.com"}]},
    )
    link = path_of(r.json["invitations"][0]["link"])
    assert api.post(link, {"score": 1, "comment": "Billing is wrong every month"}, token=None).status_code == 201
    assert api.post(link, {"score": 10}, token=None).status_code == 200
    stats = responses_poller(client).poll_once(redeliver=True)
    assert stats["records_discarded"] == 0 and stats["redeliveries"] >= 1
    tasks = list(LoopTask.scan())
    assert len(tasks) == 1
    assert tasks[0].owner == "cx@example.com"  # no account record: the survey's fallback owner
    assert [n["text"] for n in tasks[0].notes] == ["Re-scored from 1 to 10 (promoter)."]
    fact = ResponseFact.get(tasks[0].response_id)
    assert (fact.category, fact.themes) == ("promoter", ["billing"])
