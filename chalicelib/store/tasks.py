"""Close-the-loop tasks in DynamoDB. Every write is conditional so a redelivered stream record or a retried
sweep changes nothing the first delivery already did."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.domain import loop, tokens
from chalicelib.errors import Conflict, NotFound
from chalicelib.store.models import LoopTask, bind


def task_id_for(response_id: str) -> str:
    return tokens.stable_id("task", response_id)


def _failed_condition(error: Exception) -> bool:
    return getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def to_dict(t: LoopTask, now: datetime | None = None) -> dict:
    now = now or tokens.utcnow()
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
        "status": t.status,
        "owner": t.owner,
        "manager": t.manager,
        "created_at": _iso(t.created_at),
        "due_at": _iso(t.due_at),
        "sla_hours": int(t.sla_hours),
        "overdue": loop.is_overdue(t.status, t.due_at, now),
        "closed_at": _iso(t.closed_at),
        "escalated_at": _iso(t.escalated_at),
        "root_cause": t.root_cause,
        "resolution": t.resolution,
        "notes": [dict(n) for n in (t.notes or [])],
        "history": [dict(h) for h in (t.history or [])],
    }


def open_task(
    *, response: dict, category: str, owner: str, manager: str | None, sla_hours: int, now: datetime
) -> bool:
    """Open the response's task unless it exists; True when this call opened it."""
    bind()
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
        status="open",
        owner=owner,
        manager=manager,
        month=now.strftime("%Y-%m"),
        created_at=now,
        due_at=loop.due_at(now, sla_hours),
        sla_hours=sla_hours,
        notes=[],
        history=[{"at": _iso(now), "by": "stream", "change": "opened", "to": "open", "owner": owner}],
        last_version=int(response["version"]),
    )
    try:
        task.save(condition=LoopTask.task_id.does_not_exist(), add_version_condition=False)
    except PutError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def note_rescore(*, response: dict, old_score: int, category: str, now: datetime) -> bool:
    """Add a note to an existing task for a re-score, once per response version; True when added."""
    bind()
    version = int(response["version"])
    note = {
        "at": _iso(now),
        "by": "stream",
        "text": f"Re-scored from {old_score} to {int(response['score'])} ({category}).",
        "version": version,
    }
    actions = [
        LoopTask.notes.set(LoopTask.notes.append([note])),
        LoopTask.score.set(int(response["score"])),
        LoopTask.last_version.set(version),
    ]
    if response.get("comment") and not response.get("erased"):
        actions.append(LoopTask.comment.set(response["comment"]))
    condition = LoopTask.task_id.exists() & (LoopTask.last_version < version)
    try:
        LoopTask(task_id_for(response["response_id"])).update(
            actions=actions, condition=condition, add_version_condition=False
        )
    except UpdateError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def scrub_comment(response_id: str) -> bool:
    """Remove the comment text from a response's task (erasure); True when a task was there."""
    bind()
    try:
        LoopTask(task_id_for(response_id)).update(
            actions=[LoopTask.comment.remove()], condition=LoopTask.task_id.exists(), add_version_condition=False
        )
    except UpdateError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def get(task_id: str) -> LoopTask:
    bind()
    try:
        return LoopTask.get(task_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No task has this id.", code="task_not_found") from None


def patch(task_id: str, change: dict, actor: str, now: datetime) -> LoopTask:
    """Apply a validated PATCH; the write is conditional on the status read, so racing edits conflict (409)."""
    task = get(task_id)
    actions = []
    history = []
    stamp = _iso(now)
    if change["owner"] and change["owner"] != task.owner:
        actions.append(LoopTask.owner.set(change["owner"]))
        history.append({"at": stamp, "by": actor, "change": "assigned", "from": task.owner, "to": change["owner"]})
    if change["note"]:
        actions.append(LoopTask.notes.set(LoopTask.notes.append([{"at": stamp, "by": actor, "text": change["note"]}])))
    new_status = change["status"]
    if new_status and new_status != task.status:
        loop.check_transition(task.status, new_status)
        actions.append(LoopTask.status.set(new_status))
        history.append({"at": stamp, "by": actor, "change": "status", "from": task.status, "to": new_status})
        if new_status == "resolved":
            actions += [LoopTask.closed_at.set(now), LoopTask.root_cause.set(change["root_cause"])]
            if change["resolution"]:
                actions.append(LoopTask.resolution.set(change["resolution"]))
        elif task.status == "resolved":  # reopened
            actions += [LoopTask.closed_at.remove(), LoopTask.root_cause.remove(), LoopTask.resolution.remove()]
    elif new_status and new_status == task.status and new_status == "resolved":
        raise Conflict("The task is already resolved.", code="invalid_transition")
    if history:
        actions.append(LoopTask.history.set(LoopTask.history.append(history)))
    if not actions:
        return task
    try:
        task.update(actions=actions, condition=LoopTask.status == task.status, add_version_condition=False)
    except UpdateError as error:
        if _failed_condition(error):
            raise Conflict("The task changed meanwhile; read it again.", code="concurrent_change") from None
        raise
    return task


def escalate(task: LoopTask, manager: str | None, now: datetime) -> bool:
    """Escalate an overdue task to the manager, once; True when this call escalated it."""
    bind()
    entry = {"at": _iso(now), "by": "sla_sweep", "change": "escalated", "from": task.status, "to": "escalated"}
    if manager:
        entry["manager"] = manager
    actions = [
        LoopTask.status.set("escalated"),
        LoopTask.escalated_at.set(now),
        LoopTask.history.set(LoopTask.history.append([entry])),
    ]
    if manager:
        actions.append(LoopTask.manager.set(manager))
    condition = LoopTask.escalated_at.does_not_exist() & LoopTask.status.is_in("open", "in_progress")
    try:
        task.update(actions=actions, condition=condition, add_version_condition=False)
    except UpdateError as error:
        if _failed_condition(error):
            return False
        raise
    return True


def overdue(now: datetime):
    """Every task past due and not resolved (one query per open status, by due date)."""
    bind()
    for status in loop.OPEN_STATUSES:
        yield from LoopTask.by_status.query(status, range_key_condition=LoopTask.due_at < now)


def list_page(filters: dict, limit: int, cursor: dict | None, now: datetime):
    """A page of tasks for the filters (status, owner, overdue) and the cursor of the next page."""
    bind()
    cursor = cursor or {}
    status, owner, overdue_only = filters.get("status"), filters.get("owner"), filters.get("overdue")
    filter_condition = None
    if owner and status:
        filter_condition = LoopTask.status == status
    if overdue_only and owner:
        cond = LoopTask.status.is_in(*loop.OPEN_STATUSES)
        filter_condition = cond if filter_condition is None else filter_condition & cond
    due_cond = (LoopTask.due_at < now) if overdue_only else None
    if owner:
        partitions = [("owner", owner)]
    elif status:
        partitions = [("status", status)]
    elif overdue_only:
        partitions = [("status", s) for s in loop.OPEN_STATUSES]
    else:
        partitions = []
    if overdue_only and status and status not in loop.OPEN_STATUSES:
        return [], None
    if not partitions:
        result = LoopTask.scan(limit=limit, last_evaluated_key=cursor.get("k"))
        items = list(result)
        return items, ({"k": result.last_evaluated_key} if result.last_evaluated_key else None)
    part = int(cursor.get("p", 0))
    lek = cursor.get("k")
    items: list[LoopTask] = []
    while part < len(partitions) and len(items) < limit:
        kind, key = partitions[part]
        index = LoopTask.by_owner if kind == "owner" else LoopTask.by_status
        result = index.query(
            key,
            range_key_condition=due_cond,
            filter_condition=filter_condition,
            limit=limit - len(items),
            last_evaluated_key=lek,
        )
        items.extend(result)
        lek = result.last_evaluated_key
        if lek is None:
            part += 1
    return items, ({"p": part, "k": lek} if part < len(partitions) else None)
