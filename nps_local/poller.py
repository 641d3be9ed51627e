"""Deliver a DynamoDB stream to a Lambda handler with Lambda's event-source-mapping semantics.

Per shard, in order: batches of up to `batch_size` records; with ReportBatchItemFailures, the records before
the lowest failed sequence number are checkpointed and the next invocation starts at that record (and carries
everything after it); a handler that raises, or answers with an identifier that is not in the batch, fails the
whole batch, which is split in two when BisectBatchOnFunctionError is on. After `max_retries` retries at the
same position the batch is discarded: a message describing it (never its records) goes to the on-failure queue,
and the shard moves on, so nothing behind it is blocked.

Retries are counted per position: every failed invocation whose batch starts at the same record counts one
(a bisection too), and the count starts again when the position moves. Not honoured locally:
MaximumBatchingWindowInSeconds (the poll interval stands in), MaximumRecordAgeInSeconds (local records never
grow that old) and ParallelizationFactor (one batch per shard at a time, as with 1).

`poll_once()` delivers everything available now, retries included, without sleeping; `start()` runs it in a
background thread every `interval` seconds. With `redeliver=True` every batch is delivered once more, from its first
record, after it went through, as Lambda may (delivery is at least once).

The same emulation serves the tests and benchmarks, which also take records out of the stream (`read_new`) and
deliver records of their choosing (`deliver`: a slice, a batch twice, a made-up event) by the same rules.
`responses_stream.responses_poller` is the responses table's poller with the template's mapping;
`stream_events` builds the records and on-failure messages as Lambda writes them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from chalice.local import LambdaContext

from nps_local.stream_events import WHOLE_BATCH, first_failure, lambda_record, on_failure_message
from nps_local.template import StreamMapping

log = logging.getLogger("nps.local.poller")

# When retries are unbounded (MaximumRetryAttempts -1), one poll gives a failing batch this many more tries
# and leaves it for the next poll, so poll_once always returns.
UNBOUNDED_RETRIES_PER_POLL = 10
# How often the shard list is read again (new shards appear when DynamoDB splits or rolls a shard).
DISCOVERY_INTERVAL = 5.0
# Records read ahead of delivery per shard.
READ_AHEAD_BATCHES = 10


@dataclass
class PollerStats:
    batches: int = 0
    records_delivered: int = 0
    records_checkpointed: int = 0
    retries: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    bisections: int = 0
    redeliveries: int = 0
    on_failure_messages: int = 0
    records_discarded: int = 0

    def add(self, other: PollerStats) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None = None
    closed: bool = False
    last_read: str | None = None
    pending: deque = field(default_factory=deque)
    failures: int = 0  # failed invocations whose batch started at the current head record
    invocations: int = 0  # invocations whose batch started at the current head record
    planned: list[int] = field(default_factory=list)  # sizes of the halves a bisection left to deliver
    discarded: list | None = None  # records given up after their retries, kept for `deliver`'s caller only

    @property
    def finished(self) -> bool:
        return self.closed and not self.pending


def default_handler() -> Callable:
    """The app's real `response_stream` function, called the way Lambda calls it."""
    from app import app

    return app.handler_map["response_stream"]


