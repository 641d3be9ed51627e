"""An account's fields, as PUT and the accounts import take them: owner, manager, segment, status and revenue
by month."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.months import MONTH_RE
from chalicelib.domain.validation import FieldErrors, identifier, json_object, require_object, text

ACCOUNT_STATUSES = ("active", "churned", "trial", "paused")

ACCOUNT_FIELDS = {"name", "segment", "owner", "manager", "revenue", "status"}


def revenue(errors: FieldErrors, value: object) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add("revenue", 'must be an object like {"2026-01": 1200.0}')
        return {}
    out: dict[str, float] = {}
    for month, amount in value.items():
        if not isinstance(month, str) or not MONTH_RE.match(month):
            errors.add("revenue", f"{month!r} is not a month like 2026-01")
            continue
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0 or amount > 1e12:
            errors.add("revenue", f"revenue for {month} must be a number from 0")
            continue
        if amount != amount:  # NaN
            errors.add("revenue", f"revenue for {month} must be a number")
            continue
        out[month] = float(amount)
    return out


def account(body: object, *, allow_id: bool = False) -> dict[str, Any]:
    allowed = ACCOUNT_FIELDS | ({"account_id"} if allow_id else set())
    errors = require_object(body, allowed, {"account_id"} if allow_id else set())
    body = json_object(body)
    out: dict[str, Any] = {
        "name": text(errors, body, "name", max_len=200, default=None),
        "segment": text(errors, body, "segment", max_len=100, default=None),
        "owner": text(errors, body, "owner", max_len=200, default=None),
        "manager": text(errors, body, "manager", max_len=200, default=None),
        "revenue": revenue(errors, body.get("revenue")),
        "status": body.get("status", "active"),
    }
    if out["status"] not in ACCOUNT_STATUSES:
        errors.add("status", "must be one of " + ", ".join(ACCOUNT_STATUSES))
    if allow_id:
        out["account_id"] = identifier(errors, body, "account_id")
    errors.raise_if_any()
    return out
