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
    header_param,
    object_schema,
    ok_answer,
    query_param,
    ref,
    request_body,
    string,
)


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
        errors=(403,),
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
