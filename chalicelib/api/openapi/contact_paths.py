"""The operations of the contact directory (erasure is with the accounts), and of one invitation's deliveries."""

from __future__ import annotations

from chalicelib.api.openapi.fragments import (
    ATTRIBUTES_MAX,
    BODY,
    EMAIL_MAX,
    ID,
    JSON,
    LIST,
    PERSON_TEXT_MAX,
    TIMESTAMP,
    Operations,
    ecma,
    import_operation,
    list_page,
    list_params,
    nullable,
    object_schema,
    ok_answer,
    query_param,
    ref,
    request_body,
    string,
)
from chalicelib.domain import contacts as rules
from chalicelib.domain import sending
from chalicelib.domain import validation as v

CONTACT_BODY = 64 * 1024


def _schemas() -> dict:
    attributes = {
        "type": "object",
        "maxProperties": ATTRIBUTES_MAX,
        "propertyNames": {"minLength": 1, "maxLength": 50},
        "additionalProperties": {"type": ["string", "number", "boolean"]},
    }
    given = {
        "account_id": ID,
        "email": nullable(string(EMAIL_MAX, format="email")),
        "name": nullable(string(PERSON_TEXT_MAX)),
        "role": nullable(string(40, pattern=ecma(rules.ROLE_RE), examples=["decision_maker", "user"])),
        "language": nullable(string(35, pattern=ecma(v.LANGUAGE_RE), examples=["en", "pt-BR"])),
        "timezone": nullable(string(64, examples=["Europe/Berlin"])),
        "attributes": nullable(attributes),
    }
    stored = {
        **given,
        "contact_id": string(),
        "attributes": attributes,
        "status": {"enum": list(rules.STATUSES)},
        **{k: nullable(TIMESTAMP) for k in ("created_at", "updated_at", "unsubscribed_at", "bounced_at")},
        "complained_at": nullable(TIMESTAMP),
        "erased_at": TIMESTAMP,
    }
    email_state = object_schema(
        {
            "state": {"enum": ["sending", "sent", "skipped", "failed", "retry"]},
            "at": TIMESTAMP,
            "claimed_at": TIMESTAMP,
            "message_id": string(),
            "error": string(),
            "reason": {"enum": list(sending.NOT_SENT)},
            "language": string(),
        },
        {"state"},
        closed=False,
    )
    history = object_schema(
        {
            "at": TIMESTAMP,
            "event": {"enum": list(sending.HISTORY_EVENTS)},
            "kind": {"enum": list(sending.KINDS)},
        },
        {"at", "event", "kind"},
        closed=False,
    )
    invitation = object_schema(
        {
            "invitation_id": string(),
            "survey_id": string(),
            "contact_id": string(),
            "account_id": string(),
            "created_at": TIMESTAMP,
            "expires_at": TIMESTAMP,
            "send_at": nullable(TIMESTAMP),
            "wave_id": nullable(string(description="The relationship wave that made it, if one did.")),
            "answered": {"type": "boolean"},
            "emails": {
                "type": "object",
                "propertyNames": {"enum": list(sending.KINDS)},
                "additionalProperties": email_state,
            },
            "history": {"type": "array", "items": history},
        },
        {"invitation_id", "survey_id", "emails", "history"},
    )
    return {
        "Invitation": invitation,
        "DirectoryEntryInput": object_schema(given, {"account_id"}),
        "DirectoryEntry": object_schema(stored, {"contact_id", "status"}),
    }


def add(op: Operations, schemas: dict) -> None:
    schemas.update(_schemas())
    op(
        "PUT",
        "/v1/contacts/{contact_id}",
        "Create or replace a directory entry; `status` is the service's. An erased person is refused (410).",
        scope="write",
        ok={201: ok_answer(ref("DirectoryEntry"), "Created."), 200: ok_answer(ref("DirectoryEntry"), "Replaced.")},
        errors=(*BODY, 410),
        body=request_body({JSON: ref("DirectoryEntryInput")}, CONTACT_BODY),
        path_params=[{"name": "contact_id", "schema": ID}],
        tag="contacts",
    )
    op(
        "GET",
        "/v1/contacts/{contact_id}",
        "One directory entry with its status (an erased one shows only its id, status and erased_at).",
        scope="read",
        ok={200: ok_answer(ref("DirectoryEntry"))},
        path_params=[{"name": "contact_id"}],
        tag="contacts",
    )
    op(
        "GET",
        "/v1/contacts",
        "List the directory, or one account's contacts in contact_id order.",
        scope="read",
        ok={200: ok_answer(list_page("contacts", "DirectoryEntry"))},
        errors=LIST,
        params=[query_param("account_id", ID), *list_params("/v1/contacts")],
        tag="contacts",
    )
    import_operation(
        op,
        "/v1/contacts/import",
        "Import directory entries from CSV (attributes as `attributes.<name>` columns or one JSON cell) or "
        "NDJSON; each row is accepted or rejected, unchanged rows are not written.",
        "contacts",
    )
    op(
        "GET",
        "/v1/invitations/{invitation_id}",
        "One invitation: its link's life, each email's state (invitation, reminders) and the delivery history.",
        scope="read",
        ok={200: ok_answer(ref("Invitation"))},
        path_params=[{"name": "invitation_id"}],
        tag="invitations",
    )
