"""Only counted responses reach tasks, facts and metrics: the stream's status gate, on records read from moto's
real stream of the responses table."""

from __future__ import annotations

import pytest
from support_events import emf_lines, metric_total

from chalicelib.domain import clock
from chalicelib.events.processing import handle_stream_event
from chalicelib.store.models import LoopTask, Response, ResponseFact
from chalicelib.store.responses import shard_of
from nps_local.responses_stream import responses_poller


@pytest.fixture
def reader(api, client, survey):
    """The responses stream as Lambda delivers it, to the function invoked through the test client."""
    assert api.put(
        "/v1/accounts/acc-1", {"owner": "olive@example.com", "manager": "max@example.com", "segment": "smb"}
    ).status_code in (200, 201)
    return responses_poller(client)


def store(survey, rid, version, score, status=None, **extra):
    """A response item as capture and settlement leave it (status absent: an import or an older answer)."""
    now = clock.utcnow()
    month = now.strftime("%Y-%m")
    fields = {
        "survey_id": survey["survey_id"],
        "score": score,
        "channel": "email",
        "first_submitted_at": now,
        "submitted_at": now,
        "month": month,
        "month_shard": f"{month}#{shard_of(rid)}",
        "version": version,
        "account_id": "acc-1",
        "contact_id": "con-1",
        "invitation_id": "inv-1",
    }
    fields.update(extra)
    if status is not None:
        fields["status"] = status
    Response(rid, **fields).save()


def test_a_pending_answer_opens_nothing_and_counts_once_when_it_becomes_counted(survey, reader, capsys):
    store(survey, "rsp_p1", 1, 2, status="pending", pending_shard="pending#1", pending_at=clock.utcnow())
    assert reader.poll_once(redeliver=True)["records_discarded"] == 0
    assert LoopTask.count() == 0 and ResponseFact.count() == 0
    assert metric_total(emf_lines(capsys.readouterr().out), "Responses") == 0

    # Settled: the same score, now counted. Old image pending -> the first counted answer: no re-score note.
    store(survey, "rsp_p1", 2, 2, status="counted", comment="Nobody called back")
    assert reader.poll_once(redeliver=True)["records_discarded"] == 0
    (task,) = LoopTask.scan()
    assert (task.kind, task.comment, task.notes) == ("recovery", "Nobody called back", [])
    assert int(ResponseFact.get("rsp_p1").version) == 2
    lines = emf_lines(capsys.readouterr().out)
    assert metric_total(lines, "Responses") == 1
    assert metric_total(lines, "Detractors") == 1
    assert metric_total(lines, "Rescores") == 0
    assert metric_total(lines, "TasksOpened") == 1


def test_a_pending_answer_whose_score_changes_while_pending_counts_its_last_score_only(survey, reader, capsys):
    store(survey, "rsp_p2", 1, 9, status="pending")
    store(survey, "rsp_p2", 2, 3, status="pending")
    store(survey, "rsp_p2", 3, 3, status="counted")
    assert reader.poll_once(redeliver=True)["records_discarded"] == 0
    (task,) = LoopTask.scan()
    assert task.notes == [] and int(task.score) == 3
    lines = emf_lines(capsys.readouterr().out)
    assert metric_total(lines, "Responses") == 1 and metric_total(lines, "Promoters") == 0


def test_an_excluded_answer_removes_the_fact_of_an_earlier_count(survey, reader, capsys):
    store(survey, "rsp_x1", 1, 10, status="counted")
    store(survey, "rsp_x1", 2, 10, status="excluded", excluded_reason="suspected_scanner")
    records = reader.read_new()
    assert reader.deliver(records[:1]) == []  # the counted record alone first: its fact exists
    assert ResponseFact.count() == 1
    assert reader.deliver(records[1:], redeliver=True) == []
    assert ResponseFact.count() == 0
    lines = emf_lines(capsys.readouterr().out)
    assert metric_total(lines, "Responses") == 1 and metric_total(lines, "HandlerFailures") == 0


def test_a_redelivered_older_pending_image_does_not_remove_a_newer_count(survey, reader, capsys):
    store(survey, "rsp_p3", 1, 4, status="pending")
    store(survey, "rsp_p3", 2, 4, status="counted")
    records = reader.read_new()
    assert reader.deliver(records) == []
    assert reader.deliver(records) == []  # the whole batch again, the pending record first
    assert int(ResponseFact.get("rsp_p3").version) == 2
    assert LoopTask.count() == 1
    assert metric_total(emf_lines(capsys.readouterr().out), "Responses") == 1


def test_an_erased_persons_tombstone_is_skipped_not_a_poison_record(survey, reader, capsys):
    # What erasure writes for an unanswered invitation (its link then answers 410): no score, no version.
    Response("rsp_tomb").update(
        actions=[
            Response.survey_id.set(survey["survey_id"]),
            Response.erased.set(True),
            Response.status.set("excluded"),
            Response.excluded_reason.set("erased"),
            Response.submitted_at.set(clock.utcnow()),
        ],
        condition=Response.response_id.does_not_exist(),
        add_version_condition=False,
    )
    records = reader.read_new()
    assert records and all("score" not in r["dynamodb"]["NewImage"] for r in records)
    result = handle_stream_event({"Records": records}, None)
    assert result == {"batchItemFailures": []}
    assert ResponseFact.count() == 0 and LoopTask.count() == 0
    assert metric_total(emf_lines(capsys.readouterr().out), "HandlerFailures") == 0


def test_an_unknown_status_is_a_poison_record_of_its_own(survey, reader):
    store(survey, "rsp_s1", 1, 3, status="maybe")
    store(survey, "rsp_s2", 1, 3)
    records = reader.read_new()
    result = handle_stream_event({"Records": records}, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]}
    assert [f.response_id for f in ResponseFact.scan()] == ["rsp_s2"]
