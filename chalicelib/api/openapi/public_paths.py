"""The operations anyone may call, without a token: the document itself, health, the email link pages, the widget."""

from __future__ import annotations

from chalicelib.api.openapi.fragments import (
    BODY,
    FORM,
    HTML,
    IDEMPOTENCY_KEY_MAX,
    JSON,
    SCORE,
    SURVEY_ID,
    Operations,
    ecma,
    header_param,
    object_schema,
    ok_answer,
    query_param,
    ref,
    request_body,
    string,
)
from chalicelib.domain import languages, widget_text


def add(op: Operations, schemas: dict) -> None:
    op(
        "GET",
        "/openapi.json",
        "This document.",
        ok={200: ok_answer({"type": "object"}, "The OpenAPI document.")},
        tag="docs",
    )
    op(
        "GET",
        "/v1/health",
        "Whether the service can answer.",
        ok={
            200: ok_answer(object_schema({"status": {"const": "ok"}}, {"status"}), "Ready."),
            503: ok_answer(
                object_schema({"status": {"const": "starting"}}, {"status"}), "The tables do not exist yet."
            ),
        },
        tag="public",
    )
    token_param = {"name": "token", "description": "The signed token of the link."}
    for method in ("GET", "HEAD"):
        op(
            method,
            "/s/{token}",
            "The survey page behind an email link; showing it records nothing.",
            ok={200: ok_answer(None if method == "HEAD" else string(), "The page.", HTML)},
            errors=(400, 403, 410),
            errors_as="none" if method == "HEAD" else "html",
            path_params=[token_param],
            params=[query_param("score", string(), "A score chosen in the email (0 to 10), shown as chosen.")]
            if method == "GET"
            else [],
            tag="public",
        )
        op(
            method,
            "/u/{token}",
            "The unsubscribe page of an email link.",
            ok={200: ok_answer(None if method == "HEAD" else string(), "The page.", HTML)},
            errors=(400, 403, 410),
            errors_as="none" if method == "HEAD" else "html",
            path_params=[token_param],
            tag="public",
        )
        op(
            method,
            "/r/{token}",
            "The monthly report a signed report link names.",
            ok={200: ok_answer(None if method == "HEAD" else string(), "The report.", HTML)},
            errors=(400, 403, 410),
            errors_as="none" if method == "HEAD" else "json",
            path_params=[{"name": "token", "description": "The signed token of the report link."}],
            tag="public",
        )
    answer_ok = object_schema(
        {
            "response_id": string(),
            "score": SCORE,
            "created": {"type": "boolean"},
            "status": string(),
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
                "content": {JSON: {"schema": answer_ok}, HTML: {"schema": string()}},
            },
            200: {
                "description": "An earlier answer changed, or the same submission again.",
                "content": {JSON: {"schema": answer_ok}, HTML: {"schema": string()}},
            },
        },
        errors=(*BODY, 403, 409, 410),
        errors_as="json-or-html",
        body=request_body({JSON: ref("LinkAnswer"), FORM: ref("LinkAnswerForm")}),
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
                    JSON: {"schema": object_schema({"unsubscribed": {"const": True}}, {"unsubscribed"})},
                    HTML: {"schema": string()},
                },
            }
        },
        errors=(403, 503),  # 503 events_not_published: unsubscribed, the event not out yet; send it again
        path_params=[token_param],
        tag="public",
    )
    cors_headers = {
        "Access-Control-Allow-Origin": {"schema": string(), "description": "The origin, when the survey allows it."}
    }
    op(
        "OPTIONS",
        "/v1/surveys/{survey_id}/responses",
        "The widget's CORS preflight.",
        ok={200: ok_answer(object_schema({}), "The origin may post.", headers=cors_headers)},
        errors=(403,),
        path_params=[SURVEY_ID],
        params=[header_param("Origin", string(), "The page's origin.")],
        tag="public",
    )
    op(
        "POST",
        "/v1/surveys/{survey_id}/responses",
        "An answer from the widget (with Origin) or from a server (without).",
        ok={
            status: ok_answer(
                object_schema(
                    {
                        "response_id": string(),
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
        body=request_body({JSON: ref("WidgetAnswer")}),
        path_params=[SURVEY_ID],
        params=[
            header_param("Origin", string(), "The page's origin; it must be in the survey's allowed_origins."),
            header_param(
                "Idempotency-Key",
                string(IDEMPOTENCY_KEY_MAX, 1),
                "The same key answers the same response (a retry changes it, never adds one).",
            ),
        ],
        tag="public",
    )
    op(
        "GET",
        "/widget.js",
        "The widget's script.",
        ok={200: ok_answer(string(), "The script.", "application/javascript")},
        tag="public",
    )
    add_widget_strings(op, cors_headers)


def add_widget_strings(op: Operations, cors_headers: dict) -> None:
    """The widget's words for its survey (api/widget_strings.py)."""
    words = {name: string(min_len=1) for name in (*widget_text.WIDGET_NAMES, "question")}
    answer = object_schema(
        {
            **words,
            "lang": string(pattern=ecma(languages.TAG_RE), description="The language the words are in."),
            "dir": {"enum": ["ltr", "rtl"], "description": "Its writing direction."},
        },
        {*words, "lang", "dir"},
    )
    headers = {
        **cors_headers,
        "Cache-Control": {"schema": {"const": "public, max-age=300"}, "description": "Shared caches may keep it."},
        "Vary": {"schema": {"const": "Origin, Accept-Language"}, "description": "What the answer depends on."},
    }
    origin = header_param(
        "Origin", string(), "The page's origin; when sent, it must be in the survey's allowed_origins."
    )
    path = "/v1/surveys/{survey_id}/widget-strings"
    op(
        "OPTIONS",
        path,
        "The CORS preflight of the widget's words.",
        ok={200: ok_answer(object_schema({}), "The origin may ask.", headers=cors_headers)},
        errors=(403,),
        path_params=[SURVEY_ID],
        params=[origin],
        tag="public",
    )
    op(
        "GET",
        path,
        "The widget's words for its survey, in the language asked for: the survey's own strings over the built-in "
        "ones, and the survey's question.",
        ok={200: ok_answer(answer, "The words, in the widget's names.", headers=headers)},
        errors=(403, 422),
        path_params=[SURVEY_ID],
        params=[
            query_param(
                "lang",
                string(),
                "The language tag to speak (the widget's data-lang, else the host page's); a value that is not a "
                "tag is ignored. Without it, Accept-Language. Then the tag's shorter forms, the survey's language "
                "and English.",
            ),
            header_param("Accept-Language", string(), "The browser's languages, used without lang."),
            origin,
        ],
        tag="public",
    )
