"""Close-the-loop rules: which answers open a task, when it is due, and how its status may move."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import Conflict, Invalid, Malformed
from chalicelib.domain.validation import FieldErrors, json_object, require_object, text

TASK_KIND = {"detractor": "recovery", "passive": "follow_up", "promoter": "advocacy"}
STATUSES = ("open", "in_progress", "escalated", "resolved")
OPEN_STATUSES = ("open", "in_progress", "escalated")
# A task is due within the survey's SLA: 48 hours unless it sets its own, never more than two weeks.
DEFAULT_SLA_HOURS = 48
MAX_SLA_HOURS = 14 * 24
# Imported history is not actionable: an answer older than this opens no task.
MAX_TASK_AGE = timedelta(days=14)

# A task is one DynamoDB item (at most 400 KB): notes and history are bounded so that, with the longest comment,
# drivers and resolution, an item stays under about 200 KB whatever the API or the stream does.
MAX_NOTE_CHARS = 2000
MAX_NOTES = 100
MAX_NOTES_BYTES = 64 * 1024  # the UTF-8 text of all notes together (2,000 characters may be 8 KB)
MAX_HISTORY = 50  # the first entry ("opened") and the latest ones are kept
ERASED_TEXT = "[removed: the person was erased]"

TRANSITIONS = {
    "open": {"in_progress", "escalated", "resolved"},
    "in_progress": {"open", "escalated", "resolved"},
    "escalated": {"in_progress", "resolved"},
    "resolved": {"open"},
}


def opens_task(
    category: str, categories: list[str], submitted_at: datetime, now: datetime, erased: bool, *, attributed: bool
) -> bool:
    """A response opens a task when its category is in the survey's loop rules, it is recent, and it names an
    account or a contact: an anonymous answer still counts in NPS, but nobody could reach the person."""
    return attributed and not erased and category in categories and now - submitted_at <= MAX_TASK_AGE


def note_refusal(notes: list[dict[str, Any]], note: str) -> str | None:
    """Why a task cannot take this note (its notes are full), or None when it can."""
    if len(notes) >= MAX_NOTES:
        return f"This task already has {MAX_NOTES} notes, the most a task keeps."
    used = sum(len(str(n.get("text") or "").encode()) for n in notes)
    if used + len(note.encode()) > MAX_NOTES_BYTES:
        return (
            f"The notes of a task are limited to {MAX_NOTES_BYTES // 1024} KB of text in all; "
            f"this task has {max(0, MAX_NOTES_BYTES - used)} bytes left."
        )
    return None


def bounded_history(history: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History with the new entries, trimmed to MAX_HISTORY: the first entry and the latest ones stay."""
    merged = list(history) + list(new)
    if len(merged) <= MAX_HISTORY:
        return merged
    return merged[:1] + merged[len(merged) - (MAX_HISTORY - 1) :]


_ETAG = re.compile(r'^\s*(W/)?"([\x21\x23-\x7e]*)"\s*$')


def if_match_revisions(value: str | None) -> set[int] | None:
    """The revisions an If-Match header accepts: None when absent or `*` (any), else the revisions of the strong
    entity tags it names (weak tags and tags this API never sent match nothing, as RFC 9110 says); 400 for a
    header that is not a list of entity tags."""
    if value is None or value.strip() == "*":
        return None
    revisions = set()
    for part in value.split(","):
        found = _ETAG.match(part)
        if not found:
            raise Malformed('If-Match must be "*" or entity tags such as "3".', fields={"If-Match": "invalid"})
        weak, tag = found.groups()
        if not weak and tag.isdigit() and len(tag) <= 18:
            revisions.add(int(tag))
    return revisions


def sla_hours(rules: Mapping[str, Any]) -> int:
    return max(1, min(int(rules.get("sla_hours") or DEFAULT_SLA_HOURS), MAX_SLA_HOURS))


def due_at(created_at: datetime, hours: int) -> datetime:
    return created_at + timedelta(hours=max(1, min(hours, MAX_SLA_HOURS)))


