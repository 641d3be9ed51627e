"""Changing a close-the-loop task from the API: assign it, add a note, move its status, resolve or reopen it.

The change is decided on the task as read (domain/loop.py `plan_edit`: the allowed moves, the room for notes,
the history entries) and written conditional on the revision read, so of two people saving at once one gets
409 instead of both applying. With If-Match, the revision read must also be one the client names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain import loop
from chalicelib.domain.errors import Conflict
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
    edit = loop.plan_edit(
        status=task.status,
        owner=task.owner,
        notes=list(task.notes or []),
        history=[dict(h) for h in (task.history or [])],
        change=change,
        actor=actor,
        now=now,
    )
    if edit.is_empty():
        return task
    if not task_store.write_edit(task, revision, edit):
        raise Conflict("The task changed meanwhile; read it again.", code="concurrent_change")
    return task
