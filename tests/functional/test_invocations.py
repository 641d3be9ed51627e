"""Each Lambda handler invoked as Lambda invokes it (the chalice test client's `lambda_.invoke`, so Powertools'
`inject_lambda_context` runs): every line an invocation logs carries the function's context and a correlation
id (the request's, the stream record's eventID, the EventBridge event's id), and two stream invocations at
once share no batch state."""

from __future__ import annotations

import copy
import json
import logging
import threading

import pytest
from chalice.local import LambdaContext
from support_events import emf_lines, load_event, metric_total

from chalicelib.events import stream
from chalicelib.logs import logger
from chalicelib.store.models import LoopTask, ResponseFact


class JsonLines(logging.Handler):
    """Every line the service's logger prints, as the JSON document Powertools makes of it in the logging thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(logger.registered_formatter.format(record)))


@pytest.fixture
def lines(aws):
    handler = JsonLines()
    service = logging.getLogger("nps")
    service.addHandler(handler)
    yield handler.lines
    service.removeHandler(handler)


def scheduled(client, name: str) -> dict:
    event = client.events.generate_cw_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=[f"arn:aws:events:us-east-1:123456789012:rule/nps-backend-test-{name}"],
    )
    event["id"] = f"event-{name}"
    return event


def records(name: str, count: int, *, score: int = 2, first: int = 0) -> dict:
    """`count` answers like tests/events/detractor_insert.json, each its own response, eventID and sequence."""
    template = load_event("detractor_insert")["Records"][0]
    out = []
    for i in range(first, first + count):
        record = copy.deepcopy(template)
        record["eventID"] = f"{name}-{i}"
        record["dynamodb"]["SequenceNumber"] = str(int(template["dynamodb"]["SequenceNumber"]) + i)
        for part in ("Keys", "NewImage"):
            record["dynamodb"][part]["response_id"]["S"] = f"rsp_{name}_{i}"
        record["dynamodb"]["NewImage"]["score"] = {"N": str(score)}
        out.append(record)
    return {"Records": out}


def test_every_line_of_a_request_carries_its_correlation_id_and_none_is_left_after(api, lines):
    # No monthly function to queue here: the request logs the refusal, then its request line.
    answer = api.call("POST", "/v1/metrics/2026-01/recompute", headers={"X-Correlation-Id": "req-corr-1"})
    assert answer.status_code == 503, answer.body
    during = list(lines)
    assert len(during) >= 2 and during[-1]["message"] == "request"
    assert {line.get("correlation_id") for line in during} == {"req-corr-1"}, during
    assert {line.get("function_name") for line in during} == {"api_handler"}
    logging.getLogger("nps.api").info("after the request")
    assert "correlation_id" not in lines[-1] and "function_name" not in lines[-1], lines[-1]


def test_a_stream_batch_invoked_as_lambda_logs_each_record_under_its_event_id(client, lines, capsys):
    event = records("corr", 2)
    event["Records"].append({**copy.deepcopy(event["Records"][0]), "eventID": "corr-bad", "eventName": "EXPLODE"})
    event["Records"][-1]["dynamodb"]["SequenceNumber"] = "1"
    answer = client.lambda_.invoke("response_stream", event)
    assert answer.payload == {"batchItemFailures": [{"itemIdentifier": "1"}]}
    assert ResponseFact.count() == 2
    assert all(line.get("function_name") == "response_stream" and "cold_start" in line for line in lines), lines
    by_record = {
        line["correlation_id"]: line["message"]
        for line in lines
        if line["message"] in ("response processed", "record failed")
    }
    assert by_record == {"corr-0": "response processed", "corr-1": "response processed", "corr-bad": "record failed"}
    (batch_line,) = [line for line in lines if line["message"] == "batch had failures"]
    assert batch_line["correlation_id"] == batch_line["function_request_id"]
    assert all(line.get("batch_size") == 3 for line in lines), lines
    assert logger.thread_safe_get_current_keys() == {}
    assert metric_total(emf_lines(capsys.readouterr().out), "HandlerFailures") == 1


def test_two_stream_invocations_at_once_share_no_batch_state(aws, lines, capsys):
    """Invocation A stops after its first record; B runs whole meanwhile; then A ends. Each reports, counts and
    logs its own records only (one module-level batch or processor would mix them)."""
    first_done, resume = threading.Event(), threading.Event()
    results: dict[str, dict] = {}

    class PauseA(logging.Handler):
        def handle(self, record: logging.LogRecord) -> bool:
            # Without the handler's lock: A waits inside emit, and B's lines must pass this handler meanwhile.
            self.emit(record)
            return True

        def emit(self, record: logging.LogRecord) -> None:
            ours = threading.current_thread().name == "A" and record.getMessage() == "response processed"
            if ours and not first_done.is_set():
                first_done.set()
                resume.wait(60)  # B runs meanwhile; the test fails below if it never let A go on

    def invoke(name: str, event: dict) -> None:
        results[name] = stream.response_stream(event, LambdaContext("response_stream", 512))

    pause = PauseA()
    logging.getLogger("nps").addHandler(pause)
    try:
        a = threading.Thread(target=invoke, args=("A", records("a", 2)), name="A")
        a.start()
        assert first_done.wait(60)
        invoke("B", records("b", 1, score=9, first=5))
        assert a.is_alive() and "A" not in results  # B ran whole while A was held after its first record
        resume.set()
        a.join(60)
    finally:
        resume.set()
        logging.getLogger("nps").removeHandler(pause)
    assert results == {"A": {"batchItemFailures": []}, "B": {"batchItemFailures": []}}
    assert sorted(f.response_id for f in ResponseFact.scan()) == ["rsp_a_0", "rsp_a_1", "rsp_b_5"]
    assert LoopTask.count() == 2  # the two detractors
    emf = emf_lines(capsys.readouterr().out)
    assert (metric_total(emf, "Responses"), metric_total(emf, "Detractors"), metric_total(emf, "Promoters")) == (
        3,
        2,
        1,
    )
    processed = [line for line in lines if line["message"] == "response processed"]
    assert sorted((line["correlation_id"], line["batch_size"]) for line in processed) == [
        ("a-0", 2),
        ("a-1", 2),
        ("b-5", 1),
    ]


@pytest.mark.parametrize("name", ["sla_sweep", "settle_pending", "monthly_metrics"])
def test_a_scheduled_function_logs_every_line_under_its_event_id(client, lines, name):
    answer = client.lambda_.invoke(name, scheduled(client, name))
    assert isinstance(answer.payload, dict), answer.payload
    if name == "sla_sweep":
        assert answer.payload == {"overdue": 0, "escalated": 0}
    elif name == "settle_pending":
        assert answer.payload == {"examined": 0, "counted": 0, "excluded": 0, "skipped": 0}
    else:
        assert answer.payload["status"] == "computed" and answer.payload["n"] == 0, answer.payload
    assert lines, "the function logged its run"
    assert {line.get("correlation_id") for line in lines} == {f"event-{name}"}, lines
    assert {line.get("function_name") for line in lines} == {name}
    logger.info("after the run")
    assert "correlation_id" not in lines[-1] and "function_name" not in lines[-1], lines[-1]


def test_each_image_is_deserialized_once_for_the_prefetch_and_the_processing(client, monkeypatch):
    """The account prefetch and the record's processing share one reading of the record."""
    from chalicelib.store.models import Response

    parsed = []
    original = Response.from_raw_data.__func__

    def counting(cls, data):
        parsed.append(data["response_id"]["S"])
        return original(cls, data)

    monkeypatch.setattr(Response, "from_raw_data", classmethod(counting))
    event = records("once", 3)  # detractors with an account: the prefetch reads all three
    assert client.lambda_.invoke("response_stream", event).payload == {"batchItemFailures": []}
    assert sorted(parsed) == ["rsp_once_0", "rsp_once_1", "rsp_once_2"]
    assert LoopTask.count() == 3