def check_transition(current: str, new: str) -> None:
    if new not in TRANSITIONS.get(current, set()):
        raise Conflict(f"A task that is {current} cannot become {new}.", code="invalid_transition")


PATCH_FIELDS = {"status", "owner", "note", "root_cause", "resolution"}


def task_patch(body: object) -> dict[str, Any]:
    """Validate a PATCH body: assign (owner), add a note, change status, resolve with a root cause, reopen."""
    errors: FieldErrors = require_object(body, PATCH_FIELDS)
    body = json_object(body)
    out: dict[str, Any] = {
        "status": body.get("status"),
        "owner": text(errors, body, "owner", max_len=200, min_len=1),
        "note": text(errors, body, "note", max_len=MAX_NOTE_CHARS, min_len=1),
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


# ---- what a change writes --------------------------------------------------------------------------------


@dataclass
class Edit:
    """What one PATCH writes to a task, decided from the task as read: each field None when it stays."""

    owner: str | None = None
    note: dict[str, Any] | None = None
    status: str | None = None
    # resolved: (closed_at, root_cause, resolution or None); reopened clears all three
    resolved: tuple[datetime, str, str | None] | None = None
    reopened: bool = False
    # the entries to append, or (when the bound is reached) the whole history to write instead
    history_added: list[dict[str, Any]] = field(default_factory=list)
    history_whole: list[dict[str, Any]] | None = None

    def is_empty(self) -> bool:
        return self.owner is None and self.note is None and self.status is None


def plan_edit(
    *,
    status: str,
    owner: str | None,
    notes: list[dict[str, Any]],
    history: list[dict[str, Any]],
    change: Mapping[str, Any],
    actor: str,
    now: datetime,
) -> Edit:
    """The edit a validated PATCH (`task_patch`) makes to a task with this status, owner, notes and history:
    assigning to someone else records who had it; a note needs room; a status moves only as TRANSITIONS allow
    (409 otherwise, and for resolving a resolved task); resolving sets the root cause, reopening clears it."""
    edit = Edit()
    stamp = timestamp(now)
    new_owner = change["owner"]
    if new_owner and new_owner != owner:
        edit.owner = new_owner
        edit.history_added.append({"at": stamp, "by": actor, "change": "assigned", "from": owner, "to": new_owner})
    if change["note"]:
        refusal = note_refusal(notes, change["note"])
        if refusal:
            raise Invalid(refusal, fields={"note": "no room for another note on this task"})
        edit.note = {"at": stamp, "by": actor, "text": change["note"]}
    new_status = change["status"]
    if new_status and new_status != status:
        check_transition(status, new_status)
        edit.status = new_status
        edit.history_added.append({"at": stamp, "by": actor, "change": "status", "from": status, "to": new_status})
        if new_status == "resolved":
            edit.resolved = (now, change["root_cause"], change["resolution"] or None)
        elif status == "resolved":
            edit.reopened = True
    elif new_status and new_status == status and new_status == "resolved":
        raise Conflict("The task is already resolved.", code="invalid_transition")
    if edit.history_added and len(history) + len(edit.history_added) > MAX_HISTORY:
        edit.history_whole = bounded_history(history, edit.history_added)
    return edit


def opened_entry(owner: str, now: datetime) -> dict[str, Any]:
    """The first history entry of a task the stream opens."""
    return {"at": timestamp(now), "by": "stream", "change": "opened", "to": "open", "owner": owner}


def rescore_note(old_score: int, score: int, category: str, version: int, now: datetime) -> dict[str, Any]:
    """The note a task gets when its response is scored again."""
    return {
        "at": timestamp(now),
        "by": "stream",
        "text": f"Re-scored from {old_score} to {score} ({category}).",
        "version": version,
    }


def escalation_entry(status: str, manager: str | None, now: datetime) -> dict[str, Any]:
    """The history entry of the SLA sweep's escalation (naming the manager it went to, when there is one)."""
    entry = {"at": timestamp(now), "by": "sla_sweep", "change": "escalated", "from": status, "to": "escalated"}
    if manager:
        entry["manager"] = manager
    return entry
