"""The document's component schemas: the bodies the API takes and the answers it gives."""

from __future__ import annotations

from chalicelib.api.openapi.fragments import (
    ATTRIBUTES_MAX,
    CLIENT_ID,
    DRIVER_MAX,
    DRIVERS,
    EMAIL_MAX,
    FALLBACK_OWNER_MAX,
    ID,
    IDENTITY_MAX,
    MONTH,
    ORIGIN_MAX,
    ORIGINS_MAX_ITEMS,
    PAGE_MAX,
    PERSON_TEXT_MAX,
    QUESTION_MAX,
    RESOLUTION_MAX,
    REVENUE_MAX,
    SCORE,
    SEGMENT_MAX,
    SURVEY_NAME_MAX,
    THEME_TEXT_MAX,
    THEMES_MAX,
    THROTTLE_DAYS_MAX,
    TIMESTAMP,
    TOUCHPOINT_MAX,
    ecma,
    nullable,
    object_schema,
    string,
)
from chalicelib.api.openapi.string_schemas import survey_strings_schema
from chalicelib.api.openapi.wave_paths import wave_rules_fields
from chalicelib.domain import account_fields as account_rules
from chalicelib.domain import answers, loop, send_window, survey_definition, waves
from chalicelib.domain import invitations as invitation_rules
from chalicelib.domain import validation as v
from chalicelib.domain.months import MONTH_RE
from chalicelib.domain.nps import CATEGORIES


