"""An answer's fields, as each channel posts them: the 0-10 score, the comment and the drivers, and what an
email link's page (signal, view, submission) or the widget (contact, account, identity, page) adds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from chalicelib.domain.validation import FieldErrors, identifier, json_object, require_object, string_list, text

MAX_COMMENT = 2000
# Ids the survey page makes for each page view and each submission.
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}\Z")
SIGNALS = ("gesture", "dwell")

SCORE_TEXT_RE = re.compile(r"^\s*[0-9]{1,2}\s*$")


def score_value(errors: FieldErrors, body: Mapping[str, object], *, strict: bool = False) -> int | None:
    """The 0-10 score. Text digits are accepted only when not `strict` (forms and CSV carry text); a JSON
    body must send a number."""
    if "score" not in body or body["score"] is None:
        errors.add("score", "required")
        return None
    value = body["score"]
    if not strict and isinstance(value, str) and SCORE_TEXT_RE.match(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        errors.add("score", "must be an integer from 0 to 10")
        return None
    return value


def answer(
    body: object, survey_drivers: list[str], extra_fields: AbstractSet[str] = frozenset(), *, form: bool = False
) -> tuple[dict[str, Any], FieldErrors]:
    """Validate score, comment and drivers; the caller validates its extra fields and raises.

    `comment` and `drivers` are in the result only when the body has them: absent means "leave as it is" to
    a later update, present and empty (or null) means "clear". A JSON body (`form=False`) must send the score
    as a number and drivers as a list; a form sends text, and one checked driver as a single value.
    """
    errors = require_object(body, {"score", "comment", "drivers"} | set(extra_fields))
    body = json_object(body)
    out: dict[str, Any] = {"score": score_value(errors, body, strict=not form)}
    if "comment" in body:
        out["comment"] = text(errors, body, "comment", max_len=MAX_COMMENT, default=None) or None
    if "drivers" in body:
        drivers = body["drivers"]
        if form and isinstance(drivers, str):
            drivers = [drivers]
        drivers = string_list(errors, {"drivers": drivers}, "drivers", max_items=20, max_len=100)
        unknown = [d for d in drivers if d not in survey_drivers]
        if unknown:
            errors.add("drivers", f"not a driver of this survey: {', '.join(unknown)}")
        out["drivers"] = drivers
    return out, errors


LINK_FIELDS = {"signal", "view", "submission"}


def link_answer(body: object, survey_drivers: list[str], *, form: bool = False) -> dict[str, Any]:
    """An answer posted to an email link: the answer's fields, plus `signal` ("gesture", the default, or
    "dwell": the page was left open without a gesture), the page `view` id (required with dwell) and a
    `submission` id that makes a replay change nothing. A form carries only `submission`."""
    out, errors = answer(body, survey_drivers, {"submission"} if form else LINK_FIELDS, form=form)
    body = json_object(body)  # answer() has refused anything else
    signal = body.get("signal", "gesture")
    if signal not in SIGNALS:
        errors.add("signal", "must be gesture or dwell")
    out["signal"] = signal if signal in SIGNALS else "gesture"
    for field in ("view", "submission"):
        value = body.get(field)
        if value is not None and (not isinstance(value, str) or not CLIENT_ID_RE.match(value)):
            errors.add(field, "must be 8 to 64 letters, digits, _ or -")
            value = None
        out[field] = value
    if out["signal"] == "dwell":
        if not out["view"] and "view" not in errors.fields:
            errors.add("view", "required with signal dwell")
        for field in ("comment", "drivers"):
            if field in body:
                errors.add(field, "a dwell carries the score only")
    errors.raise_if_any()
    return out


WIDGET_FIELDS = {"contact_id", "account_id", "identity", "page"}


def widget_answer(body: object, survey_drivers: list[str]) -> dict[str, Any]:
    out, errors = answer(body, survey_drivers, WIDGET_FIELDS)
    body = json_object(body)  # answer() has refused anything else
    out["contact_id"] = identifier(errors, body, "contact_id")
    out["account_id"] = identifier(errors, body, "account_id")
    out["identity"] = text(errors, body, "identity", max_len=128, default=None)
    out["page"] = text(errors, body, "page", max_len=2048, default=None)
    if out["identity"] and not out["contact_id"]:
        errors.add("identity", "needs contact_id")
    errors.raise_if_any()
    return out
