"""Queueing a started wave's first run: an asynchronous (`Event`) invocation of the `survey_waves` function,
shaped like its schedule's event with the wave in `detail`, so `POST /v1/surveys/{id}/waves` answers at once
and the run has the function's 15 minutes. Should Lambda refuse the invocation, nothing is lost: the wave is
stored as running and due, and the function's schedule runs it within five minutes.

The local stack has no Lambda service: it registers a runner (`use_local_runner`) that runs the handler with
the same event, as Lambda would."""

from __future__ import annotations

import json
from collections.abc import Callable

from chalicelib import config
from chalicelib.events.queued_events import scheduled_shape
from chalicelib.logs import logger

SOURCE = "nps.waves"
DETAIL_TYPE = "Wave started"

_local_runner: Callable[[dict], object] | None = None


def use_local_runner(runner: Callable[[dict], object] | None) -> None:
    global _local_runner
    _local_runner = runner


def event_for(survey_id: str, wave_id: str) -> dict:
    return scheduled_shape(SOURCE, DETAIL_TYPE, {"survey_id": survey_id, "wave_id": wave_id})


def queue(survey_id: str, wave_id: str) -> bool:
    """Queue the wave's run; False when Lambda did not take it (the schedule runs the wave instead)."""
    payload = event_for(survey_id, wave_id)
    if _local_runner is not None:
        _local_runner(payload)
        return True
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    settings = config.settings()
    try:
        boto3.client("lambda", region_name=settings.region).invoke(
            FunctionName=settings.waves_function, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
    except (ClientError, BotoCoreError) as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        logger.warning("could not queue the wave's run; its schedule runs it", extra={"error_code": code})
        return False
    return True
