"""Close-the-loop tasks in DynamoDB. Every write is conditional so a redelivered stream record or a retried
sweep changes nothing the first delivery already did, and every write bumps the task's `revision`, which the
API shows as its ETag: an edit made on a stale read conflicts instead of overwriting what it did not see.

What a task's entries and edits say is decided in domain/loop.py (and, for a PATCH, usecases/task_changes.py);
this module writes them."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import size
from pynamodb.expressions.update import Action

from chalicelib.domain import clock, loop
from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import Conflict, Malformed, NotFound
from chalicelib.domain.months import Month
from chalicelib.store.conditions import condition_failed
from chalicelib.store.models import LoopTask
from chalicelib.store.response_export import start_key

CURSOR_REFUSED = "The 'next' cursor is not one this API gave out."
# A filtered list reads at most this many DynamoDB pages per request; a rare filter then answers a short page
# with a `next` instead of reading the whole table in one request.
MAX_PAGES_PER_REQUEST = 10
PAGE_SIZE = 200


def task_id_for(response_id: str) -> str:
    return clock.stable_id("task", response_id)


def is_permanent(error: Exception) -> bool:
    """A write DynamoDB will refuse however often it is retried (for instance an item over 400 KB)."""
    return getattr(error, "cause_response_code", None) == "ValidationException"


def _bump():
    # Items written before revisions existed read as revision 1 (the model's default) and become 2.
    return LoopTask.revision.set((LoopTask.revision | 1) + 1)


def _at_revision(revision: int):
    condition = LoopTask.revision == revision
    return condition | LoopTask.revision.does_not_exist() if revision == 1 else condition


def revision_of(t: LoopTask) -> int:
    return int(t.revision or 1)


def to_dict(t: LoopTask, now: datetime | None = None) -> dict:
    now = now or clock.utcnow()
    return {
        "task_id": t.task_id,
        "response_id": t.response_id,
        "survey_id": t.survey_id,
        "account_id": t.account_id,
        "contact_id": t.contact_id,
        "kind": t.kind,
        "category": t.category,
        "score": int(t.score),
        "comment": t.comment,
        "drivers": list(t.drivers or []),
        "status": t.status,
        "owner": t.owner,
        "manager": t.manager,
        "created_at": timestamp(t.created_at),
        "due_at": timestamp(t.due_at),
        "sla_hours": int(t.sla_hours),
        "overdue": loop.is_overdue(t.status, t.due_at, now),
        "closed_at": timestamp(t.closed_at),
        "escalated_at": timestamp(t.escalated_at),
        "root_cause": t.root_cause,
        "resolution": t.resolution,
        "notes": [dict(n) for n in (t.notes or [])],
        "history": [dict(h) for h in (t.history or [])],
        "revision": revision_of(t),
    }


def open_task(*, response: dict, category: str, owner: str, manager: str | None, sla_hours: int, now: datetime) -> bool:
    """Open the response's task unless it exists; True when this call opened it."""
    task = LoopTask(
        task_id_for(response["response_id"]),
        response_id=response["response_id"],
        survey_id=response["survey_id"],
        account_id=response.get("account_id"),
        contact_id=response.get("contact_id"),
        kind=loop.TASK_KIND[category],
        category=category,
        score=response["score"],
        comment=None if response.get("erased") else response.get("comment"),
        drivers=None if response.get("erased") else (list(response.get("drivers") or []) or None),
        status="open",
        owner=owner,
        manager=manager,
        month=str(Month.of(now)),
        created_at=now,
        due_at=loop.due_at(now, sla_hours),
        sla_hours=sla_hours,
        notes=[],
        history=[loop.opened_entry(owner, now)],
        last_version=int(response["version"]),
        revision=1,
    )
    try:
        task.save(condition=LoopTask.task_id.does_not_exist(), add_version_condition=False)
    except PutError as error:
        if condition_failed(error):
            return False
        raise
    return True


