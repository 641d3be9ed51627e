"""What the indexes cost and what they serve: write units of an answer's writes (measured by the benchmarks'
calculator on the real tables), the reads of the exports that need BatchGetItem since their index holds keys
only, and the monthly job's indexes holding only what it reads."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from support import path_of
from support_ddb import count_dynamodb_calls, invite

from chalicelib.store import metrics_inputs
from chalicelib.store import responses as response_store
from chalicelib.store.models import LoopTask, ResponseFact
from nps_local.responses_stream import responses_poller

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from write_units import WriteMeter


def _measured(meter: WriteMeter, action) -> dict:
    meter.reset()
    meter.enabled = True
    try:
        action()
    finally:
        meter.enabled = False
    return dict(meter.units)


def test_a_comment_after_the_score_costs_the_table_write_alone(api, survey):
    link = path_of(invite(api, survey["survey_id"], "con-1")[0]["link"])
    meter = WriteMeter("nps-test-").install()
    score = _measured(meter, lambda: api.post(link, {"score": 9}, token=None))
    # First stored: the item, and one keys-only entry in each index it enters (by_pending is for pending only).
    assert score == {"responses": 1, "responses/by_survey": 1, "responses/by_contact": 1}
    comment = _measured(meter, lambda: api.post(link, {"score": 9, "comment": "Quick and kind"}, token=None))
    assert comment == {"responses": 1}, "no index holds the comment, and no index key changed"


def test_the_facts_new_version_costs_nothing_in_by_account(api, survey):
    link = path_of(invite(api, survey["survey_id"], "con-1")[0]["link"])
    stream = responses_poller(api.client)
    meter = WriteMeter("nps-test-").install()
    api.post(link, {"score": 9}, token=None)

    def deliver():
        stats = stream.poll_once()
        assert stats["batches"] == 1 and stats["partial_failures"] == stats["function_errors"] == 0

    first = _measured(meter, deliver)
    assert first["response_facts"] == 1 and first["response_facts/by_account"] == 1
    assert first["response_facts/by_month"] == 1
    api.post(link, {"score": 9, "comment": "The invoice was wrong"}, token=None)
    second = _measured(meter, deliver)
    assert second["response_facts"] == 1 and "response_facts/by_account" not in second


def _record(survey_id: str, day: int, month: int = 1) -> str:
    rid = f"rsp_{survey_id[-4:]}_{month}_{day}"
    response_store.record_answer(
        response_id=rid,
        survey_id=survey_id,
        channel="email",
        answer={"score": day % 11, "comment": f"comment {day}", "drivers": []},
        now=datetime(2025, month, day, 12, tzinfo=UTC),
        touchpoint=None,
        contact_id=f"con-{day}",
        account_id="acc-1",
    )
    return rid


def test_export_by_survey_is_one_query_and_one_batch_read_per_page(api, survey):
    for day in range(1, 6):
        _record(survey["survey_id"], day)
    with count_dynamodb_calls() as calls:
        r = api.get(f"/v1/responses?survey_id={survey['survey_id']}&limit=3")
    assert r.status_code == 200 and len(r.json["responses"]) == 3
    assert [row["comment"] for row in r.json["responses"]] == ["comment 1", "comment 2", "comment 3"]
    assert calls == {"GetItem": 1, "Query": 1, "BatchGetItem": 1}  # the GetItem: the admin token's


def test_export_by_month_reads_each_surveys_part_in_turn(api, survey):
    other = api.post("/v1/surveys", {"name": "Other"}).json["survey_id"]
    mine = [_record(survey["survey_id"], day) for day in (2, 3)]
    theirs = [_record(other, day) for day in (4, 5)]
    _record(other, 6, month=2)
    with count_dynamodb_calls() as calls:
        r = api.get("/v1/responses?month=2025-01&limit=10")
    assert r.status_code == 200 and r.json["next"] is None
    assert sorted(row["response_id"] for row in r.json["responses"]) == sorted(mine + theirs)
    # the surveys (one scan page), then per survey one query of its keys and one batch read of its rows
    assert calls == {"GetItem": 1, "Scan": 1, "Query": 2, "BatchGetItem": 2}


def test_the_monthly_job_indexes_hold_only_what_it_reads(api, survey):
    link = path_of(invite(api, survey["survey_id"], "con-1")[0]["link"])
    stream = responses_poller(api.client)
    api.post(link, {"score": 2, "comment": "Billing is wrong every month"}, token=None)
    stats = stream.poll_once()
    assert stats["batches"] == 1 and stats["partial_failures"] == stats["function_errors"] == 0
    fact = ResponseFact.scan().next()
    (row,) = metrics_inputs.responses(fact.month)
    assert (row.response_id, row.score, row.contact_id) == (fact.response_id, 2, "con-1")
    (entry,) = ResponseFact.by_month.query(fact.month_shard)
    assert entry.category is None and entry.channel is None, "by_month projects the job's attributes only"
    (task,) = LoopTask.by_month.query(fact.month)
    assert task.kind and task.comment is None, "the tasks' by_month holds no answer text"
    (task_row,) = metrics_inputs.tasks(fact.month)
    assert task_row.task_id == task.task_id and task_row.due_at == task.due_at
