"""The responses stream: classify each answer, keep derived state exact, open close-the-loop tasks.

Every record may arrive twice and a batch may be retried from its middle, so each effect is idempotent:
the task write is conditional on the task's absence (its id comes from the response), a re-score note is
conditional on the response version, and the fact is written last, only when its version is newer. The fact
write is the commit point: metrics are counted only when it succeeds, so a redelivery counts nothing twice.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

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

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

REQUIRED = (
    "response_id", "survey_id", "score", "channel", "first_submitted_at", "submitted_at", "month", "month_shard",
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


def _prefetch_accounts(records: list[dict]) -> None:
    """One BatchGetItem for the accounts of every record that may open a task."""
    wanted = set()
    for raw in records:
        try:
            image = _image((raw.get("dynamodb") or {}).get("NewImage"))
        except PoisonRecord:
            continue
        rules, _ = _survey_rules(image["survey_id"])
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


def record_handler(record: DynamoDBRecord) -> str:
    raw = record.raw_event
    logger.append_keys(correlation_id=raw.get("eventID"))
    table = _table_of(raw.get("eventSourceARN") or "")
    if raw.get("eventSource") != "aws:dynamodb" or table != config.settings().table_name("responses"):
        logger.info("skipped a record that is not from the responses table", extra={"source_table": table})
        return "skipped"
    ddb = raw.get("dynamodb") or {}
    if raw.get("eventName") == "REMOVE":
        keys = ddb.get("Keys") or {}
        response_id = (keys.get("response_id") or {}).get("S")
        if not response_id:
            raise PoisonRecord("REMOVE without a response_id key")
        fact_store.delete(response_id)
        logger.info("response removed", extra={"response_id": response_id})
        return "removed"
    if raw.get("eventName") not in ("INSERT", "MODIFY"):
        raise PoisonRecord(f"unknown eventName {raw.get('eventName')!r}")
    new_image = ddb.get("NewImage") or {}
    if new_image and set(new_image) <= set(ddb.get("Keys") or {}):
        # An image of nothing but the key carries no answer (moto emits one before an upsert's full image).
        logger.info("skipped a key-only image")
        return "skipped"
    response = _image(new_image)
    old_image = ddb.get("OldImage") or {}
    old = _image(old_image) if old_image and not set(old_image) <= set(ddb.get("Keys") or {}) else None
    return process_response(response, old)


def process_response(response: dict, old: dict | None) -> str:
    rules, taxonomy = _survey_rules(response["survey_id"])
    fact = fact_of(response, taxonomy)
    category = fact["category"]
    erased = bool(response.get("erased"))
    rescored = old is not None and old["score"] != response["score"]
    now = _batch.now
    opened = False
    if erased:
        task_store.scrub_comment(response["response_id"])
    elif loop.opens_task(category, rules["categories"], response["first_submitted_at"], now, erased):
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
        if opened:  # counted here, not after the fact write: a retry finds the task and opens none
            _batch.counts[("TasksOpened", ("kind", loop.TASK_KIND[category]))] += 1
        if not opened and rescored:
            task_store.note_rescore(response=response, old_score=old["score"], category=category, now=now)
    elif rescored:
        task_store.note_rescore(response=response, old_score=old["score"], category=category, now=now)
    first_time = fact_store.save_if_newer(fact)
    if first_time:
        if old is None:
            _batch.counts[("Responses", ("channel", response["channel"]))] += 1
            _batch.counts[(CATEGORY_METRIC[category], None)] += 1
        elif rescored and classify(old["score"]) != category:
            _batch.counts[("Rescores", None)] += 1
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


def _emit_metrics(counts: Counter) -> None:
    for (name, dimension), value in sorted(counts.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
            if dimension:
                metric.add_dimension(name=dimension[0], value=str(dimension[1]))


def forget_cached_accounts() -> None:
    _accounts.clear()


def handle_stream_event(event: dict, context) -> dict:
    """The Lambda handler: partial batch responses, so only failed records (and those after them) retry."""
    global _batch
    _batch = Batch()
    records = event.get("Records") or []
    logger.append_keys(batch_size=len(records))
    _prefetch_accounts(records)
    try:
        result = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    except Exception:
        _batch.counts[("HandlerFailures", None)] += len(records)
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
