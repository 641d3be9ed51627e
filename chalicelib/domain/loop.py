"""Close-the-loop rules: which answers open a task, when it is due, and how its status may move."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain.validation import DEFAULT_SLA_HOURS, MAX_SLA_HOURS, FieldErrors, require_object, text
from chalicelib.errors import Conflict

TASK_KIND = {"detractor": "recovery", "passive": "follow_up", "promoter": "advocacy"}
STATUSES = ("open", "in_progress", "escalated", "resolved")
OPEN_STATUSES = ("open", "in_progress", "escalated")
# Imported history is not actionable: an answer older than this opens no task.
MAX_TASK_AGE = timedelta(days=14)

TRANSITIONS = {
    "open": {"in_progress", "escalated", "resolved"},
    "in_progress": {"open", "escalated", "resolved"},
    "escalated": {"in_progress", "resolved"},
    "resolved": {"open"},
}


def opens_task(category: str, categories: list[str], submitted_at: datetime, now: datetime, erased: bool) -> bool:
    """A response opens a task when its category is in the survey's loop rules and it is recent."""
    return not erased and category in categories and now - submitted_at <= MAX_TASK_AGE


def sla_hours(rules: dict) -> int:
    return max(1, min(int(rules.get("sla_hours") or DEFAULT_SLA_HOURS), MAX_SLA_HOURS))


def due_at(created_at: datetime, hours: int) -> datetime:
    return created_at + timedelta(hours=max(1, min(hours, MAX_SLA_HOURS)))


def check_transition(current: str, new: str) -> None:
    if new not in TRANSITIONS.get(current, set()):
        raise Conflict(f"A task that is {current} cannot become {new}.", code="invalid_transition")


PATCH_FIELDS = {"status", "owner", "note", "root_cause", "resolution"}


def task_patch(body) -> dict:
    """Validate a PATCH body: assign (owner), add a note, change status, resolve with a root cause, reopen."""
    errors: FieldErrors = require_object(body, PATCH_FIELDS)
    out = {
        "status": body.get("status"),
        "owner": text(errors, body, "owner", max_len=200, min_len=1),
        "note": text(errors, body, "note", max_len=2000, min_len=1),
        "root_cause": text(errors, body, "root_cause", max_len=200, min_len=1),
        "resolution": text(errors, body, "resolution", max_len=2000, min_len=1),
    }
    if out["status"] is not None and out["status"] not in STATUSES:
        errors.add("status", "must be one of " + ", ".join(STATUSES))
    if out["status"] == "resolved" and not out["root_cause"]:
        errors.add("root_cause", "required to resolve a task")
    if (out["root_cause"] or out["resolution"]) and out["status"] != "resolved":
        errors.add("status", "root_cause and resolution go with status resolved")
    if not any(v is not None for v in out.values()):
        errors.add("body", "nothing to change")
    errors.raise_if_any()
    return out


def is_overdue(status: str, due: datetime, now: datetime) -> bool:
    return status in OPEN_STATUSES and due < now
