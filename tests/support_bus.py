"""The stage's event bus on moto for tests: the bus, a rule that copies every event of the stage to an SQS queue
(as a customer's rule would route them), the queue read back, and faults injected into PutEvents answers.

`bus` is a fixture (import it into a test module): with it, EVENT_BUS_NAME names the bus and the functions
publish; without it nothing is published, as before events existed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

BUS = "nps-test-events"
TAP_QUEUE = "nps-test-events-tap"
SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "events"


class Tap:
    """Every event the bus routed to the tap queue, in arrival order (EventBridge's envelope, detail parsed)."""

    def __init__(self, sqs, url: str) -> None:
        self.sqs = sqs
        self.url = url
        self.seen: list[dict] = []

    def drain(self) -> list[dict]:
        """The events that arrived since the last drain (all of them are also kept in `seen`)."""
        new = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            new += [json.loads(m["Body"]) for m in messages]
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
            )
        self.seen += new
        return new

    def of_type(self, detail_type: str) -> list[dict]:
        self.drain()
        return [e for e in self.seen if e["detail-type"] == detail_type]

    def details(self, detail_type: str) -> list[dict]:
        return [e["detail"] for e in self.of_type(detail_type)]


def make_bus(name: str = BUS, queue: str = TAP_QUEUE, source_prefix: str = "nps.") -> Tap:
    """The bus and its tap (a rule for every event whose source starts with `source_prefix`, to a queue)."""
    import boto3

    events = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    if name != "default":
        events.create_event_bus(Name=name)
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = json.dumps({"source": [{"prefix": source_prefix}]})
    events.put_rule(Name="tap", EventBusName=name, EventPattern=pattern)
    events.put_targets(Rule="tap", EventBusName=name, Targets=[{"Id": "tap", "Arn": arn}])
    return Tap(sqs, url)


def _named(monkeypatch, name: str):
    from chalicelib import config

    monkeypatch.setenv("EVENT_BUS_NAME", name)
    config.reset()
    config.settings()  # read now: the test client swaps in the dev stage's variables while it invokes


@pytest.fixture
def bus(aws, monkeypatch):
    """The stage's bus on moto, named by EVENT_BUS_NAME; the tap that reads what reached it."""
    from chalicelib import config

    tap = make_bus()
    _named(monkeypatch, BUS)
    yield tap
    monkeypatch.delenv("EVENT_BUS_NAME")
    config.reset()


@pytest.fixture
def bare_bus(aws, monkeypatch):
    """The stage's bus without any rule (moto delivers each event to a rule's target at some 15 ms): for tests
    that publish thousands, and read what the bus accepted from `put_events_faults.accepted`."""
    import boto3

    from chalicelib import config

    boto3.client("events", region_name="us-east-1").create_event_bus(Name=BUS)
    _named(monkeypatch, BUS)
    yield BUS
    monkeypatch.delenv("EVENT_BUS_NAME")
    config.reset()


class PutEventsFaults:
    """EventBridge refusing entries: before a PutEvents request is built, the entries `refusals(event_id)` still
    wants refused lose their Detail, so the service answers each with an ErrorCode (FailedEntryCount, as for a
    throttled entry) and takes only the others. With `fail_requests`, whole requests fail as well (a ClientError
    before the request is sent). Counts every request and entry the client tried, and keeps each entry the
    service accepted (it answered with an EventId) in `accepted`, as {"detail-type", "source", "detail"}."""

    EVENT = "before-parameter-build.eventbridge.PutEvents"
    ANSWERED = "after-call.eventbridge.PutEvents"

    def __init__(self, refusals: Callable[[str], int] = lambda event_id: 0, fail_requests: int = 0) -> None:
        self.refusals = refusals
        self.fail_requests = fail_requests
        self.refused: Counter = Counter()
        self.requests = 0
        self.entries = 0
        self.accepted: list[dict] = []

    def answered(self, parsed, context, **kwargs):
        sent = context.get("nps_entries") or []
        for entry, result in zip(sent, parsed.get("Entries") or [], strict=False):
            if result.get("EventId"):
                detail = json.loads(entry["Detail"])
                self.accepted.append({"detail-type": entry["DetailType"], "source": entry["Source"], "detail": detail})

    def __call__(self, params, context, **kwargs):
        import botocore.exceptions

        self.requests += 1
        self.entries += len(params["Entries"])
        if self.fail_requests:
            self.fail_requests -= 1
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "InternalException", "Message": "injected"}}, "PutEvents"
            )
        entries = []
        for entry in params["Entries"]:
            event_id = json.loads(entry["Detail"])["event_id"]
            if self.refused[event_id] < self.refusals(event_id):
                self.refused[event_id] += 1
                entry = {**entry, "Detail": ""}
            entries.append(entry)
        params["Entries"] = entries
        context["nps_entries"] = entries


@pytest.fixture
def put_events_faults():
    """Install a PutEventsFaults (configure its `refusals` / `fail_requests`) on the functions' events client."""
    from chalicelib import config
    from chalicelib.store import event_bus

    faults = PutEventsFaults()
    client = event_bus.client_for(config.settings().region)
    client.meta.events.register(PutEventsFaults.EVENT, faults)
    client.meta.events.register(PutEventsFaults.ANSWERED, faults.answered)
    yield faults
    client.meta.events.unregister(PutEventsFaults.EVENT, faults)
    client.meta.events.unregister(PutEventsFaults.ANSWERED, faults.answered)


def schema(detail_type: str) -> dict:
    """The published JSON Schema of a detail-type (docs/events/)."""
    from chalicelib.domain.event_schemas import schema_file

    return json.loads((SCHEMAS / schema_file(detail_type)).read_text())


def check_detail(event: dict) -> None:
    """The event's detail is valid by its detail-type's published schema (which allows no other field)."""
    import jsonschema

    jsonschema.validate(event["detail"], schema(event["detail-type"]), format_checker=jsonschema.FormatChecker())
