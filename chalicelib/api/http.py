"""Request parsing and response building shared by the route blueprints."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from chalice import Response

from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    Malformed,
    NotFound,
    Throttled,
    TooLarge,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
)

MAX_BODY = 16 * 1024
JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded",)
# Every route accepts any content type and `parse_body` refuses the wrong ones with the contract's 415: a list
# of types here would let Chalice answer an unlisted type with its own body (and mixing binary and text types
# in one list is refused by `chalice deploy`).
ANY_TYPES = ["*/*"]

log = logging.getLogger("nps.api")

# Each kind of domain error and its HTTP status: the only place that knows (a subclass takes its base's).
HTTP_STATUS: dict[type[DomainError], int] = {
    DomainError: 400,
    Malformed: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    UnsupportedMediaType: 415,
    Invalid: 422,
    Throttled: 429,
    Unavailable: 503,
}


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    h: dict[str, str | list[str]] = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    h.update(headers or {})
    return Response(body=json.dumps(body, separators=(",", ":")), status_code=status, headers=h)


def html_response(html: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    h: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
    }
    h.update(headers or {})
    return Response(body=html, status_code=status, headers=h)


def status_of(error: DomainError) -> int:
    return next(HTTP_STATUS[kind] for kind in type(error).__mro__ if kind in HTTP_STATUS)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    """The contract's error envelope, the one shape of every refusal."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(error: DomainError, headers: dict | None = None) -> Response:
    body = error_body(error.code, error.message, error.fields)
    return json_response(body, status_of(error), {**getattr(error, "headers", {}), **(headers or {})})


def header(request, name: str) -> str | None:
    lname = name.lower()
    for key, value in (request.headers or {}).items():
        if key.lower() == lname:
            return value
    return None


def content_type(request) -> str:
    return (header(request, "content-type") or "").split(";")[0].strip().lower()


def raw_body(request, limit: int = MAX_BODY) -> bytes:
    body = request.raw_body or b""
    if isinstance(body, str):
        body = body.encode()
    if len(body) > limit:
        raise TooLarge(f"The body is larger than {limit // 1024} KB.")
    return body


def parse_body(request, *, allow_form: bool = False, limit: int = MAX_BODY) -> dict:
    """The body as a dict, from JSON (or a urlencoded form where allowed); every failure is a clean 4xx."""
    body = raw_body(request, limit)
    ctype = content_type(request)
    if ctype in JSON_TYPES:
        if not body.strip():
            raise Malformed("The body is empty; send a JSON object.")
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Malformed("The body is not valid JSON.") from None
        return value
    if allow_form and ctype in FORM_TYPES:
        try:
            pairs = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=False, max_num_fields=50)
        except (ValueError, UnicodeDecodeError):
            raise Malformed("The form could not be read.") from None
        form: dict = {}
        for key, values in pairs.items():
            if key == "drivers":
                form[key] = values
            elif key == "score" and values and values[-1] == "":
                form[key] = None
            else:
                form[key] = values[-1]
        return form
    accepted = "application/json" + (" or application/x-www-form-urlencoded" if allow_form else "")
    raise UnsupportedMediaType(f"Send the body as {accepted}.")


def query(request, allowed: set[str] | frozenset[str] | None = None) -> dict:
    """The query parameters; with `allowed`, any other one is refused (422), as unknown body fields are."""
    params = dict(request.query_params or {})
    unknown = set(params) - allowed if allowed is not None else ()
    if unknown:
        raise Invalid("Unknown query parameters.", fields=dict.fromkeys(sorted(unknown), "unknown parameter"))
    return params


def flag_param(params: dict, name: str, default: bool) -> bool:
    """A true/false query parameter (422 for anything else)."""
    raw = params.get(name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise Invalid(f"{name} must be true or false.", fields={name: "must be true or false"})
    return raw == "true"


def limit_param(params: dict, default: int = 50, maximum: int = 500) -> int:
    raw = params.get("limit")
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= maximum:
        raise Invalid(f"limit must be an integer from 1 to {maximum}.", fields={"limit": "invalid"})
    return int(raw)
