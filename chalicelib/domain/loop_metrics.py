"""The month's close-the-loop figures: tasks opened and closed, time to close, within SLA, overdue and
escalated, overall and by kind, and whether closing detractors' tasks on time kept the accounts."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import timestamp, utc
from chalicelib.domain.months import Month
from chalicelib.domain.rounding import ratio

if TYPE_CHECKING:
    from chalicelib.domain.monthly import TaskRow

EFFECTIVENESS_MONTHS = 3
RECOVERY = "recovery"


def _task_stats(tasks: list[TaskRow], end: datetime, now: datetime) -> dict[str, Any]:
    """Opened, closed, median hours to close, share within SLA, overdue at `end` (or at `now`, when the month is
    still running), escalated.

    `within_sla` is the share closed by their due time among the tasks whose outcome is known at `now`: closed,
    or still open past due. A task still open and not yet due is left out of that share, and is never overdue:
    nothing is late before its due time."""
    end = min(end, now)
    closed = [(t, closed_at) for t in tasks if (closed_at := t.closed_at) is not None]
    hours = [(utc(closed_at) - utc(t.created_at)).total_seconds() / 3600 for t, closed_at in closed]
    in_time = sum(1 for t, closed_at in closed if utc(closed_at) <= utc(t.due_at))
    decided = len(closed) + sum(1 for t in tasks if t.closed_at is None and utc(t.due_at) < now)
    overdue = sum(1 for t in tasks if utc(t.due_at) < end and (t.closed_at is None or utc(t.closed_at) > end))
    return {
        "opened": len(tasks),
        "closed": len(closed),
        "median_hours_to_close": round(statistics.median(hours), 2) if hours else None,
        "within_sla": ratio(in_time, decided),
        "overdue": overdue,
        "escalated": sum(1 for t in tasks if t.escalated_at is not None),
    }


def loop_figures(tasks: Iterable[TaskRow], m: int, revenue: dict[str, list[float]], now: datetime) -> dict[str, Any]:
    """Close-the-loop figures for the tasks created in M, overall and by kind, and the loop's effectiveness.

    Effectiveness: the accounts with a recovery task (opened by a detractor answer) created in M that are
    customers in M. An account is `within_sla` when every such task of it closed by its due time, `late`
    otherwise (a task still open counts as late). Its logo is retained when it is a customer in M+3
    (R(a, M+3) > 0; leaving and coming back within the three months counts as retained). Revenue of M+3 is
    taken as known only once M+3 has ended (computed_at at or after the start of M+4): before that
    `logo_retention` is null for both groups, the counts are provisional, and `pending_until` says when to
    recompute. Missing revenue for M+3 after that is, as everywhere, "not a customer"."""
    start, end = Month(m).start(), Month(m + 1).start()
    created: list[TaskRow] = [t for t in tasks if start <= utc(t.created_at) < end]
    out = _task_stats(created, end, now)
    kinds: dict[str, list[TaskRow]] = {}
    for task in created:
        kinds.setdefault(task.kind, []).append(task)
    out["by_kind"] = {kind: _task_stats(kinds[kind], end, now) for kind in sorted(kinds)}

    on_time: dict[str, bool] = {}
    for task in kinds.get(RECOVERY, ()):
        account_id = task.account_id
        if account_id is None:
            continue
        rev = revenue.get(account_id)
        if rev is None or rev[12] <= 0:
            continue
        ok = task.closed_at is not None and utc(task.closed_at) <= utc(task.due_at)
        on_time[account_id] = on_time.get(account_id, True) and ok
    horizon = m + EFFECTIVENESS_MONTHS
    known = now >= Month(horizon + 1).start()
    groups = {"within_sla": [0, 0], "late": [0, 0]}
    for account_id, ok in on_time.items():
        group = groups["within_sla" if ok else "late"]
        group[0] += 1
        group[1] += revenue[account_id][12 + EFFECTIVENESS_MONTHS] > 0
    effectiveness: dict[str, Any] = {
        name: {"accounts": accounts, "logo_retention": ratio(retained, accounts) if known else None}
        for name, (accounts, retained) in groups.items()
    }
    effectiveness["horizon"] = str(Month(horizon))
    effectiveness["pending_until"] = None if known else timestamp(Month(horizon + 1).start())
    out["effectiveness"] = effectiveness
    return out
