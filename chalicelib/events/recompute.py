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

SOURCE = "nps.metrics"
DETAIL_TYPE = "Recompute requested"

_local_runner: Callable[[dict], str] | None = None


def use_local_runner(runner: Callable[[dict], str] | None) -> None:
    """Run started jobs with `runner(payload) -> run id` instead of invoking Lambda (None: invoke Lambda)."""
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
    """Queue the monthly job for `month`; the id of the queued run."""
    payload = event_for(month)
    if _local_runner is not None:
        return _local_runner(payload)
    import boto3

    settings = config.settings()
    client = boto3.client("lambda", region_name=settings.region, endpoint_url=settings.lambda_endpoint)
    answer = client.invoke(
        FunctionName=settings.monthly_function,
        InvocationType="Event",
        Payload=json.dumps(payload).encode(),
    )
    return answer["ResponseMetadata"]["RequestId"]
