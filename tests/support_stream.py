"""Reading the responses stream from moto and delivering it to a handler the way Lambda does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from chalicelib.store.models import Response


def stream_arn() -> str:
    ddb = boto3.client("dynamodb")
    return ddb.describe_table(TableName=Response.Meta.table_name)["Table"]["LatestStreamArn"]


class StreamReader:
    """Reads every new record of the responses stream (all shards), remembering where it stopped."""

    def __init__(self) -> None:
        self.arn = stream_arn()
        self.client = boto3.client("dynamodbstreams")
        self.positions: dict[str, str] = {}

    def read(self) -> list[dict]:
        out = []
        shards = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        for shard in shards:
            sid = shard["ShardId"]
            if sid in self.positions:
                it = self.client.get_shard_iterator(
                    StreamArn=self.arn,
                    ShardId=sid,
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=self.positions[sid],
                )["ShardIterator"]
            else:
                it = self.client.get_shard_iterator(StreamArn=self.arn, ShardId=sid, ShardIteratorType="TRIM_HORIZON")[
                    "ShardIterator"
                ]
            while it:
                page = self.client.get_records(ShardIterator=it, Limit=1000)
                for rec in page["Records"]:
                    out.append(as_lambda_record(rec, self.arn))
                    self.positions[sid] = rec["dynamodb"]["SequenceNumber"]
                it = page.get("NextShardIterator") if page["Records"] else None
        return out


def as_lambda_record(rec: dict, arn: str) -> dict:
    """A GetRecords record as Lambda passes it (timestamp as epoch seconds, the stream ARN added)."""
    ddb = dict(rec["dynamodb"])
    created = ddb.get("ApproximateCreationDateTime")
    if hasattr(created, "timestamp"):
        ddb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": rec["eventID"],
        "eventName": rec["eventName"],
        "eventVersion": rec.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": rec.get("awsRegion", "us-east-1"),
        "dynamodb": ddb,
        "eventSourceARN": arn,
    }


class LambdaContext:
    function_name = "nps-backend-dev-response_stream"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:nps-backend-dev-response_stream"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def deliver_batch(handler, batch: list[dict], *, max_retries: int = 50) -> list[dict]:
    """Lambda's rules for one batch: failures reported -> retry from the lowest failed sequence number; an
    exception -> retry the whole remaining batch; after max_retries the record goes to on-failure."""
    failed_out = []
    attempts = 0
    while batch:
        try:
            result = handler({"Records": batch}, LambdaContext())
            failures = [f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])]
        except Exception:
            failures = [batch[0]["dynamodb"]["SequenceNumber"]]
        if not failures:
            break
        attempts += 1
        lowest = min(failures, key=int)
        index = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] == lowest)
        if attempts > max_retries:
            failed_out.append(batch[index])
            index += 1
            attempts = 0
        batch = batch[index:]
    return failed_out


def deliver(handler, records: list[dict], *, batch_size: int = 100, max_retries: int = 50, twice: bool = False):
    """Deliver records in batches; with twice=True every batch is delivered a second time once it succeeded
    (at-least-once delivery). Returns the records that ended on the on-failure path."""
    failed_out = []
    for pos in range(0, len(records), batch_size):
        batch = records[pos : pos + batch_size]
        failed_out += deliver_batch(handler, batch, max_retries=max_retries)
        if twice:
            failed_out += deliver_batch(handler, batch, max_retries=max_retries)
    return failed_out


EVENTS = Path(__file__).parent / "events"


def load_event(name: str, *, age: timedelta = timedelta(0)) -> dict:
    """An event from tests/events with its answer dated now (minus age), so the 14-day task rule holds."""
    event = json.loads((EVENTS / f"{name}.json").read_text())
    stamp = (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    for record in event["Records"]:
        ddb = record.get("dynamodb") if isinstance(record, dict) else None
        for image in ("NewImage", "OldImage") if isinstance(ddb, dict) else ():
            img = ddb.get(image)
            if isinstance(img, dict) and "first_submitted_at" in img:
                img["first_submitted_at"] = {"S": stamp}
                img["submitted_at"] = {"S": stamp}
    return event


def emf_lines(captured: str) -> list[dict]:
    out = []
    for line in captured.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            out.append(json.loads(line))
    return out


def metric_total(lines: list[dict], name: str) -> float:
    values = [doc[name] for doc in lines if name in doc]
    return sum(sum(v) if isinstance(v, list) else v for v in values)
