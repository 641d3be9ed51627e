"""The OpenAPI 3.1 document of every route the app serves, built from the validation rules themselves.

The patterns, enums and limits come from `chalicelib.domain.validation` (and the few route modules that own a
limit), never restated, so a rule that changes changes the document with it. What the code does not hold as a
constant (the length of a survey's name, a list's largest `limit`) is written once here and checked against the
real app by tests/functional/test_openapi.py, which also requires the document's (path, method) pairs to equal
the Chalice app's route table: a route added without its entry here fails the tests. tests/e2e/test_schemathesis.py
then sends a bounded, seeded run of generated requests to the local stack and checks every answer against this
document.

Only `GET /openapi.json` (chalicelib/api/docs.py) imports this module, lazily, so no other request pays for it.
The local stack's own `/local/...` routes are tooling, never deployed, and not described here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from chalicelib.api.cursors import MAX_CURSOR
from chalicelib.api.http import MAX_BODY
from chalicelib.domain import loop, page_text
from chalicelib.domain import validation as v
from chalicelib.domain.months import MONTH_RE
from chalicelib.domain.nps import CATEGORIES

OPENAPI_VERSION = "3.1.0"
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
    "/v1/admin/tokens": (100, 500),
    "/v1/tasks": (50, 500),
}

ERROR_MEANING = {
    400: "The input cannot be read: not JSON, a form or CSV header that cannot be read, a cursor or token this "
    "API never gave out (`malformed`).",
    401: "No admin token, or an unknown or revoked one (`unauthorized`).",
    403: "Refused: the token lacks the scope (`insufficient_scope`), a tampered or foreign link (`invalid_link`), "
    "an origin not allowed (`origin_not_allowed`), an identity refused or required.",
    404: "No such route or item (`not_found` and the item's own code, such as `survey_not_found`).",
    409: "A conflict: `invalid_transition`, `concurrent_change`, `too_many_changes`.",
    410: "It existed but is over: `link_expired`, `survey_closed`, `response_closed`, `contact_erased`.",
    413: "The body is larger than the route takes (`too_large`).",
    415: "The body's Content-Type is not one the route takes (`unsupported_content_type`).",
    422: "Readable but refused by a rule (`invalid`, `future_month`); `fields` names each problem.",
    429: "API Gateway throttling (`throttled`, deployed API only).",
    503: "A dependency did not answer; trying again later may work.",
}


def _ecma(pattern: re.Pattern) -> str:
    r"""A Python pattern as JSON Schema writes it: `\Z` (the very end) is `$` there."""
    return pattern.pattern.replace(r"\Z", "$")


def _nullable(schema: dict) -> dict:
    kind = schema.get("type")
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [kind, "null"] if isinstance(kind, str) else [*kind, "null"]}


def _string(max_len: int | None = None, min_len: int | None = None, **extra) -> dict:
    out: dict = {"type": "string"}
    if min_len:
        out["minLength"] = min_len
    if max_len is not None:
        out["maxLength"] = max_len
    return {**out, **extra}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, required=(), *, closed: bool = True, **extra) -> dict:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = sorted(required)
    if closed:
        out["additionalProperties"] = False
    return {**out, **extra}


ID = _string(pattern=_ecma(v.ID_RE))
MONTH = _string(pattern=_ecma(MONTH_RE), examples=["2026-10"])
TIMESTAMP = _string(format="date-time")
CLIENT_ID = _string(pattern=_ecma(v.CLIENT_ID_RE))
DRIVERS = {
    "type": "array",
    "maxItems": DRIVERS_MAX_ITEMS,
    "items": _string(DRIVER_MAX, 1),
    "description": "Each one of the survey's drivers.",
}
SCORE = {"type": "integer", "minimum": 0, "maximum": 10}


def _schemas() -> dict:
    loop_rules = _object(
        {
            "categories": {"type": "array", "maxItems": len(CATEGORIES), "items": {"enum": list(CATEGORIES)}},
            "sla_hours": {"type": "integer", "minimum": 1, "maximum": v.MAX_SLA_HOURS},
            "fallback_owner": _nullable(_string(FALLBACK_OWNER_MAX)),
        }
    )
    themes = {
        "type": "object",
        "maxProperties": THEMES_MAX,
        "propertyNames": {"minLength": 1, "maxLength": THEME_TEXT_MAX},
        "additionalProperties": {"type": "array", "minItems": 1, "items": _string(THEME_TEXT_MAX, 1)},
        "description": "Theme name to its keywords.",
    }
    strings = _object(
        {key: _string(page_text.MAX_LENGTH, 1) for key in sorted(page_text.DEFAULTS)},
        description="The survey page's own texts; `{score}` is the only placeholder, in "
        + ", ".join(sorted(page_text.WITH_SCORE))
        + ".",
    )
    survey_fields = {
        "name": _string(SURVEY_NAME_MAX, 1),
        "kind": {"enum": list(v.SURVEY_KINDS), "default": v.SURVEY_KINDS[0]},
        "touchpoint": _nullable(_string(TOUCHPOINT_MAX)),
        "question": _string(QUESTION_MAX, 1, default=v.DEFAULT_QUESTION),
        "drivers": DRIVERS,
        "allowed_origins": {
            "type": "array",
            "maxItems": ORIGINS_MAX_ITEMS,
            "items": _string(ORIGIN_MAX, 1, description="A web origin such as https://example.com."),
        },
        "throttle_days": {"type": "integer", "minimum": 0, "maximum": THROTTLE_DAYS_MAX, "default": 90},
        "loop_rules": _nullable(loop_rules),
        "themes": _nullable(themes),
        "status": {"enum": ["active", "closed"], "default": "active"},
        "language": _nullable(_string(pattern=_ecma(v.LANGUAGE_RE))),
        "strings": _nullable(strings),
        "anonymous_answers": _nullable({"enum": list(v.ANONYMOUS_ANSWERS)}),
    }
    assert set(survey_fields) == v.SURVEY_FIELDS, "the document's survey fields are the validation's"
    survey = _object(
        {
            "survey_id": _string(),
            **{k: s for k, s in survey_fields.items() if k not in ("loop_rules", "anonymous_answers")},
            "touchpoint": _nullable(_string()),
            "loop_rules": _object(
                {
                    "categories": {"type": "array", "items": {"enum": list(CATEGORIES)}},
                    "sla_hours": {"type": "integer"},
                    "fallback_owner": _nullable(_string()),
                },
                {"categories", "sla_hours", "fallback_owner"},
            ),
            "themes": _nullable({"type": "object", "additionalProperties": {"type": "array", "items": _string()}}),
            "strings": _nullable({"type": "object", "additionalProperties": _string()}),
            "anonymous_answers": {"enum": list(v.ANONYMOUS_ANSWERS)},
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
        {"survey_id", *v.SURVEY_FIELDS, "created_at", "updated_at"},
    )
    survey_created = {
        **survey,
        "properties": {**survey["properties"], "identity_secret": _string(description="Shown only here.")},
        "required": sorted({*survey["required"], "identity_secret"}),
    }
    contact = _object(
        {
            "contact_id": ID,
            "account_id": ID,
            "email": _nullable(_string(EMAIL_MAX, pattern=_ecma(v.EMAIL_RE))),
            "name": _nullable(_string(PERSON_TEXT_MAX)),
            "attributes": _nullable(
                {
                    "type": "object",
                    "maxProperties": ATTRIBUTES_MAX,
                    "additionalProperties": {"type": ["string", "number", "integer", "boolean"]},
                }
            ),
        },
        {"contact_id", "account_id"},
    )
    assert set(contact["properties"]) == v.CONTACT_FIELDS
    account_fields = {
        "name": _nullable(_string(PERSON_TEXT_MAX)),
        "segment": _nullable(_string(SEGMENT_MAX)),
        "owner": _nullable(_string(PERSON_TEXT_MAX)),
        "manager": _nullable(_string(PERSON_TEXT_MAX)),
        "revenue": _nullable(
            {
                "type": "object",
                "propertyNames": {"pattern": _ecma(MONTH_RE)},
                "additionalProperties": {"type": "number", "minimum": 0, "maximum": REVENUE_MAX},
                "description": 'Revenue by month, like {"2026-01": 1200.0}.',
            }
        ),
        "status": {"enum": list(v.ACCOUNT_STATUSES), "default": "active"},
    }
    assert set(account_fields) == v.ACCOUNT_FIELDS
    answer_fields = {
        "score": SCORE,
        "comment": _nullable(_string(v.MAX_COMMENT)),
        "drivers": _nullable(DRIVERS),
    }
    link_answer = _object(
        {
            **answer_fields,
            "signal": {"enum": list(v.SIGNALS), "default": v.SIGNALS[0]},
            "view": _nullable(CLIENT_ID),
            "submission": _nullable(CLIENT_ID),
        },
        {"score"},
        description="`signal` dwell (the page stayed open) needs `view` and carries the score only.",
    )
    assert set(link_answer["properties"]) == {"score", "comment", "drivers"} | v.LINK_FIELDS
    link_form = _object(
        {
            "score": {"type": ["integer", "string"], "description": "0 to 10, as the form's text."},
            "comment": _string(v.MAX_COMMENT),
            "drivers": {"type": "array", "items": _string(DRIVER_MAX)},
            "submission": CLIENT_ID,
        },
        {"score"},
    )
    widget_answer = _object(
        {
            **answer_fields,
            "contact_id": _nullable(ID),
            "account_id": _nullable(ID),
            "identity": _nullable(
                _string(IDENTITY_MAX, description="The signature of contact_id and account_id (needs contact_id).")
            ),
            "page": _nullable(_string(PAGE_MAX)),
        },
        {"score"},
    )
    assert set(widget_answer["properties"]) == {"score", "comment", "drivers"} | v.WIDGET_FIELDS
    response = _object(
        {
            "response_id": _string(),
            "survey_id": _string(),
            "score": SCORE,
            "comment": _nullable(_string()),
            "drivers": {"type": "array", "items": _string()},
            "channel": _nullable(_string()),
            "submitted_at": _nullable(TIMESTAMP),
            "updated_at": _nullable(TIMESTAMP),
            "contact_id": _nullable(_string()),
            "account_id": _nullable(_string()),
            "invitation_id": _nullable(_string()),
            "external_id": _nullable(_string()),
            "touchpoint": _nullable(_string()),
            "status": _string(),
            "excluded_reason": _nullable(_string()),
            "erased": {"type": "boolean"},
        },
        {"response_id", "survey_id", "score", "status", "erased"},
    )
    account = _object(
        {
            "account_id": _string(),
            **{k: _nullable(_string()) for k in ("name", "segment", "owner", "manager")},
            "revenue": {"type": "object", "additionalProperties": {"type": "number"}},
            "status": {"enum": list(v.ACCOUNT_STATUSES)},
            "updated_at": _nullable(TIMESTAMP),
        },
        {"account_id", "revenue", "status"},
        closed=False,
    )
    standing = {
        "latest_score": _nullable(SCORE),
        "latest_category": _nullable({"enum": list(CATEGORIES)}),
        "latest_response_id": _nullable(_string()),
        "latest_submitted_at": _nullable(TIMESTAMP),
        "category": _string(),
        "nps": _nullable({"type": "number"}),
        "rated_contacts": {"type": "integer", "minimum": 0},
        "health": _nullable(_string()),
        "since": MONTH,
    }
    account_with_standing = {
        **account,
        "properties": {**account["properties"], **standing},
        "required": sorted({*account["required"], "category", "rated_contacts"}),
    }
    task = _object(
        {
            "task_id": _string(),
            "response_id": _string(),
            "survey_id": _string(),
            "account_id": _nullable(_string()),
            "contact_id": _nullable(_string()),
            "kind": {"enum": list(loop.TASK_KIND.values())},
            "category": {"enum": list(CATEGORIES)},
            "score": SCORE,
            "comment": _nullable(_string()),
            "drivers": {"type": "array", "items": _string()},
            "status": {"enum": list(loop.STATUSES)},
            "owner": _nullable(_string()),
            "manager": _nullable(_string()),
            "created_at": _nullable(TIMESTAMP),
            "due_at": _nullable(TIMESTAMP),
            "sla_hours": {"type": "integer"},
            "overdue": {"type": "boolean"},
            "closed_at": _nullable(TIMESTAMP),
            "escalated_at": _nullable(TIMESTAMP),
            "root_cause": _nullable(_string()),
            "resolution": _nullable(_string()),
            "notes": {"type": "array", "items": {"type": "object"}},
            "history": {"type": "array", "items": {"type": "object"}},
            "revision": {"type": "integer"},
        },
        {"task_id", "response_id", "survey_id", "kind", "status", "score", "revision"},
    )
    task_patch = _object(
        {
            "status": {"enum": list(loop.STATUSES)},
            "owner": _string(PERSON_TEXT_MAX, 1),
            "note": _string(loop.MAX_NOTE_CHARS, 1),
            "root_cause": _string(PERSON_TEXT_MAX, 1, description="Required with status resolved, only then."),
            "resolution": _string(RESOLUTION_MAX, 1, description="Only with status resolved."),
        },
        minProperties=1,
    )
    assert set(task_patch["properties"]) == loop.PATCH_FIELDS
    from chalicelib.store.admin_tokens import SCOPES

    token = _object(
        {
            "token_id": _string(),
            "name": _string(),
            "scopes": {"type": "array", "items": {"enum": list(SCOPES)}},
            "created_at": TIMESTAMP,
            "revoked_at": _nullable(TIMESTAMP),
        },
        {"token_id", "name", "scopes", "created_at", "revoked_at"},
    )
    import_report = _object(
        {
            "accepted": {"type": "integer", "minimum": 0},
            "rejected": {
                "type": "array",
                "items": _object({"line": {"type": "integer"}, "error": _string()}, {"line", "error"}),
                "description": "The first 1000 rejected rows.",
            },
            "rejected_count": {"type": "integer", "minimum": 0},
            "written": {"type": "integer", "minimum": 0},
            "unchanged": {"type": "integer", "minimum": 0},
        },
        {"accepted", "rejected", "rejected_count", "written", "unchanged"},
    )
    return {
        "Error": _object(
            {
                "error": _object(
                    {
                        "code": _string(pattern="^[a-z][a-z0-9_]*$", description="Machine-readable, snake_case."),
                        "message": _string(description="For a person."),
                        "fields": {
                            "type": "object",
                            "additionalProperties": _string(),
                            "description": "Each refused field and its problem.",
                        },
                    },
                    {"code", "message", "fields"},
                )
            },
            {"error"},
        ),
        "SurveyInput": _object(survey_fields, {"name"}),
        "SurveyPatch": _object(survey_fields, minProperties=1),
        "Survey": survey,
        "SurveyCreated": survey_created,
        "Contact": contact,
        "AccountInput": _object(account_fields),
        "Account": account,
        "AccountWithStanding": account_with_standing,
        "LinkAnswer": link_answer,
        "LinkAnswerForm": link_form,
        "WidgetAnswer": widget_answer,
        "Response": response,
        "Task": task,
        "TaskPatch": task_patch,
        "AdminToken": token,
        "ImportReport": import_report,
        "MonthRun": _object(
            {"month": MONTH, "status": {"enum": ["started", "running"]}, "run_id": _string()},
            {"month", "status", "run_id"},
            closed=False,
        ),
        "Metrics": {
            "type": "object",
            "required": ["month"],
            "properties": {"month": MONTH},
            "description": "The month's metrics document (docs/metrics.md).",
        },
    }


# ---- operations ------------------------------------------------------------------------------------------


def _json_content(schema: dict) -> dict:
    return {JSON: {"schema": schema}}


def _ok(schema: dict | None, description: str = "Done.", content_type: str = JSON, **extra) -> dict:
    out: dict = {"description": description}
    if schema is not None:
        out["content"] = {content_type: {"schema": schema}}
    return {**out, **extra}


def _query(name: str, schema: dict, description: str = "") -> dict:
    out = {"name": name, "in": "query", "required": False, "schema": schema}
    return {**out, "description": description} if description else out


def _header(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "header", "required": False, "schema": schema, "description": description}


def _list_params(path: str) -> list[dict]:
    default, maximum = LIST_LIMITS[path]
    return [
        _query("limit", {"type": "integer", "minimum": 1, "maximum": maximum, "default": default}),
        _query("next", _string(MAX_CURSOR), "The cursor the previous page answered as `next`."),
    ]


def _page(key: str, item: str) -> dict:
    return _object(
        {key: {"type": "array", "items": _ref(item)}, "next": _nullable(_string())},
        {key, "next"},
    )


def _body(schemas: dict, limit: int = MAX_BODY, required: bool = True) -> dict:
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


def _operations(schemas: dict) -> list[dict]:
    from chalicelib.api.surveys import MAX_INVITES_PER_CALL

    survey_id = {"name": "survey_id", "description": "A survey's id."}
    month = {"name": "month", "schema": MONTH, "description": "A month, YYYY-MM."}
    ops: list[dict] = []

    def op(method, path, summary, *, scope=None, ok=None, errors=(), params=(), body=None, tag, **extra):
        ops.append(
            {
                "method": method,
                "path": path,
                "summary": summary,
                "scope": scope,
                "ok": ok or {200: _ok(None)},
                "errors": {*EVERY, *(ADMIN if scope else ()), *errors},
                "params": list(params),
                "body": body,
                "tag": tag,
                **extra,
            }
        )

    # ---- public ------------------------------------------------------------------------------------------
    op("GET", "/openapi.json", "This document.", ok={200: _ok({"type": "object"}, "The OpenAPI document.")}, tag="docs")
    op(
        "GET",
        "/v1/health",
        "Whether the service can answer.",
        ok={
            200: _ok(_object({"status": {"const": "ok"}}, {"status"}), "Ready."),
            503: _ok(_object({"status": {"const": "starting"}}, {"status"}), "The tables do not exist yet."),
        },
        tag="public",
    )
    token_param = {"name": "token", "description": "The signed token of the link."}
    for method in ("GET", "HEAD"):
        op(
            method,
            "/s/{token}",
            "The survey page behind an email link; showing it records nothing.",
            ok={200: _ok(None if method == "HEAD" else _string(), "The page.", HTML)},
            errors=(400, 403, 410),
            errors_as="none" if method == "HEAD" else "html",
            path_params=[token_param],
            params=[_query("score", _string(), "A score chosen in the email (0 to 10), shown as chosen.")]
            if method == "GET"
            else [],
            tag="public",
        )
        op(
            method,
            "/u/{token}",
            "The unsubscribe page of an email link.",
            ok={200: _ok(None if method == "HEAD" else _string(), "The page.", HTML)},
            errors=(400, 403, 410),
            errors_as="none" if method == "HEAD" else "html",
            path_params=[token_param],
            tag="public",
        )
        op(
            method,
            "/r/{token}",
            "The monthly report a signed report link names.",
            ok={200: _ok(None if method == "HEAD" else _string(), "The report.", HTML)},
            errors=(400, 403, 410),
            errors_as="none" if method == "HEAD" else "json",
            path_params=[{"name": "token", "description": "The signed token of the report link."}],
            tag="public",
        )
    answer_ok = _object(
        {
            "response_id": _string(),
            "score": SCORE,
            "created": {"type": "boolean"},
            "status": _string(),
            "replayed": {"const": True},
        },
        {"response_id", "score", "created", "status"},
    )
    op(
        "POST",
        "/s/{token}",
        "Answer from an email link (JSON from the page's script, or the page's form).",
        ok={
            201: {
                "description": "Recorded (a form post answers the thanks page).",
                "content": {JSON: {"schema": answer_ok}, HTML: {"schema": _string()}},
            },
            200: {
                "description": "An earlier answer changed, or the same submission again.",
                "content": {JSON: {"schema": answer_ok}, HTML: {"schema": _string()}},
            },
        },
        errors=(*BODY, 403, 409, 410),
        errors_as="json-or-html",
        body=_body({JSON: _ref("LinkAnswer"), FORM: _ref("LinkAnswerForm")}),
        path_params=[token_param],
        tag="public",
    )
    op(
        "POST",
        "/u/{token}",
        "Unsubscribe the contact of an email link.",
        ok={
            200: {
                "description": "Unsubscribed: JSON when Accept names JSON, else the page.",
                "content": {
                    JSON: {"schema": _object({"unsubscribed": {"const": True}}, {"unsubscribed"})},
                    HTML: {"schema": _string()},
                },
            }
        },
        errors=(403,),
        path_params=[token_param],
        tag="public",
    )
    cors_headers = {
        "Access-Control-Allow-Origin": {"schema": _string(), "description": "The origin, when the survey allows it."}
    }
    op(
        "OPTIONS",
        "/v1/surveys/{survey_id}/responses",
        "The widget's CORS preflight.",
        ok={200: _ok(_object({}), "The origin may post.", headers=cors_headers)},
        errors=(403,),
        path_params=[survey_id],
        params=[_header("Origin", _string(), "The page's origin.")],
        tag="public",
    )
    op(
        "POST",
        "/v1/surveys/{survey_id}/responses",
        "An answer from the widget (with Origin) or from a server (without).",
        ok={
            status: _ok(
                _object(
                    {
                        "response_id": _string(),
                        "created": {"type": "boolean"},
                        "throttle_days": {"type": "integer", "minimum": 0},
                        "updated": {"const": True},
                    },
                    {"response_id", "created", "throttle_days"},
                ),
                what,
                headers=cors_headers,
            )
            for status, what in ((201, "Recorded."), (200, "The same Idempotency-Key again."))
        },
        errors=(*BODY, 403, 409, 410),
        body=_body({JSON: _ref("WidgetAnswer")}),
        path_params=[survey_id],
        params=[
            _header("Origin", _string(), "The page's origin; it must be in the survey's allowed_origins."),
            _header(
                "Idempotency-Key",
                _string(IDEMPOTENCY_KEY_MAX, 1),
                "The same key answers the same response (a retry changes it, never adds one).",
            ),
        ],
        tag="public",
    )
    op(
        "GET",
        "/widget.js",
        "The widget's script.",
        ok={200: _ok(_string(), "The script.", "application/javascript")},
        tag="public",
    )
    # ---- surveys -----------------------------------------------------------------------------------------
    op(
        "POST",
        "/v1/surveys",
        "Create a survey.",
        scope="write",
        ok={201: _ok(_ref("SurveyCreated"), "Created; the identity secret is shown only here.")},
        errors=BODY,
        body=_body({JSON: _ref("SurveyInput")}),
        tag="surveys",
    )
    op(
        "GET",
        "/v1/surveys",
        "List surveys.",
        scope="read",
        ok={200: _ok(_page("surveys", "Survey"))},
        errors=LIST,
        params=_list_params("/v1/surveys"),
        tag="surveys",
    )
    op(
        "GET",
        "/v1/surveys/{survey_id}",
        "One survey.",
        scope="read",
        ok={200: _ok(_ref("Survey"))},
        path_params=[survey_id],
        tag="surveys",
    )
    op(
        "PATCH",
        "/v1/surveys/{survey_id}",
        "Change some of a survey's fields.",
        scope="write",
        ok={200: _ok(_ref("Survey"))},
        errors=BODY,
        body=_body({JSON: _ref("SurveyPatch")}),
        path_params=[survey_id],
        tag="surveys",
    )
    op(
        "POST",
        "/v1/surveys/{survey_id}/identity-secret",
        "Rotate the survey's identity secret (the previous one keeps working for a while).",
        scope="write",
        ok={
            200: _ok(
                _object(
                    {"survey_id": _string(), "identity_secret": _string(), "previous_secret_until": TIMESTAMP},
                    {"survey_id", "identity_secret", "previous_secret_until"},
                )
            )
        },
        errors=(*BODY, 409),
        body=_body({JSON: _object({})}, required=False),
        path_params=[survey_id],
        tag="surveys",
    )
    invitation = {
        "type": "object",
        "required": ["contact_id"],
        "properties": {
            "contact_id": _string(),
            "invitation_id": _string(),
            "link": _string(),
            "unsubscribe_link": _string(),
            "skipped": {"enum": ["unsubscribed", "throttled"]},
        },
    }
    op(
        "POST",
        "/v1/surveys/{survey_id}/invitations",
        "Invite contacts: each gets a signed link (or is skipped: unsubscribed, throttled).",
        scope="write",
        ok={201: _ok(_object({"invitations": {"type": "array", "items": invitation}}, {"invitations"}))},
        errors=(*BODY, 410),
        body=_body(
            {
                JSON: _object(
                    {
                        "contacts": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_INVITES_PER_CALL,
                            "items": _ref("Contact"),
                        }
                    },
                    {"contacts"},
                )
            },
            INVITATIONS_BODY,
        ),
        path_params=[survey_id],
        tag="surveys",
    )
    # ---- responses, accounts, contacts, imports ----------------------------------------------------------
    op(
        "GET",
        "/v1/responses",
        "Export responses, filtered by survey, contact or account (not both) and month.",
        scope="read",
        ok={200: _ok(_page("responses", "Response"))},
        errors=LIST,
        params=[
            _query("survey_id", ID),
            _query("contact_id", ID),
            _query("account_id", ID, "Not with contact_id."),
            _query("month", MONTH),
            *_list_params("/v1/responses"),
        ],
        tag="responses",
    )
    op(
        "GET",
        "/v1/responses/{response_id}",
        "One response.",
        scope="read",
        ok={200: _ok(_ref("Response"))},
        errors=(410,),
        path_params=[{"name": "response_id"}],
        tag="responses",
    )
    for path, what in (("/v1/accounts/import", "accounts with revenue"), ("/v1/responses/import", "responses")):
        op(
            "POST",
            path,
            f"Import {what} from CSV (with a header row) or NDJSON; each row is accepted or rejected.",
            scope="write",
            ok={200: _ok(_ref("ImportReport"))},
            errors=BODY,
            body={
                "required": True,
                "description": "At most 5 MB; larger files go through the CLI, which sends pages.",
                "content": {CSV: {"schema": _string()}, NDJSON: {"schema": _string()}},
            },
            tag="imports",
        )
    op(
        "PUT",
        "/v1/accounts/{account_id}",
        "Create or replace an account.",
        scope="write",
        ok={201: _ok(_ref("Account"), "Created."), 200: _ok(_ref("Account"), "Replaced.")},
        errors=BODY,
        body=_body({JSON: _ref("AccountInput")}, ACCOUNT_BODY),
        path_params=[{"name": "account_id", "schema": ID}],
        tag="accounts",
    )
    op(
        "GET",
        "/v1/accounts",
        "List accounts with their standing, by segment or owner.",
        scope="read",
        ok={200: _ok(_page("accounts", "AccountWithStanding"))},
        errors=LIST,
        params=[
            _query("segment", _string(PERSON_TEXT_MAX, 1)),
            _query("owner", _string(PERSON_TEXT_MAX, 1)),
            *_list_params("/v1/accounts"),
        ],
        tag="accounts",
    )
    op(
        "GET",
        "/v1/accounts/{account_id}",
        "One account with its standing.",
        scope="read",
        ok={200: _ok(_ref("AccountWithStanding"))},
        path_params=[{"name": "account_id"}],
        tag="accounts",
    )
    op(
        "DELETE",
        "/v1/contacts/{contact_id}",
        "Erase a contact: their comments, tasks' texts, invitations and links.",
        scope="write",
        ok={
            200: _ok(
                _object(
                    {
                        "contact_id": _string(),
                        "erased": {"const": True},
                        "contact_found": {"type": "boolean"},
                        "responses_erased": {"type": "integer"},
                        "tasks_scrubbed": {"type": "integer"},
                        "invitations_deleted": {"type": "integer"},
                        "links_closed": {"type": "integer"},
                    },
                    {"contact_id", "erased"},
                )
            )
        },
        errors=(409, 422),
        path_params=[{"name": "contact_id", "schema": ID}],
        tag="contacts",
    )
    # ---- tasks -------------------------------------------------------------------------------------------
    etag = {"ETag": {"schema": _string(), "description": "The task's revision, for If-Match."}}
    op(
        "GET",
        "/v1/tasks",
        "List close-the-loop tasks.",
        scope="read",
        ok={200: _ok(_page("tasks", "Task"))},
        errors=LIST,
        params=[
            _query("status", {"enum": list(loop.STATUSES)}),
            _query("owner", _string(PERSON_TEXT_MAX, 1)),
            _query("overdue", {"type": "boolean", "default": False}),
            _query("kind", {"enum": list(loop.TASK_KIND.values())}),
            _query("survey_id", ID),
            _query("account_id", ID),
            *_list_params("/v1/tasks"),
        ],
        tag="tasks",
    )
    op(
        "GET",
        "/v1/tasks/{task_id}",
        "One task.",
        scope="read",
        ok={200: _ok(_ref("Task"), headers=etag)},
        path_params=[{"name": "task_id"}],
        tag="tasks",
    )
    op(
        "PATCH",
        "/v1/tasks/{task_id}",
        "Assign, note, change status, resolve with a root cause, or reopen a task.",
        scope="write",
        ok={200: _ok(_ref("Task"), headers=etag)},
        errors=(*BODY, 409),
        body=_body({JSON: _ref("TaskPatch")}),
        path_params=[{"name": "task_id"}],
        params=[_header("If-Match", _string(), 'The ETag read, such as "3"; a changed task answers 409.')],
        tag="tasks",
    )
    # ---- metrics and reports -----------------------------------------------------------------------------
    op(
        "GET",
        "/v1/metrics/{month}",
        "The month's metrics, as last computed.",
        scope="read",
        ok={200: _ok(_ref("Metrics"))},
        errors=(422,),
        path_params=[month],
        tag="metrics",
    )
    op(
        "POST",
        "/v1/metrics/{month}/recompute",
        "Compute a month now (or queue it with wait=false).",
        scope="write",
        ok={
            200: _ok(_ref("Metrics"), "Computed."),
            202: _ok(
                _ref("MonthRun"),
                "Queued, or a run of the month is going.",
                headers={"Location": {"schema": _string(), "description": "The month's metrics, relative."}},
            ),
        },
        errors=(422, 503),
        path_params=[month],
        params=[_query("wait", {"type": "boolean", "default": True})],
        tag="metrics",
    )
    op(
        "GET",
        "/v1/reports/{month}",
        "The month's report, as HTML.",
        scope="read",
        ok={200: _ok(_string(), "The report.", HTML)},
        errors=(422,),
        path_params=[month],
        tag="metrics",
    )
    op(
        "POST",
        "/v1/reports/{month}/link",
        "A link to the month's report that a browser opens without the token, for a while.",
        scope="read",
        ok={
            200: _ok(
                _object({"month": MONTH, "url": _string(), "expires_at": TIMESTAMP}, {"month", "url", "expires_at"})
            )
        },
        errors=(422,),
        path_params=[month],
        tag="metrics",
    )
    # ---- admin tokens ------------------------------------------------------------------------------------
    from chalicelib.store.admin_tokens import SCOPES

    op(
        "POST",
        "/v1/admin/tokens",
        "Create an admin token; the token is shown only here.",
        scope="admin",
        ok={
            201: _ok(
                {
                    **schemas["AdminToken"],
                    "properties": {**schemas["AdminToken"]["properties"], "token": _string()},
                    "required": sorted({*schemas["AdminToken"]["required"], "token"}),
                }
            )
        },
        errors=BODY,
        body=_body(
            {
                JSON: _object(
                    {
                        "name": _string(TOKEN_NAME_MAX, 1),
                        "scopes": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": len(SCOPES),
                            "items": {"enum": list(SCOPES)},
                        },
                    },
                    {"name", "scopes"},
                )
            }
        ),
        tag="admin tokens",
    )
    op(
        "GET",
        "/v1/admin/tokens",
        "List admin tokens (never their secrets).",
        scope="admin",
        ok={200: _ok(_page("tokens", "AdminToken"))},
        errors=LIST,
        params=_list_params("/v1/admin/tokens"),
        tag="admin tokens",
    )
    op(
        "DELETE",
        "/v1/admin/tokens/{token_id}",
        "Revoke an admin token, at once.",
        scope="admin",
        ok={200: _ok(_object({"token_id": _string(), "revoked": {"const": True}}, {"token_id", "revoked"}))},
        errors=(422,),
        path_params=[{"name": "token_id", "schema": ID}],
        tag="admin tokens",
    )
    return ops


def _error_responses(statuses, kind: str) -> dict:
    """The error answers of an operation, by `kind` of route: "json" (the envelope), "html" (the error page;
    the gateway's own 404 and 429 are still the JSON envelope), "json-or-html" (a route that answers a form
    post with a page) or "none" (HEAD: no body)."""
    envelope = {JSON: {"schema": _ref("Error")}}
    page = {HTML: {"schema": _string(description="The error page.")}}
    out = {}
    for status in sorted(statuses):
        answer: dict = {"description": ERROR_MEANING[status]}
        if kind == "json":
            answer["content"] = envelope
        elif kind == "html":
            answer["content"] = {**envelope, **page} if status in GATEWAY_ERRORS else page
        elif kind == "json-or-html":
            answer["content"] = {**envelope, **page}
        out[str(status)] = answer
    return out


def _path_parameters(path: str, given: list[dict]) -> list[dict]:
    by_name = {p["name"]: p for p in given}
    out = []
    for name in re.findall(r"{(\w+)}", path):
        spec = by_name.get(name, {})
        out.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": spec.get("schema", _string(min_len=1)),
                **({"description": spec["description"]} if "description" in spec else {}),
            }
        )
    return out


SECURITY_DESCRIPTION = (
    "An admin token: `Authorization: Bearer npsa_...`. Tokens have scopes: `read` (the GET admin routes), `write` "
    "(also every change: create, update, import, recompute, erase) and `admin` (also token management); each "
    "scope includes the ones before it. Each operation names the scope it needs. No token, or an unknown or "
    "revoked one, answers 401; a token without the scope answers 403 `insufficient_scope`."
)


@lru_cache(maxsize=1)
def document() -> dict:
    """The OpenAPI 3.1 document (the same object each call: do not change it)."""
    schemas = _schemas()
    paths: dict[str, dict] = {}
    for entry in _operations(schemas):
        operation: dict = {
            "operationId": f"{entry['method'].lower()}_"
            + re.sub(r"[^A-Za-z0-9]+", "_", entry["path"]).strip("_").replace("__", "_"),
            "summary": entry["summary"],
            "tags": [entry["tag"]],
        }
        parameters = _path_parameters(entry["path"], entry.get("path_params", [])) + entry["params"]
        if parameters:
            operation["parameters"] = parameters
        if entry["body"] is not None:
            operation["requestBody"] = entry["body"]
        if entry["scope"]:
            operation["security"] = [{"adminToken": [entry["scope"]]}]
            operation["x-required-scope"] = entry["scope"]
        else:
            operation["security"] = []
        responses = {str(status): answer for status, answer in entry["ok"].items()}
        responses.update(_error_responses(entry["errors"] - set(entry["ok"]), entry.get("errors_as", "json")))
        operation["responses"] = dict(sorted(responses.items()))
        paths.setdefault(entry["path"], {})[entry["method"].lower()] = operation
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "NPS and close-the-loop backend",
            "version": "1",
            "summary": "Surveys, capture, close-the-loop tasks, accounts, metrics and reports.",
            "description": "Every route the deployed app serves. Errors always have the `Error` shape. The local "
            "stack's own `/local/...` routes (stream poll, scheduler, status, dashboard, widget demo) are local "
            "tooling, never deployed, and not described here; see the README's 'Local-only routes'.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "adminToken": {"type": "http", "scheme": "bearer", "description": SECURITY_DESCRIPTION}
            },
        },
    }


def operations() -> set[tuple[str, str]]:
    """(path, METHOD) of every operation the document describes."""
    return {(path, method.upper()) for path, methods in document()["paths"].items() for method in methods}
