"""The contact directory's rules: which fields a contact has, how they are checked, and the status the service
keeps (derived from the moments it recorded, never set by a caller)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain import languages
from chalicelib.domain.errors import Invalid
from chalicelib.domain.validation import (
    ID_RE,
    LANGUAGE_RE,
    FieldErrors,
    identifier,
    is_email,
    json_object,
    require_object,
    text,
)

STATUSES = ("active", "unsubscribed", "bounced", "complained", "erased")
# What a caller may set. `status` is the service's: named here only to refuse it with a clear message.
FIELDS = ("email", "name", "account_id", "role", "language", "timezone", "attributes")
READ_ONLY = frozenset({"status", "created_at", "updated_at"})
ROLE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")
ROLES_EXAMPLE = "decision_maker, influencer, user"
MAX_ATTRIBUTES = 30
# IANA zone names: Area/Location with letters, digits, _ + - (and UTC, GMT, Etc/GMT+5...). Checked against the
# zone database after this shape test, so a path like ../../etc never reaches the file lookup.
_ZONE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]{0,30}(/[A-Za-z0-9][A-Za-z0-9_+-]{0,30}){0,2}\Z")


def status_of(
    *,
    erased_at: datetime | None,
    complained_at: datetime | None,
    bounced_at: datetime | None,
    unsubscribed_at: datetime | None,
) -> str:
    """The contact's status, the strongest of what happened: erased, complained, bounced, unsubscribed."""
    if erased_at is not None:
        return "erased"
    if complained_at is not None:
        return "complained"
    if bounced_at is not None:
        return "bounced"
    if unsubscribed_at is not None:
        return "unsubscribed"
    return "active"


def timezone_name(value: str) -> str | None:
    """`value` when it names a zone of the IANA database, else None."""
    if not _ZONE_RE.match(value):
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return value


def _attributes(errors: FieldErrors, value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or len(value) > MAX_ATTRIBUTES
        or not all(
            isinstance(k, str) and 0 < len(k) <= 50 and isinstance(v, (str, int, float, bool)) and len(str(v)) <= 200
            for k, v in value.items()
        )
    ):
        errors.add("attributes", f"must be an object of at most {MAX_ATTRIBUTES} short scalar values")
        return None
    return dict(value) or None


def fields(body: object, *, allow_id: bool = False) -> dict[str, Any]:
    """A directory entry's fields from a PUT body (or an import row, with `contact_id`), every problem named
    at once. `account_id` is required: a contact belongs to one account. Absent optional fields are None, so
    a PUT replaces the entry as a whole."""
    allowed = set(FIELDS) | READ_ONLY | ({"contact_id"} if allow_id else set())
    required = {"account_id"} | ({"contact_id"} if allow_id else set())
    errors = require_object(body, allowed, required)
    row: Mapping[str, object] = json_object(body)
    for key in READ_ONLY & set(row):
        errors.add(key, "is kept by the service and cannot be set")
    out: dict[str, Any] = {
        "account_id": identifier(errors, row, "account_id"),
        "email": text(errors, row, "email", max_len=320) or None,
        "name": text(errors, row, "name", max_len=200) or None,
        "role": text(errors, row, "role", max_len=40) or None,
        "language": text(errors, row, "language", max_len=35) or None,
        "timezone": text(errors, row, "timezone", max_len=64) or None,
        "attributes": _attributes(errors, row.get("attributes")),
    }
    if allow_id:
        out["contact_id"] = identifier(errors, row, "contact_id")
    if out["email"] and not is_email(out["email"]):
        errors.add("email", "is not an email address")
    if out["role"] and not ROLE_RE.match(out["role"]):
        errors.add("role", f"must be 1-40 lower-case letters, digits or _, starting with a letter ({ROLES_EXAMPLE})")
    if out["language"]:
        tag = languages.normalize(out["language"]) if LANGUAGE_RE.match(out["language"]) else None
        if tag:
            out["language"] = tag
        else:
            errors.add("language", "must be a language tag such as en, de or pt-BR")
    if out["timezone"] and timezone_name(out["timezone"]) is None:
        errors.add("timezone", "must be an IANA time zone such as Europe/Berlin or America/New_York")
    errors.raise_if_any("The contact is invalid.")
    return out


def check_id(contact_id: str) -> str:
    """The path's contact id, or Invalid."""
    if not ID_RE.match(contact_id):
        raise Invalid("contact_id is not valid.", fields={"contact_id": "invalid"})
    return contact_id
