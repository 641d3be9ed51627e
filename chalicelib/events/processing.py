"""The responses stream: classify each answer, keep derived state exact, open close-the-loop tasks.

Only counted answers count: an image whose status is pending or excluded opens no task, writes no fact and
counts nothing (and removes the fact of an answer that was counted before).

Every record may arrive twice and a batch may be retried from its middle, so each effect is idempotent. The
fact is written first, only when its version is newer: it is what metrics count, and they are counted only
when it is written, so a redelivery counts nothing twice. The task effects follow, each conditional (opening
on the task's absence, following the answer on the response version), so a retry after a failed task write
repeats none of them; a task write DynamoDB refuses for good (an item too large) is logged and counted, and
never holds the fact back.

One bad record is its own item failure: it never fails the batch around it.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from pynamodb.exceptions import GetError, PutError, UpdateError

from chalicelib import config
from chalicelib.domain import loop, tokens
from chalicelib.domain.facts import fact_of
from chalicelib.domain.validation import classify
from chalicelib.errors import NotFound
from chalicelib.logs import logger
from chalicelib.ops.metric_names import NAMESPACE
from chalicelib.store import accounts as account_store
from chalicelib.store import facts as fact_store
from chalicelib.store import surveys as survey_store
from chalicelib.store import tasks as task_store
from chalicelib.store.models import Response

# Without raise_on_entire_batch_failure=False a batch whose every record failed (a lone bad record) raises
# "All records failed processing": Lambda counts a crash and retries it whole instead of reading the report.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
STATUSES = ("counted", "pending", "excluded")
ANSWER_FIELDS = ("score", "comment", "drivers")

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
CATEGORY_METRIC = {"promoter": "Promoters", "passive": "Passives", "detractor": "Detractors"}


class PoisonRecord(ValueError):
    """A record of our table whose image cannot be a response: retried, then sent to the on-failure path."""


ACCOUNT_CACHE_SECONDS = 60


class Batch:
    """What one invocation shares across its records: the clock and metric counts."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.now: datetime = tokens.utcnow()


_batch = Batch()
# Owners and managers change rarely; a warm container remembers them for a minute, so a retried or
# following batch reads no account twice.
_accounts: dict[str, tuple[float, object]] = {}


def _cached_account(account_id: str):
    hit = _accounts.get(account_id)
    return hit if hit and hit[0] > time.monotonic() else None


def _remember_accounts(found: dict, wanted) -> None:
    expires = time.monotonic() + ACCOUNT_CACHE_SECONDS
    for account_id in wanted:
        _accounts[account_id] = (expires, found.get(account_id))


def _image(raw: dict | None) -> dict:
    if not raw:
        raise PoisonRecord("record has no image")
    try:
        model = Response.from_raw_data(raw)
    except Exception as error:  # PynamoDB raises several types for bad attribute values
        raise PoisonRecord(f"image does not deserialize: {type(error).__name__}") from None
    values = {name: getattr(model, name, None) for name in Response.get_attributes()}
    missing = [f for f in REQUIRED if values.get(f) is None]
    if missing:
        raise PoisonRecord(f"image lacks {', '.join(missing)}")
    score = values["score"]
    if isinstance(score, bool) or int(score) != score or not 0 <= int(score) <= 10:
        raise PoisonRecord("score is not an integer from 0 to 10")
    values["score"] = int(score)
    values["version"] = int(values.get("version") or 1)
    return values


def _table_of(arn: str) -> str | None:
    if ":table/" not in arn:
        return None
    return arn.split(":table/", 1)[1].split("/", 1)[0]


def _survey_rules(survey_id: str) -> tuple[dict, dict | None]:
    try:
        survey = survey_store.get_cached(survey_id)
    except NotFound:
        return {"categories": ["detractor"], "sla_hours": 48, "fallback_owner": None}, None
    taxonomy = survey.themes.as_dict() if survey.themes is not None else None
    return survey_store.loop_rules(survey), taxonomy


def _account(account_id: str | None):
    if not account_id:
        return None
    hit = _cached_account(account_id)
    if hit is None:
        _remember_accounts(account_store.batch_get([account_id]), [account_id])
        hit = _accounts[account_id]
    return hit[1]


def _status(image: dict) -> str:
    """The image's response status; absent means counted (imports and answers stored before statuses)."""
    raw = image.get("status")
    if raw is None:
        return "counted"
    if not isinstance(raw, dict) or raw.get("S") not in STATUSES:
        raise PoisonRecord("status is not counted, pending or excluded")
    return raw["S"]


