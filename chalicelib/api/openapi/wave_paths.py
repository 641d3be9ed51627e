"""The operations of relationship waves."""

from __future__ import annotations

from chalicelib.api.openapi.fragments import (
    BODY,
    JSON,
    LIST,
    TIMESTAMP,
    Operations,
    list_page,
    list_params,
    nullable,
    object_schema,
    ok_answer,
    ref,
    request_body,
    string,
)
from chalicelib.domain import waves


def wave_rules_fields() -> dict:
    """Who a wave asks: the roles in the order to ask them, and its caps (null: none)."""
    return {
        "roles": nullable(
            {"type": "array", "maxItems": 20, "uniqueItems": True, "items": string(40, 1, examples=["decision_maker"])}
        ),
        "per_account": nullable({"type": "integer", "minimum": 1, "maximum": waves.MAX_PER_ACCOUNT}),
        "daily_cap": nullable({"type": "integer", "minimum": 1, "maximum": waves.MAX_DAILY_CAP}),
    }


def _schemas() -> dict:
    count = {"type": "integer", "minimum": 0}
    wave = object_schema(
        {
            "wave_id": string(),
            "survey_id": string(),
            "trigger": {"enum": ["manual", "schedule"]},
            "status": {"enum": ["running", "done"]},
            "rules": object_schema(wave_rules_fields(), {"roles", "per_account", "daily_cap"}),
            "eligible": count,
            "invited": count,
            "pending": {**count, "description": "Selected but not yet invited: the next run goes on at once."},
            "skipped": object_schema(dict.fromkeys(waves.SKIP_REASONS, count), waves.SKIP_REASONS),
            "days": {
                "type": "array",
                "items": object_schema({"day": string(examples=["2026-12-07"]), "invited": count}, {"day", "invited"}),
            },
            "started_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "next_run_at": nullable(TIMESTAMP),
            "sent": nullable(count),
            "responded": nullable(count),
            "response_rate": nullable({"type": "number", "minimum": 0, "maximum": 1}),
            "tallied_at": nullable(TIMESTAMP),
        },
        {
            "wave_id",
            "survey_id",
            "trigger",
            "status",
            "rules",
            "eligible",
            "invited",
            "pending",
            "skipped",
            "days",
            "started_at",
            "updated_at",
            "next_run_at",
            "sent",
            "responded",
            "response_rate",
            "tallied_at",
        },
        description="eligible = invited + pending + the sum of skipped; over_daily_cap waits for the next day.",
    )
    return {"Wave": wave, "WaveInput": object_schema(wave_rules_fields())}


def add(op: Operations, schemas: dict) -> None:
    schemas.update(_schemas())
    op(
        "POST",
        "/v1/surveys/{survey_id}/waves",
        "Start a relationship wave now: the directory's contacts (of the roles asked, within the caps) are invited "
        "and emailed in the survey's send window. The body may set roles and caps; each defaults to the survey's "
        "schedule.",
        scope="write",
        ok={202: ok_answer(ref("Wave"), "Started; its first run is queued.")},
        errors=(*BODY, 409, 410, 503),
        body=request_body({JSON: ref("WaveInput")}, required=False),
        path_params=[{"name": "survey_id"}],
        tag="waves",
    )
    op(
        "GET",
        "/v1/surveys/{survey_id}/waves",
        "The survey's waves, newest first, with their counts and response rates.",
        scope="read",
        ok={200: ok_answer(list_page("waves", "Wave"))},
        errors=LIST,
        params=list_params("/v1/surveys/{survey_id}/waves"),
        path_params=[{"name": "survey_id"}],
        tag="waves",
    )
    op(
        "GET",
        "/v1/surveys/{survey_id}/waves/{wave_id}",
        "One wave.",
        scope="read",
        ok={200: ok_answer(ref("Wave"))},
        path_params=[{"name": "survey_id"}, {"name": "wave_id"}],
        tag="waves",
    )