def follow_response(*, response: dict, old_score: int | None, category: str, now: datetime) -> bool:
    """Bring an existing task up to a newer version of its response: score, comment and drivers, and a note
    when the score changed. Once per response version (last_version); True when this call changed the task.

    The note needs room (loop.MAX_NOTES): when the notes are full, the fields still follow, without a note."""
    version = int(response["version"])
    score = int(response["score"])
    actions = [LoopTask.score.set(score), LoopTask.last_version.set(version), _bump()]
    actions.append(LoopTask.comment.set(response["comment"]) if response.get("comment") else LoopTask.comment.remove())
    drivers = list(response.get("drivers") or [])
    actions.append(LoopTask.drivers.set(drivers) if drivers else LoopTask.drivers.remove())
    condition = LoopTask.task_id.exists() & (LoopTask.last_version < version)
    task = LoopTask(task_id_for(response["response_id"]))
    attempts = [(actions, condition)]
    if old_score is not None and old_score != score:
        note = loop.rescore_note(old_score, score, category, version, now)
        attempts.insert(
            0,
            (
                [*actions, LoopTask.notes.set(LoopTask.notes.append([note]))],
                condition & (size(LoopTask.notes) < loop.MAX_NOTES),
            ),
        )
    for attempt_actions, attempt_condition in attempts:
        try:
            task.update(actions=attempt_actions, condition=attempt_condition, add_version_condition=False)
        except UpdateError as error:
            if condition_failed(error):
                continue  # no task, already at this version, or (with the note) no room for another note
            raise
        return True
    return False


def _anonymised(t: LoopTask) -> bool:
    return (
        t.comment is None
        and not t.drivers
        and t.contact_id is None
        and t.resolution in (None, loop.ERASED_TEXT)
        and all(n.get("text") == loop.ERASED_TEXT for n in (t.notes or []))
    )


def anonymise(response_id: str, attempts: int = 5) -> bool:
    """Erasure: remove the comment, drivers and contact from the response's task and replace the text of every
    note and the resolution (they may quote the person's email or name); kind, category, score, status and
    dates stay. Idempotent; True when the response has a task."""
    for _ in range(attempts):
        try:
            task = LoopTask.get(task_id_for(response_id), consistent_read=True)
        except DoesNotExist:
            return False
        if _anonymised(task):
            return True
        notes = [{**dict(n), "text": loop.ERASED_TEXT} for n in (task.notes or [])]
        actions: list[Action] = [
            LoopTask.comment.remove(),
            LoopTask.drivers.remove(),
            LoopTask.contact_id.remove(),
            LoopTask.notes.set(notes),
            _bump(),
        ]
        if task.resolution is not None:
            actions.append(LoopTask.resolution.set(loop.ERASED_TEXT))
        try:
            task.update(actions=actions, condition=_at_revision(revision_of(task)), add_version_condition=False)
        except UpdateError as error:
            if condition_failed(error):
                continue  # edited meanwhile: read it again, so no note added in between escapes
            raise
        return True
    raise Conflict("The task kept changing while it was being anonymised; try again.", code="concurrent_change")


