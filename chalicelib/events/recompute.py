"""Starting the monthly job for one month without waiting for it.

`POST /v1/metrics/{month}/recompute?wait=false` answers at once and leaves the work to the `monthly_metrics`
function, which has 15 minutes and 1 GB where the API has 28 seconds: an asynchronous (`Event`) invocation.
Lambda queues it and retries a failed run twice. The payload is shaped like the EventBridge event the schedule
sends (Chalice's scheduled handler requires those fields), with the month in `detail`: `event_for(month)`.

The local stack has no Lambda service; it registers a runner (`use_local_runner`) that runs the same handler
on a background thread, as Lambda would run the queued invocation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from chalicelib import config
from chalicelib.domain import tokens
from chalicelib.errors import Unavailable
from chalicelib.logs import logger

SOURCE = "nps.metrics"
DETAIL_TYPE = "Recompute requested"

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


def start_month(month: str) -> str:
    """Queue the monthly job for `month`; the run's id (the event's `id`, which the job logs as `run_id`).
    Raises Unavailable when Lambda does not take the invocation (throttled, or not allowed)."""
    payload = event_for(month)
    if _local_runner is not None:
        _local_runner(payload)
        return payload["id"]
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    settings = config.settings()
    client = boto3.client("lambda", region_name=settings.region)
    try:
        client.invoke(FunctionName=settings.monthly_function, InvocationType="Event",
                      Payload=json.dumps(payload).encode())
    except (ClientError, BotoCoreError) as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        logger.warning("could not queue the monthly job", extra={"month": month, "error_code": code})
        raise Unavailable("The metrics run could not be queued; try again shortly.",
                          code="recompute_unavailable") from None
    return payload["id"]
