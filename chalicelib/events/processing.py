"""Stream processing with Powertools' BatchProcessor (placeholder)."""

from __future__ import annotations

import logging

log = logging.getLogger("nps.stream")


def handle_stream_event(event, context):
    records = event.get("Records", [])
    log.info("stream batch", extra={"records": len(records)})
    return {"batchItemFailures": []}
