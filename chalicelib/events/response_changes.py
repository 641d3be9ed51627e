"""What one record of the responses stream says about an answer, read once.

Powertools' `DynamoDBRecord` gives the record's fields (source, table ARN, event name, keys, sequence number);
each image is deserialized once, through the `Response` model, into the `ResponseChange` that the account
prefetch and the record's processing both use. Reading never raises: a record that cannot be an answer's
change reads as a POISON change with its reason, and fails alone, as its own item failure, when processed.

The status is the first thing read from an image: an erased person's tombstone (excluded, no score) is not an
answer, and must be skipped rather than fail as one; the fields an answer needs are required of counted
images only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName

from chalicelib.store.models import Response

STATUSES = ("counted", "pending", "excluded")
REQUIRED = (
    "response_id",
    "survey_id",
    "score",
    "channel",
    "first_submitted_at",
    "submitted_at",
    "month",
    "month_shard",
)

# What a record asks of the stream handler.
SKIP = "skip"  # not from the responses table, or a key-only image: nothing to do
REMOVE = "remove"  # the response was deleted: its fact goes
NOT_COUNTED = "not_counted"  # pending or excluded: the fact of an answer counted until now goes
COUNT = "count"  # a counted answer: its fact, metrics and task
POISON = "poison"  # cannot be an answer's change: an item failure
# Why a record is skipped.
FOREIGN = "not from the responses table"
KEY_ONLY = "key-only image"


class PoisonRecord(ValueError):
    """A record of our table whose image cannot be a response: retried, then sent to the on-failure path."""


@dataclass(frozen=True)
class ResponseChange:
    action: str
    reason: str = ""  # why a record is skipped or poison (never a value from the record)
    response_id: str | None = None
    source_table: str | None = None
    status: str | None = None
    version: int | None = None  # NOT_COUNTED: the new image's version (None when it has none)
    old_counted: bool = False  # NOT_COUNTED: the old image was a counted answer, so a fact may exist
    response: dict | None = None  # COUNT: the validated answer
    old: dict | None = None  # COUNT: the validated answer before, when it was counted already


def read_change(record: DynamoDBRecord, responses_table: str) -> ResponseChange:
    """The change a stream record carries; never raises."""
    try:
        return _read(record, responses_table)
    except PoisonRecord as error:
        return ResponseChange(POISON, reason=str(error))
    except Exception as error:
        return ResponseChange(POISON, reason=f"record does not read: {type(error).__name__}")


def table_of(arn: str | None) -> str | None:
    if not isinstance(arn, str) or ":table/" not in arn:
        return None
    return arn.split(":table/", 1)[1].split("/", 1)[0]


def _read(record: DynamoDBRecord, responses_table: str) -> ResponseChange:
    table = table_of(record.event_source_arn)
    if record.event_source != "aws:dynamodb" or table != responses_table:
        return ResponseChange(SKIP, reason=FOREIGN, source_table=table)
    stream = record.dynamodb
    if stream is None or not isinstance(stream.raw_event, dict):
        raise PoisonRecord("dynamodb is not an object")
    key_names = set(_object(stream.get("Keys"), "Keys"))
    name = _event_name(record)
    if name is DynamoDBRecordEventName.REMOVE:
        response_id = stream.keys.get("response_id")
        if not isinstance(response_id, str) or not response_id:
            raise PoisonRecord("REMOVE without a response_id key")
        return ResponseChange(REMOVE, response_id=response_id)
    raw_new = _object(stream.get("NewImage"), "NewImage")
    if raw_new and set(raw_new) <= key_names:
        # An image of nothing but the key carries no answer (moto emits one before an upsert's full image).
        return ResponseChange(SKIP, reason=KEY_ONLY)
    if not raw_new:
        raise PoisonRecord("record has no image")
    new = _model(raw_new)
    status = _status(new)
    raw_old = _object(stream.get("OldImage"), "OldImage")
    old = _model(raw_old) if raw_old and not set(raw_old) <= key_names else None
    old_counted = old is not None and _status(old) == "counted"
    if status != "counted":
        response_id = new.response_id or stream.keys.get("response_id")
        if not isinstance(response_id, str) or not response_id:
            raise PoisonRecord("image without a response_id")
        version = new.version if "version" in raw_new else None
        if version is not None and int(version) != version:
            raise PoisonRecord("version is not an integer")
        return ResponseChange(
            NOT_COUNTED,
            response_id=response_id,
            status=status,
            version=None if version is None else int(version),
            old_counted=old_counted,
        )
    # An answer that was pending or excluded before is counted now for the first time.
    response = _answer(new)
    return ResponseChange(
        COUNT,
        response_id=response["response_id"],
        status=status,
        response=response,
        old=_answer(old) if old is not None and old_counted else None,
    )


def _event_name(record: DynamoDBRecord) -> DynamoDBRecordEventName:
    try:
        name = record.event_name
    except (KeyError, TypeError):
        name = None
    if name is None:
        raise PoisonRecord(f"unknown eventName {str(record.get('eventName'))[:40]!r}")
    return name


def _object(value, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PoisonRecord(f"{what} is not an object")
    return value


def _model(image: dict) -> Response:
    try:
        return Response.from_raw_data(image)
    except Exception as error:  # PynamoDB raises several types for bad attribute values
        raise PoisonRecord(f"image does not deserialize: {type(error).__name__}") from None


def _status(model: Response) -> str:
    """The image's response status; absent means counted (imports and answers stored before statuses)."""
    if model.status is None:
        return "counted"
    if model.status not in STATUSES:
        raise PoisonRecord("status is not counted, pending or excluded")
    return model.status


def _answer(model: Response) -> dict:
    """A counted image's values, with every field an answer needs."""
    values: dict[str, Any] = {name: getattr(model, name, None) for name in Response.get_attributes()}
    missing = [f for f in REQUIRED if values.get(f) is None]
    if missing:
        raise PoisonRecord(f"image lacks {', '.join(missing)}")
    score = values["score"]
    if isinstance(score, bool) or int(score) != score or not 0 <= int(score) <= 10:
        raise PoisonRecord("score is not an integer from 0 to 10")
    values["score"] = int(score)
    values["version"] = int(values.get("version") or 1)
    return values
