"""The operations on the monthly metrics and reports."""

from __future__ import annotations

from chalicelib.api.openapi.fragments import (
    HTML,
    MONTH,
    TIMESTAMP,
    Operations,
    object_schema,
    ok_answer,
    query_param,
    ref,
    string,
)


def add(op: Operations, schemas: dict) -> None:
    month = {"name": "month", "schema": MONTH, "description": "A month, YYYY-MM."}
    # ---- metrics and reports -----------------------------------------------------------------------------
    op(
        "GET",
        "/v1/metrics/{month}",
        "The month's metrics, as last computed.",
        scope="read",
        ok={200: ok_answer(ref("Metrics"))},
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
            200: ok_answer(ref("Metrics"), "Computed."),
            202: ok_answer(
                ref("MonthRun"),
                "Queued, or a run of the month is going.",
                headers={"Location": {"schema": string(), "description": "The month's metrics, relative."}},
            ),
        },
        errors=(422, 503),
        path_params=[month],
        params=[query_param("wait", {"type": "boolean", "default": True})],
        tag="metrics",
    )
    op(
        "GET",
        "/v1/reports/{month}",
        "The month's report, as HTML.",
        scope="read",
        ok={200: ok_answer(string(), "The report.", HTML)},
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
            200: ok_answer(
                object_schema(
                    {"month": MONTH, "url": string(), "expires_at": TIMESTAMP}, {"month", "url", "expires_at"}
                )
            )
        },
        errors=(422,),
        path_params=[month],
        tag="metrics",
    )
