"""Settle pending one-click answers, once a minute: each answer recorded without a gesture and quiet for
PENDING_QUIET_SECONDS is counted when all its page views chose one score, and excluded as a suspected scanner
otherwise (domain/presence.py).

The clock is the scheduled event's `time`, not the machine's, so a run can be fired "later" (the local
scheduler's `at`, tests). Every write is conditional on the version read and on the answer still being
pending, so a gesture that lands meanwhile wins and a second run over the same answers changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import config
from chalicelib.domain import clock, presence
from chalicelib.logs import logger
from chalicelib.store import responses as response_store

BATCH = 100  # BatchGetItem's limit


def run_for_event(event: dict) -> dict:
    """The scheduled handler's work; the event's `time` is "now" (the machine's clock when it has none)."""
    now = clock.parse_timestamp((event or {}).get("time")) or clock.utcnow()
    return run_settle(now)


def run_settle(now: datetime) -> dict:
    quiet_since = now - timedelta(seconds=config.settings().pending_quiet_seconds)
    counts = {"examined": 0, "counted": 0, "excluded": 0, "skipped": 0}
    for shard in response_store.pending_shards():
        ids = list(response_store.pending_keys(shard, quiet_since))
        for start in range(0, len(ids), BATCH):
            for item in response_store.read_consistent(ids[start : start + BATCH]):
                counts["examined"] += 1
                # The index lags the table: skip what a gesture settled or a newer page view made recent.
                if item.status != presence.PENDING or item.pending_at is None or item.pending_at > quiet_since:
                    counts["skipped"] += 1
                    continue
                settlement = presence.settle(response_store.views_of(item))
                if response_store.settle(item, settlement):
                    counts[settlement.status] += 1
                else:
                    counts["skipped"] += 1
    logger.info("pending answers settled", extra={"settle_" + k: v for k, v in counts.items()})
    return counts
