"""Starting the monthly job for one month without waiting for it.

`POST /v1/metrics/{month}/recompute?wait=false` answers at once and leaves the work to the `monthly_metrics`
function, which has 15 minutes and 1 GB where the API has 28 seconds: an asynchronous (`Event`) invocation.
Lambda queues it and retries a failed run twice. The payload is shaped like the EventBridge event the schedule
sends (Chalice's scheduled handler requires those fields), with the month in `detail`: `event_for(month)`.

The local stack has no Lambda service; it registers a runner (`use_local_runner`) that runs the same handler
on a background thread, as Lambda would run the queued invocation.

One run per month at a time: a run first takes the month's lock (`metrics_inputs.take_run`, a conditional
write); a second request while it holds it answers with that run and starts nothing. A queued run's lock is
taken here, before invoking, under the event's id, which the job takes again as its own (so Lambda's retries of
that event go ahead) and releases when it stores the document or fails. A lock goes stale once its run must have
ended: the monthly function's 15-minute timeout, or a minute for a run inside the API (which has 28 seconds).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib import config
from chalicelib.domain import tokens
from chalicelib.errors import Unavailable
from chalicelib.logs import logger

SOURCE = "nps.metrics"
DETAIL_TYPE = "Recompute requested"
QUEUED_RUN_SECONDS = 900  # the monthly function's timeout (.chalice/config.json)
API_RUN_SECONDS = 60  # the API's 28 s timeout, with room to spare
API_RUN_PREFIX = "api-"

_local_runner: Callable[[dict], object] | None = None


def use_local_runner(runner: Callable[[dict], object] | None) -> None:
    """Run started jobs with `runner(event)` instead of invoking Lambda (None: invoke Lambda again)."""
    global _local_runner
    _local_runner = runner


def event_for(month: str) -> dict:
    """The monthly function's input for `month`: a scheduled-event shape with {"month": month} as detail."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": "",
        "time": tokens.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": config.settings().region,
        "resources": [],
        "detail": {"month": month},
    }


def take(month: str, run_id: str, now: datetime | None = None):
    """Take the month's run lock for `run_id`: None when taken, else the live run (metrics_inputs.Run) holding it."""
    from chalicelib.store import metrics_inputs

    now = now or tokens.utcnow()
    return metrics_inputs.take_run(
        month,
        run_id,
        now,
        stale_before=now - timedelta(seconds=QUEUED_RUN_SECONDS),
        short_prefix=API_RUN_PREFIX,
        short_stale_before=now - timedelta(seconds=API_RUN_SECONDS),
    )


def running(month: str, run) -> dict:
    """The answer for a request that found `run` already going."""
    return {"month": month, "status": "running", "run_id": run.run_id}


def start_month(month: str) -> dict:
    """Queue the monthly job for `month`, unless a run of it is going: {"month", "status": "started" | "running",
    "run_id"} (the run id is the event's `id`, which the job logs as `run_id`).
    Raises Unavailable when Lambda does not take the invocation (throttled, or not allowed); the lock is freed."""
    from chalicelib.store import metrics_inputs

    payload = event_for(month)
    run_id = payload["id"]
    held = take(month, run_id)
    if held is not None:
        return running(month, held)
    started = {"month": month, "status": "started", "run_id": run_id}
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


def run_now(month: str) -> tuple[dict, bool]:
    """Compute `month` inside this call unless a run of it is going: (its document, True), or
    (the running answer, False)."""
    from chalicelib.events.monthly_job import run_month
    from chalicelib.store import metrics_inputs

    run_id = f"{API_RUN_PREFIX}{uuid.uuid4()}"
    held = take(month, run_id)
    if held is not None:
        return running(month, held), False
    try:
        return run_month(month, run_id=run_id), True
    except BaseException:
        metrics_inputs.release_run(month, run_id)
        raise
