"""The responses stream: classify each answer, keep derived state exact, open close-the-loop tasks.

Only counted answers count: an image whose status is pending or excluded opens no task, writes no fact and
counts nothing (and removes the fact of an answer that was counted before).

Every record may arrive twice and a batch may be retried from its middle, so each effect is idempotent. The
fact is written first, only when its version is newer: it is what metrics count, and they are counted only
when it is written, so a redelivery counts nothing twice. The task effects follow, each conditional (opening
on the task's absence, following the answer on the response version), so a retry after a failed task write
repeats none of them; a task write DynamoDB refuses for good (an item too large) is logged and counted, and
never holds the fact back.

One bad record is its own item failure: it never fails the batch around it. Each invocation makes its own
`ResponseBatch` (Powertools' batch processor with the invocation's clock and metric counts), reads each record
once (response_changes.py) and hands that reading to the prefetch and to the record's processing.

Writes are kept near the floor:

- Coalescing (coalescing.py). When a batch holds several counted images of one response in a row that keep its
  score, only the newest is processed, from the state before the first; the older records share its outcome.
- No task write that changes nothing. Before any task write the batch reads, in one consistent BatchGetItem,
  which of its modified answers have a task: an existing task is followed without trying to open it, and an
  answer without a task that opens none writes nothing (a refused conditional write is billed). A fact is
  written for every newer version, even one that derives the same fact: the fact is the response's latest
  image, version included, which is what makes a redelivered older record change nothing.

Events (domain/events.py), when the stage has a bus: each counted record whose processing succeeded publishes
its answer's Response Recorded or Response Updated, made from the record's own images (a coalesced record too),
and a record that opened a task publishes Task Opened. They are published once the batch is processed, ten to a
PutEvents request. A redelivered record publishes the same events with the same ids: the response event comes
from the record alone, and a record that would open a task whose task already exists (its first delivery opened
it, then failed) publishes Task Opened again from the stored task. A record whose events are still refused after
the retries (store/event_bus.py) fails as its own item failure, so the stream delivers it again.
"""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from pynamodb.exceptions import GetError, PutError, UpdateError

from chalicelib import config
from chalicelib.domain import clock, loop
from chalicelib.domain import events as bus_events
from chalicelib.domain.errors import NotFound
from chalicelib.domain.facts import fact_of
from chalicelib.domain.nps import classify
from chalicelib.events.account_cache import ACCOUNTS, account_of
from chalicelib.events.coalescing import attributed, coalesced
from chalicelib.events.response_changes import (
    COUNT,
    KEY_ONLY,
    NOT_COUNTED,
    POISON,
    REMOVE,
    PoisonRecord,
    ResponseChange,
    read_change,
)
from chalicelib.events.stream_publishing import StreamEvents
from chalicelib.logs import log_keys, logger
from chalicelib.ops.metric_names import NAMESPACE
from chalicelib.store import accounts as account_store
from chalicelib.store import facts as fact_store
from chalicelib.store import surveys as survey_store
from chalicelib.store import task_keys
from chalicelib.store import tasks as task_store

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

__all__ = ["PoisonRecord", "ResponseBatch", "handle_stream_event"]

ANSWER_FIELDS = ("score", "comment", "drivers")
CATEGORY_METRIC = {"promoter": "Promoters", "passive": "Passives", "detractor": "Detractors"}
DEFAULT_RULES = {"categories": ["detractor"], "sla_hours": 48, "fallback_owner": None}


