"""Invitation rules: the contacts an invitation call names (each checked before anything is written), and who
is not invited again (the unsubscribed, and anyone invited to the survey within its throttle window, or
earlier in the same call)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.errors import Invalid
from chalicelib.domain.validation import identifier, is_email, json_object, require_object, text


def skip_reason(
    *,
    unsubscribed: bool,
    earlier_in_call: bool,
    last_invited: datetime | None,
    throttle_days: int,
    now: datetime,
    status: str = "active",
    last_invited_any: datetime | None = None,
    cross_survey_days: int = 0,
) -> str | None:
    """Why this contact gets no invitation now ("unsubscribed", "bounced", "complained" or "throttled"), or
    None to invite them. `status` is the directory's (an erased person has unsubscribed too). Throttled: invited
    to this survey within its `throttle_days`, or to any survey within the stack's `cross_survey_days`."""
    if status in ("bounced", "complained"):
        return status
    if unsubscribed or status != "active":
        return "unsubscribed"
    window = timedelta(days=throttle_days)
    if earlier_in_call or (last_invited is not None and window and now - last_invited < window):
        return "throttled"
    if (
        cross_survey_days
        and last_invited_any is not None
        and now - last_invited_any < timedelta(days=cross_survey_days)
    ):
        return "throttled"
    return None


CONTACT_FIELDS = {"contact_id", "email", "account_id", "name", "attributes"}


def contact(body: object, index: int) -> dict[str, Any]:
    try:
        errors = require_object(body, CONTACT_FIELDS, {"contact_id"})  # the account: here or in the directory
    except Invalid:
        raise Invalid("Each contact must be an object.", fields={f"contacts[{index}]": "must be an object"}) from None
    body = json_object(body)
    out: dict[str, Any] = {
        "contact_id": identifier(errors, body, "contact_id"),
        "account_id": identifier(errors, body, "account_id"),
        "email": text(errors, body, "email", max_len=320, default=None),
        "name": text(errors, body, "name", max_len=200, default=None),
    }
    if out["email"] and not is_email(out["email"]):
        errors.add("email", "is not an email address")
    attrs = body.get("attributes")
    if attrs is not None and (
        not isinstance(attrs, dict)
        or len(attrs) > 30
        or not all(
            isinstance(k, str) and len(k) <= 50 and isinstance(v, (str, int, float, bool)) and len(str(v)) <= 200
            for k, v in attrs.items()
        )
    ):
        errors.add("attributes", "must be an object of at most 30 short scalar values")
        attrs = None
    out["attributes"] = attrs or {}
    if errors.fields:
        raise Invalid(
            f"Contact {index} is invalid.", fields={f"contacts[{index}].{k}": v for k, v in errors.fields.items()}
        )
    return out
