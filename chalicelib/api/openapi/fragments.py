"""The pieces every part of the OpenAPI document shares: content types, the limits the code holds as literals,
schema builders, the common schemas, the builders of an operation's parts, and the collector of operations."""

from __future__ import annotations

import re
from typing import Any

from chalicelib.api.cursors import MAX_CURSOR
from chalicelib.api.http import MAX_BODY
from chalicelib.domain import answers
from chalicelib.domain import validation as v
from chalicelib.domain.months import MONTH_RE

JSON = "application/json"
HTML = "text/html"
FORM = "application/x-www-form-urlencoded"
CSV = "text/csv"
NDJSON = "application/x-ndjson"

# Limits the code holds as literals, not as constants: each is checked against the app by the tests.
SURVEY_NAME_MAX = 200
TOUCHPOINT_MAX = 100
QUESTION_MAX = 500
DRIVERS_MAX_ITEMS = 20
DRIVER_MAX = 100
ORIGINS_MAX_ITEMS = 20
ORIGIN_MAX = 255
THROTTLE_DAYS_MAX = 3650
FALLBACK_OWNER_MAX = 200
THEMES_MAX = 50
THEME_TEXT_MAX = 50
PERSON_TEXT_MAX = 200  # account name, owner, manager; contact name; task owner and root cause
SEGMENT_MAX = 100
EMAIL_MAX = 320
ATTRIBUTES_MAX = 30
IDENTITY_MAX = 128
PAGE_MAX = 2048
RESOLUTION_MAX = 2000
TOKEN_NAME_MAX = 100
IDEMPOTENCY_KEY_MAX = 200
REVENUE_MAX = 1e12
ACCOUNT_BODY = 256 * 1024
INVITATIONS_BODY = 1024 * 1024
# The largest `limit` of each list (its default in parentheses in the description).
LIST_LIMITS = {
    "/v1/surveys": (50, 500),
    "/v1/responses": (100, 1000),
    "/v1/accounts": (50, 100),
    "/v1/contacts": (100, 1000),
    "/v1/admin/tokens": (100, 500),
    "/v1/tasks": (50, 500),
    "/v1/surveys/{survey_id}/waves": (50, 500),
}


def ecma(pattern: re.Pattern) -> str:
    r"""A Python pattern as JSON Schema writes it: `\Z` (the very end) is `$` there."""
    return pattern.pattern.replace(r"\Z", "$")


def nullable(schema: dict) -> dict:
    kind = schema.get("type")
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [kind, "null"] if isinstance(kind, str) else [*kind, "null"]}


def string(max_len: int | None = None, min_len: int | None = None, **extra) -> dict:
    out: dict = {"type": "string"}
    if min_len:
        out["minLength"] = min_len
    if max_len is not None:
        out["maxLength"] = max_len
    return {**out, **extra}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def object_schema(properties: dict, required=(), *, closed: bool = True, **extra) -> dict:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = sorted(required)
    if closed:
        out["additionalProperties"] = False
    return {**out, **extra}


ID = string(pattern=ecma(v.ID_RE))
MONTH = string(pattern=ecma(MONTH_RE), examples=["2026-10"])
TIMESTAMP = string(format="date-time")
CLIENT_ID = string(pattern=ecma(answers.CLIENT_ID_RE))
DRIVERS = {
    "type": "array",
    "maxItems": DRIVERS_MAX_ITEMS,
    "items": string(DRIVER_MAX, 1),
    "description": "Each one of the survey's drivers.",
}
SCORE = {"type": "integer", "minimum": 0, "maximum": 10}


def ok_answer(schema: dict | None, description: str = "Done.", content_type: str = JSON, **extra) -> dict:
    out: dict = {"description": description}
    if schema is not None:
        out["content"] = {content_type: {"schema": schema}}
    return {**out, **extra}


def query_param(name: str, schema: dict, description: str = "") -> dict:
    out = {"name": name, "in": "query", "required": False, "schema": schema}
    return {**out, "description": description} if description else out


def header_param(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "header", "required": False, "schema": schema, "description": description}


def list_params(path: str) -> list[dict]:
    default, maximum = LIST_LIMITS[path]
    return [
        query_param("limit", {"type": "integer", "minimum": 1, "maximum": maximum, "default": default}),
        query_param("next", string(MAX_CURSOR), "The cursor the previous page answered as `next`."),
    ]


def list_page(key: str, item: str) -> dict:
    return object_schema(
        {key: {"type": "array", "items": ref(item)}, "next": nullable(string())},
        {key, "next"},
    )


def request_body(schemas: dict, limit: int = MAX_BODY, required: bool = True) -> dict:
    return {
        "required": required,
        "description": f"At most {limit // 1024} KB.",
        "content": {ctype: {"schema": schema} for ctype, schema in schemas.items()},
    }


# The error statuses every route of a kind can answer, besides its own.
EVERY = (404, 429)  # no such route (a path the gateway cannot match), API Gateway throttling
GATEWAY_ERRORS = EVERY
ADMIN = (401, 403)
BODY = (400, 413, 415, 422)
LIST = (400, 422)  # a cursor not given out; an unknown query parameter or a bad value

SURVEY_ID = {"name": "survey_id", "description": "A survey's id."}


class Operations:
    """The document's operations, in the order they are added (each path module adds its own)."""

    def __init__(self) -> None:
        self.entries: list[dict] = []

    def __call__(self, method, path, summary, *, scope=None, ok=None, errors=(), params=(), body=None, tag, **extra):
        self.entries.append(
            {
                "method": method,
                "path": path,
                "summary": summary,
                "scope": scope,
                "ok": ok or {200: ok_answer(None)},
                "errors": {*EVERY, *(ADMIN if scope else ()), *errors},
                "params": list(params),
                "body": body,
                "tag": tag,
                **extra,
            }
        )


def import_operation(op: Operations, path: str, summary: str, tag: str) -> None:
    """An import route: CSV or NDJSON in, the import report out."""
    op(
        "POST",
        path,
        summary,
        scope="write",
        ok={200: ok_answer(ref("ImportReport"))},
        errors=BODY,
        body={
            "required": True,
            "description": "At most 5 MB; larger files go through the CLI, which sends pages.",
            "content": {CSV: {"schema": string()}, NDJSON: {"schema": string()}},
        },
        tag=tag,
    )
