"""The stage's EventBridge bus (EVENT_BUS_NAME): PutEvents, ten entries a request.

PutEvents answers 200 even when some entries were refused (`FailedEntryCount`, an `ErrorCode` per entry, such
as ThrottlingException or InternalFailure): those entries are sent again, up to ATTEMPTS in all, and whatever
still fails is handed back by event id, so the caller fails what it was doing (a stream record, an invocation,
a request) and its retry publishes the same events with the same ids. Nothing is dropped without saying so.

The client is made on the first publish, not at import: a function that publishes nothing never pays for it.
It is made from the botocore session the PynamoDB models already hold (endpoints and credentials loaded), which
costs a tenth of a new session's first client. Without EVENT_BUS_NAME (tests, tools) nothing is published.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from chalicelib import config
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.events import Event, source
from chalicelib.logs import logger

MAX_ENTRIES = 10  # PutEvents takes at most 10 entries
MAX_REQUEST_BYTES = 256 * 1024  # and at most 256 KB of them
ATTEMPTS = 3
RETRY_DELAYS = (0.05, 0.2)  # before the second and third attempt (only for the entries that failed)

_clients: dict[tuple, Any] = {}
_lock = threading.Lock()


def _session():
    """The botocore session of this thread's PynamoDB connection (one exists once a model made a request)."""
    try:
        from chalicelib.store.models import Response

        return Response._get_connection().connection.session
    except Exception:  # no model bound yet: a session of its own
        import botocore.session

        return botocore.session.get_session()


def client_for(region: str):
    """The events client for `region`, made once per container (and per AWS_ENDPOINT_URL, which tests and the
    local stack change)."""
    import os

    key = (region, os.environ.get("AWS_ENDPOINT_URL"))
    with _lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = _session().create_client("events", region_name=region)
        return found


def forget_client() -> None:
    with _lock:
        _clients.clear()


def _entry(event: Event, bus: str, stage: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Source": source(stage),
        "DetailType": event.detail_type,
        "Detail": json.dumps(event.detail, separators=(",", ":"), sort_keys=True),
        "EventBusName": bus,
    }
    if event.time is not None:
        entry["Time"] = event.time
    return entry


def _size(entry: dict[str, Any]) -> int:
    # As EventBridge counts it: the UTF-8 bytes of Source, DetailType and Detail, and 14 for a Time.
    size = sum(len(entry[k].encode()) for k in ("Source", "DetailType", "Detail"))
    return size + (14 if "Time" in entry else 0)


def _chunks(entries: list[tuple[str, dict[str, Any]]]) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    chunk: list[tuple[str, dict[str, Any]]] = []
    size = 0
    for item in entries:
        item_size = _size(item[1])
        if chunk and (len(chunk) == MAX_ENTRIES or size + item_size > MAX_REQUEST_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk


def _put(client, chunk: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """One PutEvents request; the entries it did not take (all of them when the request itself failed)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = client.put_events(Entries=[entry for _, entry in chunk])
    except (BotoCoreError, ClientError) as error:  # botocore retried the request itself already
        logger.warning("PutEvents failed", extra={"error": type(error).__name__, "entries": len(chunk)})
        return chunk
    if not answer.get("FailedEntryCount"):
        return []
    results = answer.get("Entries") or []
    failed = [item for item, result in zip(chunk, results, strict=False) if result.get("ErrorCode")]
    failed += chunk[len(results) :]  # an answer with fewer results than entries: the rest is not known to be in
    codes = sorted({str(r.get("ErrorCode")) for r in results if r.get("ErrorCode")})
    logger.warning("PutEvents refused entries", extra={"failed": len(failed), "codes": codes})
    return failed


def publish(events: Sequence[Event], *, client=None, delays: Sequence[float] = RETRY_DELAYS) -> set[str]:
    """Publish `events` (in order, ten a request); the ids of those still not published after ATTEMPTS (an
    empty set when all were). Without a bus configured, nothing is sent and nothing fails."""
    settings = config.settings()
    bus = settings.event_bus_name
    if not events or not bus:
        return set()
    client = client or client_for(settings.region)
    pending = [(event.event_id, _entry(event, bus, settings.stage)) for event in events]
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(delays[min(attempt, len(delays)) - 1] if delays else 0)
        failed: list[tuple[str, dict[str, Any]]] = []
        for chunk in _chunks(pending):
            failed += _put(client, chunk)
        if not failed:
            return set()
        pending = failed
    logger.warning("events not published", extra={"events": len(pending), "attempts": ATTEMPTS})
    return {event_id for event_id, _ in pending}


def publish_all(events: Sequence[Event], **kwargs) -> None:
    """Publish every event or raise Unavailable (the caller's retry publishes them again, with the same ids)."""
    failed = publish(events, **kwargs)
    if failed:
        raise Unavailable(
            f"{len(failed)} of {len(events)} events could not be published to the event bus; try again.",
            code="events_not_published",
        )
