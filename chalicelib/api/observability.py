"""Request logging with a correlation id, and never a person's data in the log; the headers every answer
carries (set here once, so no route can forget them, errors included)."""

from __future__ import annotations

import logging
import time
import uuid

from chalicelib.logs import function_keys, log_keys  # the service's JSON logger, which nps.api propagates to

log = logging.getLogger("nps.api")

# Browsers must not guess a type other than the one we send (a JSON error sniffed as HTML, say).
EVERY_ANSWER = {"X-Content-Type-Options": "nosniff"}
# A URL that carries a token (a survey or unsubscribe link, a signed report link) is a credential: it must not
# leak to other sites through Referer, nor stay in a shared or browser cache.
TOKEN_IN_URL = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def carries_token(resource_path: str | None, query: dict | None) -> bool:
    """Whether the request's URL holds a token: a `{token}` in the route template, or a `token` parameter."""
    return "{token}" in (resource_path or "") or "token" in (query or {})


def correlate_requests(event, get_response):
    """Every line logged while the request is served carries its correlation id (the caller's X-Correlation-Id,
    else API Gateway's request id) and the function's keys; the last one is the request line."""
    ctx = event.context or {}
    correlation_id = ((event.headers or {}).get("x-correlation-id") or ctx.get("requestId") or uuid.uuid4().hex)[:64]
    with log_keys(correlation_id=correlation_id, **function_keys(getattr(event, "lambda_context", None))):
        started = time.perf_counter()
        response = get_response(event)
        response.headers["X-Correlation-Id"] = correlation_id
        _set_headers(response.headers, EVERY_ANSWER)
        if carries_token(ctx.get("resourcePath"), event.query_params):
            _set_headers(response.headers, TOKEN_IN_URL)
        # Paths carry signed tokens; log the route template, never the concrete path.
        log.info(
            "request",
            extra={
                "route": ctx.get("resourcePath"),
                "method": event.method,
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
    return response


def _set_headers(headers: dict, values: dict) -> None:
    """Set `values`, replacing any spelling of the same names (headers are case-insensitive)."""
    lowered = {name.lower() for name in values}
    for name in [k for k in headers if k.lower() in lowered]:
        del headers[name]
    headers.update(values)