def get(task_id: str) -> LoopTask:
    try:
        return LoopTask.get(task_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No task has this id.", code="task_not_found") from None


def write_edit(task: LoopTask, revision: int, edit: loop.Edit) -> bool:
    """Write a decided edit, conditional on the revision it was decided on; False when the task changed since
    (the caller's edit was made on a stale read). `task` is refreshed with what was written."""
    actions: list[Action] = []
    if edit.owner is not None:
        actions.append(LoopTask.owner.set(edit.owner))
    if edit.note is not None:
        actions.append(LoopTask.notes.set(LoopTask.notes.append([edit.note])))
    if edit.status is not None:
        actions.append(LoopTask.status.set(edit.status))
    if edit.resolved is not None:
        closed_at, root_cause, resolution = edit.resolved
        actions += [LoopTask.closed_at.set(closed_at), LoopTask.root_cause.set(root_cause)]
        if resolution is not None:
            actions.append(LoopTask.resolution.set(resolution))
    if edit.reopened:
        actions += [LoopTask.closed_at.remove(), LoopTask.root_cause.remove(), LoopTask.resolution.remove()]
    if edit.history_whole is not None:  # safe to rewrite whole: the write is conditional on the revision read
        actions.append(LoopTask.history.set(edit.history_whole))
    elif edit.history_added:
        actions.append(LoopTask.history.set(LoopTask.history.append(edit.history_added)))
    actions.append(_bump())
    try:
        task.update(actions=actions, condition=_at_revision(revision), add_version_condition=False)
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def escalate(task: LoopTask, manager: str | None, now: datetime) -> bool:
    """Escalate an overdue task to the manager, once; True when this call escalated it."""
    entry = loop.escalation_entry(task.status, manager, now)
    actions: list[Action] = [
        LoopTask.status.set("escalated"),
        LoopTask.escalated_at.set(now),
        LoopTask.history.set(LoopTask.history.append([entry])),
    ]
    if manager:
        actions.append(LoopTask.manager.set(manager))
    actions.append(_bump())
    condition = LoopTask.escalated_at.does_not_exist() & LoopTask.status.is_in("open", "in_progress")
    try:
        task.update(actions=actions, condition=condition, add_version_condition=False)
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def overdue(now: datetime):
    """Every task past due and not resolved (one query per open status, by due date)."""
    for status in loop.OPEN_STATUSES:
        yield from LoopTask.by_status.query(status, range_key_condition=LoopTask.due_at < now)


def _refused() -> Malformed:
    return Malformed(CURSOR_REFUSED, fields={"next": "invalid"})


def _partitions(filters: dict) -> list[tuple[str, str]] | None:
    """The index partitions a filter set reads, in order; None for a table scan."""
    status, owner, overdue_only = filters.get("status"), filters.get("owner"), filters.get("overdue")
    if owner:
        return [("owner", owner)]
    if status:
        return [("status", status)]
    if overdue_only:
        return [("status", s) for s in loop.OPEN_STATUSES]
    return None


def _filter_condition(filters: dict):
    conditions = []
    if filters.get("owner") and filters.get("status"):
        conditions.append(LoopTask.status == filters["status"])
    if filters.get("owner") and filters.get("overdue"):
        conditions.append(LoopTask.status.is_in(*loop.OPEN_STATUSES))
    for name in ("kind", "survey_id", "account_id"):
        if filters.get(name):
            conditions.append(getattr(LoopTask, name) == filters[name])
    condition = None
    for c in conditions:
        condition = c if condition is None else condition & c
    return condition


def list_page(filters: dict, limit: int, cursor: dict | None, now: datetime):
    """A page of tasks for the filters (status, owner, overdue, kind, survey_id, account_id) and the cursor of
    the next page. kind, survey_id and account_id are filter expressions on the index the others choose (or on
    a scan): another index would cost write units on every task write. A cursor is checked against the filters
    it is used with, so even a well-signed stale one answers 400, never a DynamoDB error."""
    cursor = cursor or {}
    if set(cursor) - {"p", "k"}:
        raise _refused()
    if filters.get("overdue") and filters.get("status") and filters["status"] not in loop.OPEN_STATUSES:
        return [], None
    partitions = _partitions(filters)
    filter_condition = _filter_condition(filters)
    part = cursor.get("p", 0)
    if partitions is None:
        if "p" in cursor:
            raise _refused()
        part = 0
    elif isinstance(part, bool) or not isinstance(part, int) or not 0 <= part < len(partitions):
        raise _refused()
    if partitions is None:
        lek = start_key(cursor.get("k"), ("task_id",))
    else:
        kind, key = partitions[part]
        lek = start_key(cursor.get("k"), ("task_id", kind, "due_at"), {kind: key})
        if lek is not None and not _is_time(lek["due_at"]["S"]):
            raise _refused()
    items: list[LoopTask] = []
    pages = 0
    while len(items) < limit and pages < MAX_PAGES_PER_REQUEST:
        want = limit - len(items)
        # Without a filter every item read is returned: ask for exactly what is missing.
        page_size = want if filter_condition is None else max(want, PAGE_SIZE)
        if partitions is None:
            result = LoopTask.scan(filter_condition=filter_condition, page_size=page_size, last_evaluated_key=lek)
        else:
            kind, key = partitions[part]
            index = LoopTask.by_owner if kind == "owner" else LoopTask.by_status
            result = index.query(
                key,
                range_key_condition=(LoopTask.due_at < now) if filters.get("overdue") else None,
                filter_condition=filter_condition,
                page_size=page_size,
                last_evaluated_key=lek,
            )
        page_iter = result.page_iter
        page = next(page_iter)
        pages += 1
        raw_items = page.get("Items") or []
        if len(raw_items) > want:  # a filtered page can hold more than is missing: stop after the last one kept
            raw_items = raw_items[:want]
            lek = {name: raw_items[-1][name] for name in page_iter.key_names}
        else:
            lek = page_iter.last_evaluated_key
        items.extend(LoopTask.from_raw_data(raw) for raw in raw_items)
        if lek is None:
            if partitions is None or part + 1 >= len(partitions):
                return items, None
            part += 1
    if partitions is None:
        return items, {"k": lek}
    return items, {"p": part, "k": lek}


def _is_time(value: str) -> bool:
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return False
    return True
