"""CORS for the widget's routes: an origin is allowed when it is one of its survey's `allowed_origins`."""

from __future__ import annotations

from chalicelib import config
from chalicelib.domain import validation


def headers_for(survey, origin: str | None, methods: str, allow_headers: str | None = None) -> dict[str, str]:
    """The CORS headers for a request from `origin`; none without an Origin or for one the survey does not
    allow (the caller decides whether that is a 403)."""
    if not origin:
        return {}
    canonical = validation.origin(origin)
    if canonical is None or canonical not in (survey.allowed_origins or []):
        return {}
    out = {
        "Access-Control-Allow-Origin": canonical,
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Max-Age": str(config.settings().cors_max_age),
        "Vary": "Origin",
    }
    if allow_headers:
        out["Access-Control-Allow-Headers"] = allow_headers
    return out
