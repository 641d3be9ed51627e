"""Request logging with a correlation id, and never a person's data in the log."""

from __future__ import annotations

import logging
import time
import uuid

import chalicelib.logs  # noqa: F401  the service's JSON logger, which nps.api propagates to

log = logging.getLogger("nps.api")


def correlate_requests(event, get_response):
    ctx = event.context or {}
    correlation_id = (
        (event.headers or {}).get("x-correlation-id")
        or ctx.get("requestId")
        or uuid.uuid4().hex
    )[:64]
    started = time.perf_counter()
    response = get_response(event)
    response.headers["X-Correlation-Id"] = correlation_id
    # Paths carry signed tokens; log the route template, never the concrete path.
    log.info(
        "request",
        extra={
            "correlation_id": correlation_id,
            "route": ctx.get("resourcePath"),
            "method": event.method,
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response