class ResponseBatch(BatchProcessor, StreamEvents):
    """One invocation's batch: Powertools' partial-response processor for DynamoDB Streams, with the clock every
    record of the batch shares, its metric counts and the survey rules it looked up. Made per invocation, so
    two invocations (in a row, or at once in one process) share nothing but the account cache.

    Without raise_on_entire_batch_failure=False a batch whose every record failed (a lone bad record) raises
    "All records failed processing": Lambda counts a crash and retries it whole instead of reading the report.
    """

    def __init__(self) -> None:
        super().__init__(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
        self.counts: Counter = Counter()
        self.now: datetime = clock.utcnow()
        self._rules: dict[str, tuple[dict, dict | None]] = {}
        self._changes: list[tuple[DynamoDBRecord, ResponseChange]] = []
        # Responses whose task exists (read before the writes, or opened since); None when the read failed.
        self._with_task: set[str] | None = set()
        # Events are built only when the stage has a bus; each record's task events, by the record's index.
        self._publishing = bool(config.settings().event_bus_name)
        self._task_events: dict[int, list[bus_events.Event]] = {}
        self._current = -1

    # ---- the invocation ----

    def run(self, event) -> PartialItemFailureResponse:
        records = event.get("Records") if isinstance(event, dict) else None
        if not isinstance(records, list):
            logger.warning("skipped an event without a list of records")
            return {"batchItemFailures": []}
        # A failure is reported by the record's sequence number. A record without one cannot come from the
        # stream, and reporting it (with no identifier) would make Lambda retry the whole batch: it is logged,
        # counted and left out.
        # Powertools is handed the raw records it declares; process() reads them as DynamoDBRecord again.
        readable = [record.raw_event for record in map(_identified, records) if record is not None]
        unreadable = len(records) - len(readable)
        if unreadable:
            self.counts[("HandlerFailures", None)] += unreadable
            logger.warning("skipped records without a sequence number", extra={"records": unreadable})
        if not readable:  # Powertools refuses an empty batch
            self._emit_metrics()
            return {"batchItemFailures": []}
        with log_keys(batch_size=len(records)):
            try:
                with self(records=readable, handler=self.apply):
                    self.process()
            except Exception:
                self.counts[("HandlerFailures", None)] += len(readable)
                self._emit_metrics()
                raise
            result = self.response()
            failures = len(result.get("batchItemFailures") or [])
            if failures:
                self.counts[("HandlerFailures", None)] += failures
                logger.warning("batch had failures", extra={"failed": failures, "records": len(records)})
        self._emit_metrics()
        return result

    def process(self) -> list[tuple]:
        """Read every record once, coalesce each response's run of images that keep its score, fetch the accounts
        and the existing tasks the batch needs (one request each), then process each record that is left. A
        coalesced record shares the outcome of the newest record of its run."""
        table = config.settings().table_name("responses")
        records = [DynamoDBRecord(raw) for raw in self.records]
        self._changes = [(record, read_change(record, table)) for record in records]
        carried_by, run_old = coalesced([change for _, change in self._changes])
        self._prefetch_accounts()
        self._prefetch_tasks(carried_by, run_old)
        outcomes: dict[int, tuple] = {}
        failures: dict[int, ExceptionInfo] = {}  # index -> the exception info of a failed record
        for i, (record, change) in enumerate(self._changes):
            if i in carried_by:
                continue
            if i in run_old:  # the newest of a run: processed from the state before the run's first image
                change = dataclasses.replace(change, old=run_old[i])
            self._current = i
            outcomes[i] = self._process_change((record, change))
            if outcomes[i][0] == "fail":
                failures[i] = self.exceptions[-1]
        for i, newest in carried_by.items():
            record = self._changes[i][0]
            with log_keys(correlation_id=record.event_id):
                logger.info("response coalesced with a later image", extra={"failed": newest in failures})
            if newest in failures:
                outcomes[i] = self.failure_handler(record=record, exception=failures[newest])
            else:
                outcomes[i] = self.success_handler(record=record.raw_event, result="coalesced")
        if self._publishing:
            self._publish(outcomes)
        return [outcomes[i] for i in range(len(self._changes))]

    def _process_change(self, pair: tuple[DynamoDBRecord, ResponseChange]):
        record, change = pair
        with log_keys(correlation_id=record.event_id):
            try:
                result = self.handler(change)
            except Exception as error:
                logger.warning(
                    "record failed",
                    extra={
                        "error": type(error).__name__,
                        "reason": str(error) if isinstance(error, PoisonRecord) else None,
                    },
                )
                return self.failure_handler(record=record, exception=sys.exc_info())
            return self.success_handler(record=record.raw_event, result=result)

    # ---- one record ----

    def apply(self, change: ResponseChange) -> str:
        if change.action == POISON:
            raise PoisonRecord(change.reason)
        if change.action == REMOVE:
            assert change.response_id is not None  # read_change names the response of every REMOVE
            fact_store.delete(change.response_id)
            logger.info("response removed", extra={"response_id": change.response_id})
            return "removed"
        if change.action == NOT_COUNTED:
            assert change.response_id is not None  # and of every NOT_COUNTED
            # Only an answer counted until now has a fact to remove; a pending answer (a page left open, a
            # scanner's views) costs no request at all.
            removed = change.old_counted and fact_store.delete_if_older(change.response_id, change.version)
            logger.info(
                "response not counted",
                extra={"response_id": change.response_id, "status": change.status, "fact_removed": removed},
            )
            return "not_counted"
        if change.action == COUNT:
            assert change.response is not None  # read_change validates the answer of every COUNT
            return self.process_response(change.response, change.old)
        if change.reason == KEY_ONLY:
            logger.info("skipped a key-only image")
        else:
            logger.info(
                "skipped a record that is not from the responses table", extra={"source_table": change.source_table}
            )
        return "skipped"

    def process_response(self, response: dict, old: dict | None) -> str:
        rules, taxonomy = self._survey_rules(response["survey_id"])
        fact = fact_of(response, taxonomy)
        category = fact["category"]
        rescored = old is not None and old["score"] != response["score"]
        first_time = fact_store.save_if_newer(fact)
        if first_time:
            if old is None:
                self.counts[("Responses", ("channel", response["channel"]))] += 1
                self.counts[(CATEGORY_METRIC[category], None)] += 1
            elif rescored and classify(old["score"]) != category:
                self.counts[("Rescores", None)] += 1
        try:
            opened = self._task_effects(response, old, category, rules)
        except (GetError, PutError, UpdateError) as error:
            if not task_store.is_permanent(error):
                raise  # throttling and the like: the record is retried, and the fact write does nothing again
            opened = False
            self.counts[("TaskWriteFailures", None)] += 1
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

    def _task_effects(self, response: dict, old: dict | None, category: str, rules: dict) -> bool:
        """Open the response's task, or bring an existing one up to this answer; True when a task was opened."""
        now = self.now
        if response.get("erased"):
            task_store.anonymise(response["response_id"])
            return False
        changed = _answer_changed(response, old)
        old_score = old["score"] if old is not None else None
        # Read before the writes (modified answers only); None: unknown, so the conditional writes decide.
        has_task = None if self._with_task is None else response["response_id"] in self._with_task
        if loop.opens_task(
            category, rules["categories"], response["first_submitted_at"], now, False, attributed=attributed(response)
        ):
            # Whether this answer is the one that opens the task: none of its earlier counted versions would.
            opener = old is None or classify(old["score"]) not in rules["categories"]
            if has_task:
                if changed:
                    task_store.follow_response(response=response, old_score=old_score, category=category, now=now)
                if opener:
                    self._announce_opened_again(response["response_id"])
                return False
            account = account_of(response.get("account_id"))
            owner = getattr(account, "owner", None) or rules.get("fallback_owner") or "unassigned"
            sla_hours = loop.sla_hours(rules)
            opened = task_store.open_task(
                response=response,
                category=category,
                owner=owner,
                manager=getattr(account, "manager", None),
                sla_hours=sla_hours,
                now=now,
            )
            if self._with_task is not None:
                self._with_task.add(response["response_id"])
            if opened:  # counted here: a retry finds the task and opens none
                self.counts[("TasksOpened", ("kind", loop.TASK_KIND[category]))] += 1
                facts = bus_events.TaskFacts(
                    task_store.task_id_for(response["response_id"]),
                    response["response_id"],
                    response["survey_id"],
                    response.get("account_id"),
                    loop.TASK_KIND[category],
                    category,
                )
                self._announce(
                    bus_events.task_opened(
                        facts, owner=owner, created_at=now, due_at=loop.due_at(now, sla_hours), sla_hours=sla_hours
                    )
                )
                return True
            if changed:
                task_store.follow_response(response=response, old_score=old_score, category=category, now=now)
            if opener:
                self._announce_opened_again(response["response_id"])
            return False
        if old is not None and changed and has_task is not False:
            # A task opened by an earlier answer follows this one too (a later score may not open tasks).
            task_store.follow_response(response=response, old_score=old_score, category=category, now=now)
        return False

    # ---- what the batch shares ----

    def _survey_rules(self, survey_id: str) -> tuple[dict, dict | None]:
        if survey_id not in self._rules:
            try:
                survey = survey_store.get_cached(survey_id)
            except NotFound:
                self._rules[survey_id] = (DEFAULT_RULES, None)
            else:
                taxonomy = survey.themes.as_dict() if survey.themes is not None else None
                self._rules[survey_id] = (survey_store.loop_rules(survey), taxonomy)
        return self._rules[survey_id]

    def _prefetch_accounts(self) -> None:
        """One BatchGetItem for the accounts of every record that may open a task (and, with a bus, of every
        counted answer: its events carry the account's segment)."""
        wanted = set()
        for _, change in self._changes:
            if change.action != COUNT or change.response is None:
                continue
            account_id = change.response.get("account_id")
            if not account_id or ACCOUNTS.get(account_id)[0]:
                continue
            if self._publishing:
                wanted.add(account_id)
                continue
            try:
                rules, _ = self._survey_rules(change.response["survey_id"])
            except Exception:  # noqa: S112 - the record fails on its own when processed, not here
                continue
            if classify(change.response["score"]) in rules["categories"]:
                wanted.add(account_id)
        if not wanted:
            return
        try:
            found = account_store.batch_get(wanted)
        except Exception:  # a failed prefetch only costs later per-record reads
            logger.warning("account prefetch failed", extra={"accounts": len(wanted)})
            return
        ACCOUNTS.remember(found, wanted)

    def _prefetch_tasks(self, carried_by: dict[int, int], run_old: dict[int, dict | None]) -> None:
        """One consistent BatchGetItem: which of the batch's modified answers (an old counted image, before the
        run for a coalesced one) have a task. A first answer has none to find: it opens its task with a write
        conditional on the task's absence."""
        wanted = {
            change.response["response_id"]
            for i, (_, change) in enumerate(self._changes)
            if i not in carried_by
            and change.action == COUNT
            and change.response is not None
            and run_old.get(i, change.old) is not None
        }
        if not wanted:
            return
        try:
            self._with_task = task_keys.with_tasks(wanted)
        except Exception:  # unknown then: each record tries the writes, conditional as they are, as without the read
            logger.warning("task prefetch failed", extra={"responses": len(wanted)})
            self._with_task = None

    def _emit_metrics(self) -> None:
        for (name, dimension), value in sorted(self.counts.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
            with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
                if dimension:
                    metric.add_dimension(name=dimension[0], value=str(dimension[1]))


def handle_stream_event(event, context) -> PartialItemFailureResponse:
    """The stream function's work: a batch of its own per call, partial batch responses, so only failed records
    (and those after them) retry. Lines about the batch carry the invocation's request id as correlation id;
    lines about a record carry the record's eventID."""
    with log_keys(correlation_id=getattr(context, "aws_request_id", None)):
        return ResponseBatch().run(event)


def _identified(raw) -> DynamoDBRecord | None:
    """The record, as Powertools' data class, when it carries a sequence number to report it by."""
    if not isinstance(raw, dict):
        return None
    record = DynamoDBRecord(raw)
    stream = record.dynamodb
    if stream is None or not isinstance(stream.raw_event, dict):
        return None
    number = stream.sequence_number
    return record if isinstance(number, str) and number else None


def _answer_changed(response: dict, old: dict | None) -> bool:
    if old is None:
        return True
    return any((old.get(f) or None) != (response.get(f) or None) for f in ANSWER_FIELDS)
