"""The input of a function the API queues (an asynchronous Lambda invocation): shaped like the EventBridge
event its schedule sends, which Chalice's scheduled handlers require, with what to do in `detail`."""

from __future__ import annotations

import uuid

from chalicelib import config
from chalicelib.domain import clock


def scheduled_shape(source: str, detail_type: str, detail: dict) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "",
        "time": clock.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": config.settings().region,
        "resources": [],
        "detail": detail,
    }
