"""Changing a close-the-loop task from the API: assign it, add a note, move its status, resolve or reopen it.

The change is decided on the task as read (domain/loop.py `plan_edit`: the allowed moves, the room for notes,
the history entries) and written conditional on the revision read, so of two people saving at once one gets
409 instead of both applying. With If-Match, the revision read must also be one the client names.

A move to escalated, to resolved, or from resolved back to open publishes its event (Task Escalated, Resolved,
Reopened) once written, made from the history entry it wrote. When the bus still refuses it after the retries,
the answer is 503 (the change is kept): the same request sent again finds the task already there, and publishes
the event of the move into that status again, with the same id, before it answers as a repeat does (200 with
nothing changed, or 409 for resolving a resolved task).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain import events as bus_events
from chalicelib.domain import loop
from chalicelib.domain.errors import Conflict
from chalicelib.store import event_bus
from chalicelib.store import tasks as task_store
from chalicelib.store.models import LoopTask


def change_task(
    task_id: str, change: dict[str, Any], actor: str, now: datetime, if_match: set[int] | None = None
) -> LoopTask:
    """Apply a validated PATCH (`loop.task_patch`); the task as it is after it."""
    task = task_store.get(task_id)
    revision = task_store.revision_of(task)
    if if_match is not None and revision not in if_match:
        raise Conflict(
            "The task changed since you read it; read it again.",
            code="concurrent_change",
            fields={"If-Match": f'the task is at "{revision}"'},
        )
    history = [dict(h) for h in (task.history or [])]
    repeated = change["status"] is not None and change["status"] == task.status
    try:
        edit = loop.plan_edit(
            status=task.status,
            owner=task.owner,
            notes=list(task.notes or []),
            history=history,
            change=change,
            actor=actor,
            now=now,
        )
    except Conflict:
        if repeated:  # resolving a resolved task: the request may be the repeat of one whose event failed
            _announce_again(task, history)
        raise
    if edit.is_empty():
        if repeated:
            _announce_again(task, history)
        return task
    if not task_store.write_edit(task, revision, edit):
        raise Conflict("The task changed meanwhile; read it again.", code="concurrent_change")
    event_bus.publish_all([e for entry in edit.history_added if (e := _moved(task, entry)) is not None])
    return task


def _moved(task: LoopTask, entry: dict[str, Any]) -> bus_events.Event | None:
    return bus_events.task_moved(
        bus_events.task_facts(task), entry, due_at=task.due_at, manager=task.manager, root_cause=task.root_cause
    )


def _announce_again(task: LoopTask, history: list[dict[str, Any]]) -> None:
    entry = bus_events.latest_move_into(history, task.status)
    event = _moved(task, dict(entry)) if entry is not None else None
    if event is not None:
        event_bus.publish_all([event])