def component_schemas() -> dict:
    loop_rules = object_schema(
        {
            "categories": {"type": "array", "maxItems": len(CATEGORIES), "items": {"enum": list(CATEGORIES)}},
            "sla_hours": {"type": "integer", "minimum": 1, "maximum": loop.MAX_SLA_HOURS},
            "fallback_owner": nullable(string(FALLBACK_OWNER_MAX)),
        }
    )
    themes = {
        "type": "object",
        "maxProperties": THEMES_MAX,
        "propertyNames": {"minLength": 1, "maxLength": THEME_TEXT_MAX},
        "additionalProperties": {"type": "array", "minItems": 1, "items": string(THEME_TEXT_MAX, 1)},
        "description": "Theme name to its keywords.",
    }
    strings = survey_strings_schema()
    hhmm = string(pattern=ecma(send_window.HHMM_RE), examples=["09:00"])
    send_window_schema = object_schema(
        {
            "days": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": list(send_window.DAYS)}},
            "start": hhmm,
            "end": hhmm,
            "timezone": string(64, examples=["Europe/Berlin"]),
        },
        description="When emails may go (the contact's time zone first); the default is mon-fri 09:00-17:00 UTC.",
    )
    reminders_schema = object_schema(
        {
            "count": {"type": "integer", "minimum": 0, "maximum": send_window.MAX_REMINDERS},
            "after_days": {"type": "integer", "minimum": 1, "maximum": send_window.MAX_REMINDER_DAYS},
        },
        description="Reminders to those who have not answered; the default is one, 7 days later.",
    )
    schedule_schema = object_schema(
        {
            "every_days": {"type": "integer", "minimum": 1, "maximum": waves.MAX_EVERY_DAYS},
            **wave_rules_fields(),
        },
        {"every_days"},
        description="Relationship waves started by themselves every `every_days` days (domain/waves.py).",
    )
    survey_fields = {
        "name": string(SURVEY_NAME_MAX, 1),
        "kind": {"enum": list(survey_definition.SURVEY_KINDS), "default": survey_definition.SURVEY_KINDS[0]},
        "touchpoint": nullable(string(TOUCHPOINT_MAX)),
        "question": string(QUESTION_MAX, 1, default=survey_definition.DEFAULT_QUESTION),
        "drivers": DRIVERS,
        "allowed_origins": {
            "type": "array",
            "maxItems": ORIGINS_MAX_ITEMS,
            "items": string(ORIGIN_MAX, 1, description="A web origin such as https://example.com."),
        },
        "throttle_days": {"type": "integer", "minimum": 0, "maximum": THROTTLE_DAYS_MAX, "default": 90},
        "loop_rules": nullable(loop_rules),
        "themes": nullable(themes),
        "status": {"enum": ["active", "closed"], "default": "active"},
        "language": nullable(string(pattern=ecma(v.LANGUAGE_RE))),
        "strings": nullable(strings),
        "anonymous_answers": nullable({"enum": list(survey_definition.ANONYMOUS_ANSWERS)}),
        "send_window": nullable(send_window_schema),
        "reminders": nullable(reminders_schema),
        "schedule": nullable(schedule_schema),
    }
    assert set(survey_fields) == survey_definition.SURVEY_FIELDS, "the document's survey fields are the validation's"
    survey = object_schema(
        {
            "survey_id": string(),
            **{
                k: s
                for k, s in survey_fields.items()
                if k not in ("loop_rules", "anonymous_answers", "send_window", "reminders")
            },
            "touchpoint": nullable(string()),
            "loop_rules": object_schema(
                {
                    "categories": {"type": "array", "items": {"enum": list(CATEGORIES)}},
                    "sla_hours": {"type": "integer"},
                    "fallback_owner": nullable(string()),
                },
                {"categories", "sla_hours", "fallback_owner"},
            ),
            "themes": nullable({"type": "object", "additionalProperties": {"type": "array", "items": string()}}),
            "strings": nullable(strings),
            "anonymous_answers": {"enum": list(survey_definition.ANONYMOUS_ANSWERS)},
            "send_window": send_window_schema,
            "reminders": reminders_schema,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
        {"survey_id", *survey_definition.SURVEY_FIELDS, "created_at", "updated_at"},
    )
    survey_created = {
        **survey,
        "properties": {**survey["properties"], "identity_secret": string(description="Shown only here.")},
        "required": sorted({*survey["required"], "identity_secret"}),
    }
    contact = object_schema(
        {
            "contact_id": ID,
            "account_id": ID,
            "email": nullable(string(EMAIL_MAX, pattern=ecma(v.EMAIL_RE))),
            "name": nullable(string(PERSON_TEXT_MAX)),
            "attributes": nullable(
                {
                    "type": "object",
                    "maxProperties": ATTRIBUTES_MAX,
                    "additionalProperties": {"type": ["string", "number", "integer", "boolean"]},
                }
            ),
        },
        {"contact_id"},
    )
    assert set(contact["properties"]) == invitation_rules.CONTACT_FIELDS
    account_fields = {
        "name": nullable(string(PERSON_TEXT_MAX)),
        "segment": nullable(string(SEGMENT_MAX)),
        "owner": nullable(string(PERSON_TEXT_MAX)),
        "manager": nullable(string(PERSON_TEXT_MAX)),
        "revenue": nullable(
            {
                "type": "object",
                "propertyNames": {"pattern": ecma(MONTH_RE)},
                "additionalProperties": {"type": "number", "minimum": 0, "maximum": REVENUE_MAX},
                "description": 'Revenue by month, like {"2026-01": 1200.0}.',
            }
        ),
        "status": {"enum": list(account_rules.ACCOUNT_STATUSES), "default": "active"},
    }
    assert set(account_fields) == account_rules.ACCOUNT_FIELDS
    answer_fields = {
        "score": SCORE,
        "comment": nullable(string(answers.MAX_COMMENT)),
        "drivers": nullable(DRIVERS),
    }
    link_answer = object_schema(
        {
            **answer_fields,
            "signal": {"enum": list(answers.SIGNALS), "default": answers.SIGNALS[0]},
            "view": nullable(CLIENT_ID),
            "submission": nullable(CLIENT_ID),
        },
        {"score"},
        description="`signal` dwell (the page stayed open) needs `view` and carries the score only.",
    )
    assert set(link_answer["properties"]) == {"score", "comment", "drivers"} | answers.LINK_FIELDS
    link_form = object_schema(
        {
            "score": {"type": ["integer", "string"], "description": "0 to 10, as the form's text."},
            "comment": string(answers.MAX_COMMENT),
            "drivers": {"type": "array", "items": string(DRIVER_MAX)},
            "submission": CLIENT_ID,
        },
        {"score"},
    )
    widget_answer = object_schema(
        {
            **answer_fields,
            "contact_id": nullable(ID),
            "account_id": nullable(ID),
            "identity": nullable(
                string(IDENTITY_MAX, description="The signature of contact_id and account_id (needs contact_id).")
            ),
            "page": nullable(string(PAGE_MAX)),
        },
        {"score"},
    )
    assert set(widget_answer["properties"]) == {"score", "comment", "drivers"} | answers.WIDGET_FIELDS
    response = object_schema(
        {
            "response_id": string(),
            "survey_id": string(),
            "score": SCORE,
            "comment": nullable(string()),
            "drivers": {"type": "array", "items": string()},
            "channel": nullable(string()),
            "submitted_at": nullable(TIMESTAMP),
            "updated_at": nullable(TIMESTAMP),
            "contact_id": nullable(string()),
            "account_id": nullable(string()),
            "invitation_id": nullable(string()),
            "external_id": nullable(string()),
            "touchpoint": nullable(string()),
            "status": string(),
            "excluded_reason": nullable(string()),
            "erased": {"type": "boolean"},
        },
        {"response_id", "survey_id", "score", "status", "erased"},
    )
    account = object_schema(
        {
            "account_id": string(),
            **{k: nullable(string()) for k in ("name", "segment", "owner", "manager")},
            "revenue": {"type": "object", "additionalProperties": {"type": "number"}},
            "status": {"enum": list(account_rules.ACCOUNT_STATUSES)},
            "updated_at": nullable(TIMESTAMP),
        },
        {"account_id", "revenue", "status"},
        closed=False,
    )
    standing = {
        "latest_score": nullable(SCORE),
        "latest_category": nullable({"enum": list(CATEGORIES)}),
        "latest_response_id": nullable(string()),
        "latest_submitted_at": nullable(TIMESTAMP),
        "category": string(),
        "nps": nullable({"type": "number"}),
        "rated_contacts": {"type": "integer", "minimum": 0},
        "health": nullable(string()),
        "since": MONTH,
    }
    account_with_standing = {
        **account,
        "properties": {**account["properties"], **standing},
        "required": sorted({*account["required"], "category", "rated_contacts"}),
    }
    task = object_schema(
        {
            "task_id": string(),
            "response_id": string(),
            "survey_id": string(),
            "account_id": nullable(string()),
            "contact_id": nullable(string()),
            "kind": {"enum": list(loop.TASK_KIND.values())},
            "category": {"enum": list(CATEGORIES)},
            "score": SCORE,
            "comment": nullable(string()),
            "drivers": {"type": "array", "items": string()},
            "status": {"enum": list(loop.STATUSES)},
            "owner": nullable(string()),
            "manager": nullable(string()),
            "created_at": nullable(TIMESTAMP),
            "due_at": nullable(TIMESTAMP),
            "sla_hours": {"type": "integer"},
            "overdue": {"type": "boolean"},
            "closed_at": nullable(TIMESTAMP),
            "escalated_at": nullable(TIMESTAMP),
            "root_cause": nullable(string()),
            "resolution": nullable(string()),
            "notes": {"type": "array", "items": {"type": "object"}},
            "history": {"type": "array", "items": {"type": "object"}},
            "revision": {"type": "integer"},
        },
        {"task_id", "response_id", "survey_id", "kind", "status", "score", "revision"},
    )
    task_patch = object_schema(
        {
            "status": {"enum": list(loop.STATUSES)},
            "owner": string(PERSON_TEXT_MAX, 1),
            "note": string(loop.MAX_NOTE_CHARS, 1),
            "root_cause": string(PERSON_TEXT_MAX, 1, description="Required with status resolved, only then."),
            "resolution": string(RESOLUTION_MAX, 1, description="Only with status resolved."),
        },
        minProperties=1,
    )
    assert set(task_patch["properties"]) == loop.PATCH_FIELDS
    from chalicelib.store.admin_tokens import SCOPES

    token = object_schema(
        {
            "token_id": string(),
            "name": string(),
            "scopes": {"type": "array", "items": {"enum": list(SCOPES)}},
            "created_at": TIMESTAMP,
            "revoked_at": nullable(TIMESTAMP),
        },
        {"token_id", "name", "scopes", "created_at", "revoked_at"},
    )
    import_report = object_schema(
        {
            "accepted": {"type": "integer", "minimum": 0},
            "rejected": {
                "type": "array",
                "items": object_schema({"line": {"type": "integer"}, "error": string()}, {"line", "error"}),
                "description": "The first 1000 rejected rows.",
            },
            "rejected_count": {"type": "integer", "minimum": 0},
            "written": {"type": "integer", "minimum": 0},
            "unchanged": {"type": "integer", "minimum": 0},
        },
        {"accepted", "rejected", "rejected_count", "written", "unchanged"},
    )
    return {
        "Error": object_schema(
            {
                "error": object_schema(
                    {
                        "code": string(pattern="^[a-z][a-z0-9_]*$", description="Machine-readable, snake_case."),
                        "message": string(description="For a person."),
                        "fields": {
                            "type": "object",
                            "additionalProperties": string(),
                            "description": "Each refused field and its problem.",
                        },
                    },
                    {"code", "message", "fields"},
                )
            },
            {"error"},
        ),
        "SurveyInput": object_schema(survey_fields, {"name"}),
        "SurveyPatch": object_schema(survey_fields, minProperties=1),
        "Survey": survey,
        "SurveyCreated": survey_created,
        "Contact": contact,
        "AccountInput": object_schema(account_fields),
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
        "MonthRun": object_schema(
            {"month": MONTH, "status": {"enum": ["started", "running"]}, "run_id": string()},
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