def _raw_version(image: dict) -> int | None:
    raw = image.get("version")
    try:
        return int(raw["N"]) if isinstance(raw, dict) and isinstance(raw.get("N"), str) else None
    except ValueError:
        raise PoisonRecord("version is not an integer") from None


def _attributed(image: dict) -> bool:
    return bool(image.get("account_id") or image.get("contact_id"))


def _counted_image(raw: dict) -> dict | None:
    """The validated new image of a record that may open a task, or None (skipped, not counted, unreadable)."""
    ddb = raw.get("dynamodb") if isinstance(raw, dict) else None
    image = ddb.get("NewImage") if isinstance(ddb, dict) else None
    if not isinstance(image, dict) or not image or _status(image) != "counted":
        return None
    return _image(image)


def _prefetch_accounts(records: list[dict]) -> None:
    """One BatchGetItem for the accounts of every record that may open a task."""
    wanted = set()
    for raw in records:
        try:
            image = _counted_image(raw)
            if image is None:
                continue
            rules, _ = _survey_rules(image["survey_id"])
        except Exception:  # noqa: S112 - a bad record fails on its own in record_handler, not here
            continue
        account_id = image.get("account_id")
        if account_id and classify(image["score"]) in rules["categories"] and not _cached_account(account_id):
            wanted.add(account_id)
    if not wanted:
        return
    try:
        found = account_store.batch_get(wanted)
    except Exception:  # a failed prefetch only costs later per-record reads
        logger.warning("account prefetch failed", extra={"accounts": len(wanted)})
        return
    _remember_accounts(found, wanted)


