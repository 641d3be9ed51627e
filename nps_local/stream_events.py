"""What Lambda writes for a DynamoDB stream: each record as it appears in an invocation's event, and the message
the on-failure destination receives for a batch discarded after its retries (describing the batch, never its
records); and which records a handler's partial batch response fails."""

from __future__ import annotations

import base64
import logging
import uuid
from datetime import UTC, datetime

from nps_local.template import LOCAL_ACCOUNT_ID

log = logging.getLogger("nps.local.poller")

WHOLE_BATCH = object()  # the whole batch failed


def lambda_json(value):
    """What Lambda puts in an event for a value boto3 decoded: binaries in base64, times as epoch seconds."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {k: lambda_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [lambda_json(v) for v in value]
    return value


def lambda_record(record: dict, *, stream_arn: str, region: str) -> dict:
    """A record of `get_records` as Lambda puts it in an event."""
    event = lambda_json(record)
    event.setdefault("eventSource", "aws:dynamodb")
    event.setdefault("awsRegion", region)
    event["eventVersion"] = event.get("eventVersion") or "1.1"
    event["eventSourceARN"] = stream_arn
    return event


def first_failure(result, batch: list[dict]):
    """The index of the lowest record a handler's answer names in `batchItemFailures`; None when it names none;
    WHOLE_BATCH when it names an identifier that is not in the batch."""
    if not result or not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures")
    if not failures:
        return None
    positions = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(batch)}
    indexes = []
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in positions:
            log.error("batchItemFailures names %r, not a record of the batch: the whole batch fails", item)
            return WHOLE_BATCH
        indexes.append(positions[identifier])
    return min(indexes)


def on_failure_message(
    *,
    shard_id: str,
    records: list[dict],
    invocations: int,
    function_error,
    function_name: str,
    region: str,
    stream_arn: str,
) -> dict:
    """The on-failure destination's message for `records`, discarded after `invocations` invocations."""
    first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{function_name}",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": invocations,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"}
        | ({"functionError": function_error} if function_error else {}),
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime")),
            "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime")),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def _iso(epoch) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
