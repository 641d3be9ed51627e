"""Recomputing one month: queue the monthly job, and wait for it when asked to.

`POST /v1/metrics/{month}/recompute` never computes inside the API function: every request queues the
`monthly_metrics` function, which has 15 minutes and 1 GB where the API has 28 seconds, with an asynchronous
(`Event`) invocation. Lambda queues it and retries a failed run twice. The payload is shaped like the EventBridge
event the schedule sends (Chalice's scheduled handler requires those fields), with the month in `detail`:
`event_for(month)`. By default the request then waits for that run: it looks at the month's run lock with a
short backoff for at most WAIT_SECONDS and answers the document once the run has stored it, or the run (202) if
it has not by then. With `?wait=false` it answers the run at once. This module imports neither the job nor the
monthly statistics: the API function only queues and reads.

The local stack has no Lambda service; it registers a runner (`use_local_runner`) that runs the same handler at
once, as Lambda would run the queued invocation, and a `wait` that a waiting request calls between its looks at
the lock instead of sleeping (the local stack runs one invocation at a time, so it runs the queued run there).

One run per month at a time: a run first takes the month's lock (`metrics_inputs.take_run`, a conditional
write); a request while it holds it starts nothing and waits for that run, or with `?wait=false` answers it.
A queued run's lock is taken here, before invoking, under the event's id, which the job takes again as its own
(so Lambda's retries of that event go ahead) and releases when it stores the document or fails. A lock goes
stale once its run must have ended: the monthly function's 15-minute timeout.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib import config
from chalicelib.domain import clock
from chalicelib.domain.errors import Unavailable
from chalicelib.events.queued_events import scheduled_shape
from chalicelib.logs import logger

SOURCE = "nps.metrics"
DETAIL_TYPE = "Recompute requested"
QUEUED_RUN_SECONDS = 900  # the monthly function's timeout (.chalice/config.json)
# How long a request waits for its run: well inside the API's 28 s, leaving room for the rest of the request.
WAIT_SECONDS = 20.0
FIRST_LOOK_SECONDS = 0.05  # the first pause between two looks at the lock; it doubles up to LAST_LOOK_SECONDS
LAST_LOOK_SECONDS = 1.0

_local_runner: Callable[[dict], object] | None = None
_local_wait: Callable[[float], object] | None = None


def use_local_runner(runner: Callable[[dict], object] | None, wait: Callable[[float], object] | None = None) -> None:
    """Run queued jobs with `runner(event)` instead of invoking Lambda (None: invoke Lambda again). `wait(seconds)`,
    if given, is what a request waiting for a run does between two looks at the lock, instead of sleeping."""
    global _local_runner, _local_wait
    _local_runner, _local_wait = runner, (wait if runner is not None else None)


def event_for(month: str) -> dict:
    """The monthly function's input for `month`: a scheduled-event shape with {"month": month} as detail."""
    return scheduled_shape(SOURCE, DETAIL_TYPE, {"month": month})


def take(month: str, run_id: str, now: datetime | None = None):
    """Take the month's run lock for `run_id`: None when taken, else the live run (metrics_inputs.Run) holding it."""
    from chalicelib.store import metrics_inputs

    now = now or clock.utcnow()
    return metrics_inputs.take_run(month, run_id, now, stale_before=now - timedelta(seconds=QUEUED_RUN_SECONDS))


def running(month: str, run) -> dict:
    """The answer for a request that found `run` already going."""
    return {"month": month, "status": "running", "run_id": run.run_id}


@dataclass(frozen=True)
class Started:
    """A request's run: the answer for it, when it took the lock, and the month's document time before it."""

    answer: dict
    started_at: datetime
    computed_before: datetime | None


def _start(month: str) -> Started:
    from chalicelib.store import metrics_inputs

    computed_before = metrics_inputs.progress(month).computed_at
    payload = event_for(month)
    run_id = payload["id"]
    now = clock.utcnow()
    held = take(month, run_id, now)
    if held is not None:
        return Started(running(month, held), held.started_at, computed_before)
    started = Started({"month": month, "status": "started", "run_id": run_id}, now, computed_before)
    if _local_runner is not None:
        _local_runner(payload)
        return started
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    settings = config.settings()
    client = boto3.client("lambda", region_name=settings.region)
    try:
        client.invoke(
            FunctionName=settings.monthly_function, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
    except (ClientError, BotoCoreError) as error:
        metrics_inputs.release_run(month, run_id)
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        logger.warning("could not queue the monthly job", extra={"month": month, "error_code": code})
        raise Unavailable(
            "The metrics run could not be queued; try again shortly.", code="recompute_unavailable"
        ) from None
    return started


def start_month(month: str) -> dict:
    """Queue the monthly job for `month`, unless a run of it is going: {"month", "status": "started" | "running",
    "run_id"} (the run id is the event's `id`, which the job logs as `run_id`).
    Raises Unavailable when Lambda does not take the invocation (throttled, or not allowed); the lock is freed."""
    return _start(month).answer


def _pause(seconds: float) -> None:
    (_local_wait or time.sleep)(seconds)


def wait_for(month: str, started: Started, seconds: float | None = None) -> dict | None:
    """The document `started`'s run stored, once it has; None when the run has not stored one within `seconds`
    (WAIT_SECONDS), or ended without storing one (it failed; Lambda retries it)."""
    from chalicelib.store import metrics_inputs

    run_id = started.answer["run_id"]
    deadline = time.monotonic() + (WAIT_SECONDS if seconds is None else seconds)
    pause = FIRST_LOOK_SECONDS
    while True:
        now = metrics_inputs.progress(month)
        if now.run is None or now.run.run_id != run_id:
            stored = now.computed_at is not None and (
                now.computed_at != started.computed_before or now.computed_at >= started.started_at
            )
            return metrics_inputs.document(month) if stored else None
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        _pause(min(pause, left))
        pause = min(2 * pause, LAST_LOOK_SECONDS)


def recompute(month: str, *, wait: bool = True) -> tuple[dict, dict | None]:
    """Queue `month`'s run (or find the one going) and, with `wait`, wait for its document:
    (the run's answer, the document or None)."""
    started = _start(month)
    if not wait:
        return started.answer, None
    document = wait_for(month, started)
    if document is None:
        logger.info("recompute answered before its run ended", extra=started.answer)
    return started.answer, document