def _object(value, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PoisonRecord(f"{what} is not an object")
    return value


def record_handler(record: DynamoDBRecord) -> str:
    raw = record.raw_event
    logger.append_keys(correlation_id=raw.get("eventID"))
    arn = raw.get("eventSourceARN")
    table = _table_of(arn if isinstance(arn, str) else "")
    if raw.get("eventSource") != "aws:dynamodb" or table != config.settings().table_name("responses"):
        logger.info("skipped a record that is not from the responses table", extra={"source_table": table})
        return "skipped"
    ddb = _object(raw.get("dynamodb"), "dynamodb")
    keys = _object(ddb.get("Keys"), "Keys")
    if raw.get("eventName") == "REMOVE":
        response_id = _object(keys.get("response_id"), "the response_id key").get("S")
        if not isinstance(response_id, str) or not response_id:
            raise PoisonRecord("REMOVE without a response_id key")
        fact_store.delete(response_id)
        logger.info("response removed", extra={"response_id": response_id})
        return "removed"
    if raw.get("eventName") not in ("INSERT", "MODIFY"):
        raise PoisonRecord(f"unknown eventName {str(raw.get('eventName'))[:40]!r}")
    new_image = _object(ddb.get("NewImage"), "NewImage")
    if new_image and set(new_image) <= set(keys):
        # An image of nothing but the key carries no answer (moto emits one before an upsert's full image).
        logger.info("skipped a key-only image")
        return "skipped"
    if not new_image:
        raise PoisonRecord("record has no image")
    # The status comes before any other check: an erased person's tombstone (excluded, no score) is not an
    # answer, and must be skipped rather than fail as one.
    status = _status(new_image)
    old_image = _object(ddb.get("OldImage"), "OldImage")
    old_counted = bool(old_image) and not set(old_image) <= set(keys) and _status(old_image) == "counted"
    if status != "counted":
        response_id = _object(new_image.get("response_id") or keys.get("response_id"), "response_id").get("S")
        if not isinstance(response_id, str) or not response_id:
            raise PoisonRecord("image without a response_id")
        # Only an answer counted until now has a fact to remove; a pending answer (a page left open, a
        # scanner's views) costs no request at all.
        removed = old_counted and fact_store.delete_if_older(response_id, _raw_version(new_image))
        logger.info(
            "response not counted", extra={"response_id": response_id, "status": status, "fact_removed": removed}
        )
        return "not_counted"
    response = _image(new_image)
    old = None
    if old_counted:
        # An answer that was pending or excluded before is counted now for the first time.
        old = _image(old_image)
    return process_response(response, old)


def process_response(response: dict, old: dict | None) -> str:
    rules, taxonomy = _survey_rules(response["survey_id"])
    fact = fact_of(response, taxonomy)
    category = fact["category"]
    rescored = old is not None and old["score"] != response["score"]
    first_time = fact_store.save_if_newer(fact)
    if first_time:
        if old is None:
            _batch.counts[("Responses", ("channel", response["channel"]))] += 1
            _batch.counts[(CATEGORY_METRIC[category], None)] += 1
        elif rescored and classify(old["score"]) != category:
            _batch.counts[("Rescores", None)] += 1
    try:
        opened = _task_effects(response, old, category, rules)
    except (GetError, PutError, UpdateError) as error:
        if not task_store.is_permanent(error):
            raise  # throttling and the like: the record is retried, and the fact write does nothing again
        opened = False
        _batch.counts[("TaskWriteFailures", None)] += 1
        logger.warning(
            "task write refused for good; the response's fact is written",
            extra={"response_id": response["response_id"], "error": error.cause_response_code},
        )
    logger.info(
        "response processed",
        extra={
            "response_id": response["response_id"],
            "version": response["version"],
            "category": category,
            "task_opened": opened,
            "first_time": first_time,
        },
    )
    return category


def _answer_changed(response: dict, old: dict | None) -> bool:
    if old is None:
        return True
    return any((old.get(f) or None) != (response.get(f) or None) for f in ANSWER_FIELDS)


def _task_effects(response: dict, old: dict | None, category: str, rules: dict) -> bool:
    """Open the response's task, or bring an existing one up to this answer; True when a task was opened."""
    now = _batch.now
    if response.get("erased"):
        task_store.anonymise(response["response_id"])
        return False
    changed = _answer_changed(response, old)
    old_score = old["score"] if old is not None else None
    if loop.opens_task(
        category, rules["categories"], response["first_submitted_at"], now, False, attributed=_attributed(response)
    ):
        account = _account(response.get("account_id"))
        owner = getattr(account, "owner", None) or rules.get("fallback_owner") or "unassigned"
        opened = task_store.open_task(
            response=response,
            category=category,
            owner=owner,
            manager=getattr(account, "manager", None),
            sla_hours=loop.sla_hours(rules),
            now=now,
        )
        if opened:  # counted here: a retry finds the task and opens none
            _batch.counts[("TasksOpened", ("kind", loop.TASK_KIND[category]))] += 1
            return True
        if changed:
            task_store.follow_response(response=response, old_score=old_score, category=category, now=now)
        return False
    if old is not None and changed:
        # A task opened by an earlier answer follows this one too (a later score may not open tasks).
        task_store.follow_response(response=response, old_score=old_score, category=category, now=now)
    return False


def _emit_metrics(counts: Counter) -> None:
    for (name, dimension), value in sorted(counts.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
            if dimension:
                metric.add_dimension(name=dimension[0], value=str(dimension[1]))


def forget_cached_accounts() -> None:
    _accounts.clear()


def _sequence_number(raw) -> str | None:
    ddb = raw.get("dynamodb") if isinstance(raw, dict) else None
    number = ddb.get("SequenceNumber") if isinstance(ddb, dict) else None
    return number if isinstance(number, str) and number else None


def handle_stream_event(event: dict, context) -> dict:
    """The Lambda handler: partial batch responses, so only failed records (and those after them) retry."""
    global _batch
    _batch = Batch()
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        logger.warning("skipped an event without a list of records")
        return {"batchItemFailures": []}
    # A failure is reported by the record's sequence number. A record without one cannot come from the
    # stream, and reporting it (with no identifier) would make Lambda retry the whole batch: it is logged,
    # counted and left out.
    readable = [r for r in records if _sequence_number(r)]
    unreadable = len(records) - len(readable)
    if unreadable:
        _batch.counts[("HandlerFailures", None)] += unreadable
        logger.warning("skipped records without a sequence number", extra={"records": unreadable})
    if not readable:  # Powertools refuses an empty batch
        _emit_metrics(_batch.counts)
        return {"batchItemFailures": []}
    logger.append_keys(batch_size=len(records))
    _prefetch_accounts(readable)
    try:
        result = process_partial_response(
            event={"Records": readable}, record_handler=record_handler, processor=processor, context=context
        )
    except Exception:
        _batch.counts[("HandlerFailures", None)] += len(readable)
        _emit_metrics(_batch.counts)
        logger.remove_keys(["batch_size", "correlation_id"])
        raise
    failures = len(result.get("batchItemFailures") or [])
    if failures:
        _batch.counts[("HandlerFailures", None)] += failures
        logger.warning("batch had failures", extra={"failed": failures, "records": len(records)})
    _emit_metrics(_batch.counts)
    logger.remove_keys(["batch_size", "correlation_id"])
    return result