class StreamPoller:
    def __init__(
        self,
        *,
        stream_arn: str,
        streams_client,
        mapping: StreamMapping,
        handler: Callable | None = None,
        sqs_client=None,
        on_failure_queue_url: str | None = None,
        function_name: str = "response_stream",
        region: str = "us-east-1",
        interval: float = 0.2,
    ):
        self.stream_arn = stream_arn
        self.mapping = mapping
        self.function_name = function_name
        self.region = region
        self.interval = interval
        self._streams = streams_client
        self._sqs = sqs_client
        self._queue_url = on_failure_queue_url
        self._handler = handler
        self._shards: dict[str, _Shard] = {}
        self._discovered_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = PollerStats()
        self.last_error: str | None = None

    @classmethod
    def for_table(cls, table_name: str, *, dynamodb_client, streams_client, **kwargs) -> StreamPoller:
        arn = dynamodb_client.describe_table(TableName=table_name)["Table"].get("LatestStreamArn")
        if not arn:
            raise RuntimeError(f"table {table_name} has no stream")
        return cls(stream_arn=arn, streams_client=streams_client, **kwargs)

    @property
    def handler(self) -> Callable:
        if self._handler is None:
            self._handler = default_handler()
        return self._handler

    # ---- background loop --------------------------------------------------------------------------------

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self.poll_once()  # fails here, at start, when the stream cannot be read at all
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll_once()
            except Exception as error:  # keep polling: a moto hiccup must not end local delivery
                self.last_error = repr(error)
                log.exception("stream poll failed")

    # ---- one poll ---------------------------------------------------------------------------------------

    def poll_once(self, *, redeliver: bool = False) -> dict:
        """Deliver every record available now (with retries, without sleeping); the counts of this poll. With
        `redeliver`, every batch is delivered once more after it went through (see `deliver`)."""
        if redeliver:
            before = PollerStats(**self.stats.as_dict())
            self.deliver(self.read_new(), redeliver=True)
            delta = self.stats.as_dict()
            return {name: value - getattr(before, name) for name, value in delta.items()}
        with self._lock:
            stats = PollerStats()
            failed_this_poll: dict[str, int] = {}
            if not self._shards or time.monotonic() - self._discovered_at > DISCOVERY_INTERVAL:
                self._discover_shards()
            progressed = True
            while progressed and not self._stop_requested_now():
                progressed = False
                for shard in self._ready_shards():
                    self._read(shard)
                    if self._deliver(shard, stats, failed_this_poll):
                        progressed = True
            self.stats.add(stats)
            return stats.as_dict()

    def read_new(self) -> list[dict]:
        """Every record not yet read or delivered (from the mapping's starting position on the first call), as
        Lambda puts it in an event, parent shards first; taken out of delivery, for a caller that delivers them
        itself (`deliver`) or only wants to skip them."""
        with self._lock:
            self._discover_shards()
            out: list[dict] = []
            progressed = True
            while progressed:
                progressed = False
                for shard in self._ready_shards():
                    self._read(shard)
                    if shard.pending:
                        out.extend(shard.pending)
                        shard.pending.clear()
                        shard.planned.clear()
                        progressed = True
            return out

    def deliver(self, records: list[dict], *, redeliver: bool = False) -> list[dict]:
        """Deliver `records` (from `read_new`, a part of them, or made up) as one shard's records, by the same
        rules as `poll_once`: batches of the mapping's size, retries, bisection, partial failures. With
        `redeliver`, each run of a batch's size is delivered once more, from its first record, after all of it
        went through (at least once: as after a checkpoint Lambda lost). Returns the records that were not
        delivered: those discarded when their retries ran out (their on-failure message sent), and with
        unbounded retries those still failing after this call's tries."""
        size = self.mapping.batch_size
        runs = [records[i : i + size] for i in range(0, len(records), size)] if redeliver else [records]
        left: list[dict] = []
        with self._lock:
            for run in runs:
                for attempt in range(2 if redeliver else 1):
                    shard = _Shard("given", None, closed=True, pending=deque(run), discarded=[])
                    stats = PollerStats(redeliveries=attempt)
                    failed_this_call: dict[str, int] = {}
                    while shard.pending and self._deliver(shard, stats, failed_this_call):
                        pass
                    self.stats.add(stats)
                    left += [r for r in [*(shard.discarded or ()), *shard.pending] if r not in left]
        return left

    def _stop_requested_now(self) -> bool:
        # A stop during a long drain lets the current batch finish and leaves the rest checkpointed.
        return self._stop.is_set() and self._thread is not None

    def _discover_shards(self) -> None:
        kwargs: dict = {"StreamArn": self.stream_arn}
        while True:
            description = self._streams.describe_stream(**kwargs)["StreamDescription"]
            for shard in description.get("Shards", []):
                if shard["ShardId"] not in self._shards:
                    self._shards[shard["ShardId"]] = _Shard(shard["ShardId"], shard.get("ParentShardId"))
            last = description.get("LastEvaluatedShardId")
            if not last:
                self._discovered_at = time.monotonic()
                return
            kwargs["ExclusiveStartShardId"] = last

    def _ready_shards(self) -> list[_Shard]:
        # A child shard waits until its parent is drained, as Lambda keeps per-key order across splits.
        ready = []
        for shard in self._shards.values():
            parent = self._shards.get(shard.parent_id) if shard.parent_id else None
            if not shard.finished and (parent is None or parent.finished):
                ready.append(shard)
        return ready

    def _iterator(self, shard: _Shard) -> str | None:
        if shard.last_read is not None:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.last_read}
        elif self.mapping.starting_position == "LATEST" and shard.parent_id is None:
            kwargs = {"ShardIteratorType": "LATEST"}
        else:  # TRIM_HORIZON, and always for a child shard: its parent's reader already started at LATEST
            kwargs = {"ShardIteratorType": "TRIM_HORIZON"}
        response = self._streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard.shard_id, **kwargs)
        return response.get("ShardIterator")

    def _read(self, shard: _Shard) -> None:
        limit = self.mapping.batch_size * READ_AHEAD_BATCHES
        while not shard.closed and len(shard.pending) < limit:
            if shard.iterator is None:
                shard.iterator = self._iterator(shard)
                if shard.iterator is None:
                    shard.closed = True
                    return
            try:
                page = self._streams.get_records(ShardIterator=shard.iterator, Limit=1000)
            except self._streams.exceptions.ExpiredIteratorException:
                shard.iterator = None
                continue
            records = page.get("Records", [])
            shard.iterator = page.get("NextShardIterator")
            if shard.iterator is None:
                shard.closed = True
            for record in records:
                shard.pending.append(lambda_record(record, stream_arn=self.stream_arn, region=self.region))
                shard.last_read = record["dynamodb"]["SequenceNumber"]
            if not records:
                return

    # ---- delivery ---------------------------------------------------------------------------------------

    def _deliver(self, shard: _Shard, stats: PollerStats, failed_this_poll: dict[str, int]) -> bool:
        """Invoke the handler once for the shard's head batch; True when anything was invoked."""
        if not shard.pending:
            return False
        if self.mapping.max_retries is None and failed_this_poll.get(shard.shard_id, 0) >= UNBOUNDED_RETRIES_PER_POLL:
            return False
        size = shard.planned[0] if shard.planned else self.mapping.batch_size
        batch = [shard.pending[i] for i in range(min(size, len(shard.pending)))]
        stats.batches += 1
        stats.records_delivered += len(batch)
        shard.invocations += 1
        outcome, function_error = self._invoke(batch)

        if outcome is None:
            self._checkpoint(shard, len(batch), stats)
            if shard.planned:
                shard.planned.pop(0)
            return True

        failed_this_poll[shard.shard_id] = failed_this_poll.get(shard.shard_id, 0) + 1
        if outcome is WHOLE_BATCH:
            stats.function_errors += 1
            failed_at = 0
        else:
            stats.partial_failures += 1
            failed_at = outcome
        if failed_at > 0:
            # Progress: the records before the failed one are done; the failed one heads the next batch.
            self._checkpoint(shard, failed_at, stats)
            shard.planned.clear()
            shard.failures = 1
            shard.invocations = 1
        else:
            shard.failures += 1

        remaining = batch[failed_at:]
        if self.mapping.max_retries is not None and shard.failures > self.mapping.max_retries:
            self._discard(shard, remaining, stats, function_error)
            return True
        stats.retries += 1
        if outcome is WHOLE_BATCH and self.mapping.bisect_on_error and len(batch) > 1:
            half = (len(batch) + 1) // 2
            rest = shard.planned[1:] if shard.planned else []
            shard.planned = [half, len(batch) - half, *rest]
            stats.bisections += 1
        return True

    def _checkpoint(self, shard: _Shard, count: int, stats: PollerStats) -> None:
        for _ in range(count):
            shard.pending.popleft()
        stats.records_checkpointed += count
        shard.failures = 0
        shard.invocations = 0

    def _invoke(self, batch: list[dict]):
        """Call the handler; None on success, the index of the lowest failed record, or WHOLE_BATCH."""
        context = LambdaContext(self.function_name, memory_size=512, max_runtime_ms=60_000)
        try:
            result = self.handler({"Records": batch}, context)
        except Exception:
            log.exception("stream handler raised; the whole batch fails")
            return WHOLE_BATCH, "Unhandled"
        if not self.mapping.report_item_failures:
            return None, None
        return first_failure(result, batch), None

    def _discard(self, shard: _Shard, records: list[dict], stats: PollerStats, function_error) -> None:
        message = on_failure_message(
            shard_id=shard.shard_id,
            records=records,
            invocations=shard.invocations,
            function_error=function_error,
            function_name=self.function_name,
            region=self.region,
            stream_arn=self.stream_arn,
        )
        if self._sqs is not None and self._queue_url:
            self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(message))
        log.error(
            "stream batch discarded after %s retries: %s",
            self.mapping.max_retries,
            json.dumps(message["DDBStreamBatchInfo"]),
        )
        stats.on_failure_messages += 1
        stats.records_discarded += len(records)
        if shard.discarded is not None:
            shard.discarded.extend(records)
        for _ in records:
            shard.pending.popleft()
        shard.planned = shard.planned[1:] if shard.planned else []
        shard.failures = 0
        shard.invocations = 0
