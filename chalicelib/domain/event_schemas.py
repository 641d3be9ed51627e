"""The published schema of each event's `detail` (JSON Schema 2020-12, one version per detail-type): what
chalicelib/domain/events.py builds, and what docs/events/ holds for readers (a test keeps the three equal).

Pure: standard library and the domain only.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.events import (
    ACCOUNT_HEALTH_CHANGED,
    CONTACT_BOUNCED,
    CONTACT_COMPLAINED,
    CONTACT_UNSUBSCRIBED,
    MONTH_COMPUTED,
    RESPONSE_RECORDED,
    RESPONSE_UPDATED,
    SCHEMA_VERSION,
    TASK_ESCALATED,
    TASK_OPENED,
    TASK_REOPENED,
    TASK_RESOLVED,
)

_ID = {"type": "string", "minLength": 1, "maxLength": 200}
_TIME = {"type": "string", "format": "date-time"}
_CATEGORY = {"enum": ["promoter", "passive", "detractor"]}
_HEALTH = {"enum": ["safe", "gray_zone", "at_risk", "unrated"]}
_TASK_STATUS = {"enum": ["open", "in_progress", "escalated", "resolved"]}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema:
        return {"enum": [*schema["enum"], None]}
    return {**schema, "type": [schema["type"], "null"]}


def _schema(detail_type: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    everything = {
        "schema_version": {"const": SCHEMA_VERSION},
        "event_id": {"type": "string", "pattern": "^evt_[0-9a-f]{24}$"},
        **properties,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://nps.example/events/{detail_type.lower().replace(' ', '-')}.v{SCHEMA_VERSION}.json",
        "title": f"{detail_type} (detail, version {SCHEMA_VERSION})",
        "description": description,
        "type": "object",
        "properties": everything,
        "required": sorted(everything),
        "additionalProperties": False,
    }


_RESPONSE = {
    "response_id": _ID,
    "version": {"type": "integer", "minimum": 1},
    "survey_id": _ID,
    "invitation_id": _nullable(_ID),
    "account_id": _nullable(_ID),
    "contact_id": _nullable(_ID),
    "segment": _nullable({"type": "string"}),
    "channel": {"type": "string"},
    "touchpoint": _nullable({"type": "string"}),
    "score": {"type": "integer", "minimum": 0, "maximum": 10},
    "category": _CATEGORY,
    "comment": _nullable({"type": "string", "maxLength": 2000}),
    "drivers": {"type": "array", "items": {"type": "string"}},
    "first_submitted_at": _TIME,
    "submitted_at": _TIME,
}
_TASK = {
    "task_id": _ID,
    "response_id": _ID,
    "survey_id": _ID,
    "account_id": _nullable(_ID),
    "kind": {"enum": ["recovery", "follow_up", "advocacy"]},
    "category": _CATEGORY,
    "status": _TASK_STATUS,
    "previous_status": _nullable(_TASK_STATUS),
    "due_at": _TIME,
    "at": _TIME,
}
_CONTACT = {"contact_id": _ID, "account_id": _nullable(_ID)}

SCHEMAS: dict[str, dict[str, Any]] = {
    RESPONSE_RECORDED: _schema(
        RESPONSE_RECORDED,
        "A counted answer, the first time it counts (captured, imported, or a pending one-click score settled).",
        _RESPONSE,
    ),
    RESPONSE_UPDATED: _schema(
        RESPONSE_UPDATED,
        "A counted answer whose score, comment or drivers changed; previous_* is what it said before.",
        {
            **_RESPONSE,
            "previous_score": {"type": "integer", "minimum": 0, "maximum": 10},
            "previous_category": _CATEGORY,
        },
    ),
    TASK_OPENED: _schema(
        TASK_OPENED,
        "A close-the-loop task opened by an answer, for its owner, due at due_at.",
        {
            **_TASK,
            "status": {"const": "open"},
            "previous_status": {"const": None},
            "owner": {"type": "string"},
            "sla_hours": {"type": "integer", "minimum": 1},
        },
    ),
    TASK_ESCALATED: _schema(
        TASK_ESCALATED,
        "A task escalated: by the SLA sweep when overdue (to the account's manager, or the survey's fallback owner)"
        " or by a person.",
        {**_TASK, "status": {"const": "escalated"}, "manager": _nullable({"type": "string"})},
    ),
    TASK_RESOLVED: _schema(
        TASK_RESOLVED,
        "A task resolved by a person, with its root cause.",
        {**_TASK, "status": {"const": "resolved"}, "root_cause": _nullable({"type": "string"})},
    ),
    TASK_REOPENED: _schema(
        TASK_REOPENED,
        "A resolved task opened again by a person.",
        {**_TASK, "status": {"const": "open"}, "previous_status": {"const": "resolved"}},
    ),
    ACCOUNT_HEALTH_CHANGED: _schema(
        ACCOUNT_HEALTH_CHANGED,
        "At the end of month, the account's health band differs from the end of the month before (same rule as "
        "the account's standing and the monthly document).",
        {
            "account_id": _ID,
            "segment": _nullable({"type": "string"}),
            "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
            "health": _HEALTH,
            "previous_health": _HEALTH,
        },
    ),
    CONTACT_UNSUBSCRIBED: _schema(
        CONTACT_UNSUBSCRIBED,
        "A contact unsubscribed (the link in an email, or one-click from the mail client).",
        {**_CONTACT, "status": {"const": "unsubscribed"}},
    ),
    CONTACT_BOUNCED: _schema(
        CONTACT_BOUNCED,
        "A survey email to the contact bounced permanently: no more email goes to them.",
        {**_CONTACT, "status": {"const": "bounced"}},
    ),
    CONTACT_COMPLAINED: _schema(
        CONTACT_COMPLAINED,
        "The contact marked a survey email as spam: no more email goes to them.",
        {**_CONTACT, "status": {"const": "complained"}},
    ),
    MONTH_COMPUTED: _schema(
        MONTH_COMPUTED,
        "A month's metrics document was computed and stored; partial while the month is still running.",
        {
            "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
            "computed_at": _TIME,
            "partial": {"type": "boolean"},
            "responses": {"type": "integer", "minimum": 0},
            "nps": _nullable({"type": "number"}),
            "currency": {"type": "string"},
            "revenue_at_risk": {"type": "number"},
            "accounts_at_risk": {"type": "integer", "minimum": 0},
        },
    ),
}


def schema_file(detail_type: str) -> str:
    """The name of a detail-type's schema document in docs/events/."""
    return f"{detail_type.lower().replace(' ', '-')}.v{SCHEMA_VERSION}.json"
