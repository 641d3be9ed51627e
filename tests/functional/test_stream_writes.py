"""Stream writes near the floor, on moto's real stream through the capture routes: a response's images that keep
its score are coalesced within a batch (the newest processed from the state before the first), a fact or task
that would not change is not written, and a coalesced record shares the outcome of the record that carries it."""

from __future__ import annotations

import sys
from pathlib import Path

import botocore.exceptions
import pytest
from support import path_of
from support_ddb import invite
from support_events import emf_lines, metric_total

from chalicelib.store.models import LoopTask, ResponseFact
from nps_local.responses_stream import responses_poller

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from write_units import WriteMeter

COMMENT = "The invoice was wrong twice"


@pytest.fixture
def link(api, survey):
    assert api.put("/v1/accounts/acc-1", {"owner": "olive@example.com"}).status_code in (200, 201)
    return path_of(invite(api, survey["survey_id"], {"contact_id": "con-1", "account_id": "acc-1"})[0]["link"])


@pytest.fixture
def stream(client):
    return responses_poller(client)


def answer(api, link, body):
    r = api.post(link, body, token=None)
    assert r.status_code in (200, 201), r.body
    return r


def measured(stream, **delivery) -> dict:
    meter = WriteMeter("nps-test-").install()
    meter.enabled = True
    stats = stream.poll_once(**delivery)
    meter.enabled = False
    assert stats["records_discarded"] == stats["partial_failures"] == stats["function_errors"] == 0, stats
    return dict(meter.units)


def test_score_then_comment_in_one_batch_write_one_fact_and_open_one_task(api, client, link, stream, capsys):
    answer(api, link, {"score": 2})
    answer(api, link, {"score": 2, "comment": COMMENT, "drivers": ["price"]})
    units = measured(stream)
    assert units["response_facts"] == 1 and units["tasks"] == 1, units  # each written once, with the comment
    assert responses_poller(client).poll_once()["records_discarded"] == 0  # the whole stream again: no change
    (task,) = LoopTask.scan()
    assert (task.comment, task.drivers, int(task.score), task.notes) == (COMMENT, ["price"], 2, [])
    fact = ResponseFact.get(task.response_id)
    assert int(fact.version) == 2 and "billing" in fact.themes
    lines = emf_lines(capsys.readouterr().out)
    assert metric_total(lines, "Responses") == 1 and metric_total(lines, "Detractors") == 1
    assert metric_total(lines, "TasksOpened") == 1


def test_a_comment_on_an_answer_that_has_its_task_follows_it_without_trying_to_open_it(api, link, stream):
    answer(api, link, {"score": 2})
    assert measured(stream)["tasks"] == 1
    answer(api, link, {"score": 2, "comment": COMMENT})
    units = measured(stream)
    assert units["tasks"] == 1, units  # the follow only: no refused conditional open beside it
    (task,) = LoopTask.scan()
    assert task.comment == COMMENT and int(task.last_version) == 2


def test_a_passives_comment_writes_no_task(api, link, stream):
    answer(api, link, {"score": 8})
    assert "tasks" not in measured(stream)
    answer(api, link, {"score": 8, "comment": "ok"})
    units = measured(stream)
    assert "tasks" not in units, units  # no refused conditional follow of a task that does not exist
    assert units["response_facts"] == 1  # the fact follows the response's version
    assert LoopTask.count() == 0
    (fact,) = ResponseFact.scan()
    assert (int(fact.score), int(fact.version)) == (8, 2)


def test_a_rescore_in_the_same_batch_keeps_its_note(api, link, stream):
    answer(api, link, {"score": 1})
    answer(api, link, {"score": 4, "comment": COMMENT})
    measured(stream)
    (task,) = LoopTask.scan()
    assert [n["text"] for n in task.notes] == ["Re-scored from 1 to 4 (detractor)."]


def test_when_the_newest_image_fails_its_coalesced_records_fail_with_it_and_are_retried(api, link, client):
    answer(api, link, {"score": 2})
    answer(api, link, {"score": 2, "comment": COMMENT})
    throttled = []

    def throttle_first_fact_write(params, **kwargs):
        if params.get("TableName", "").endswith("response_facts") and not throttled:
            throttled.append(params)
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}}, "PutItem"
            )

    events = ResponseFact._get_connection().connection.client.meta.events
    events.register("before-parameter-build.dynamodb.PutItem", throttle_first_fact_write)
    answers: list[dict] = []
    stream = responses_poller(
        handler=lambda event, context: (
            answers.append(client.lambda_.invoke("response_stream", event).payload) or answers[-1]
        )
    )
    try:
        records = [r for r in stream.read_new() if "score" in r["dynamodb"].get("NewImage", {})]
        assert len(records) == 2
        assert stream.deliver(records) == []
    finally:
        events.unregister("before-parameter-build.dynamodb.PutItem", throttle_first_fact_write)
    assert throttled, "the fault was injected"
    # The first answer reports both records (Lambda retries from the lowest); the retry succeeds.
    failed = {f["itemIdentifier"] for f in answers[0]["batchItemFailures"]}
    assert failed == {r["dynamodb"]["SequenceNumber"] for r in records}
    assert answers[1:] == [{"batchItemFailures": []}]
    (task,) = LoopTask.scan()
    assert task.comment == COMMENT
    assert int(ResponseFact.get(task.response_id).version) == 2
