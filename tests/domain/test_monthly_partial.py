"""Months that are still running or have not begun: the document says `partial`, and a task counts as overdue
(or as not closed in time) only once its due time has passed by the computation time. No AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.monthly import TaskRow, compute_month
from chalicelib.domain.months import Month

M = "2026-10"
START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)


def task(task_id: str, created: datetime, due_hours: float, closed_hours: float | None = None) -> TaskRow:
    return TaskRow(
        task_id,
        "a1",
        "recovery",
        created,
        created + timedelta(hours=due_hours),
        None if closed_hours is None else created + timedelta(hours=closed_hours),
    )


def loop(tasks, computed_at: datetime) -> dict:
    return compute_month(M, responses=[], accounts=[], invitations={}, tasks=tasks, computed_at=computed_at)["loop"]


def test_partial_is_true_only_while_the_month_runs():
    month = Month.parse(M)
    assert month.is_running(END - timedelta(seconds=1)) and month.is_running(START)
    assert not month.is_running(END) and not month.is_running(START - timedelta(seconds=1))
    assert not month.is_future(START) and month.is_future(START - timedelta(seconds=1))
    doc = compute_month(M, responses=[], accounts=[], invitations={}, tasks=[], computed_at=START)
    assert doc["partial"] is True
    assert compute_month(M, responses=[], accounts=[], invitations={}, tasks=[], computed_at=END)["partial"] is False


def test_a_month_that_has_not_begun_has_no_figures():
    with pytest.raises(ValueError, match="future"):
        compute_month(
            M, responses=[], accounts=[], invitations={}, tasks=[], computed_at=START - timedelta(microseconds=1)
        )


def test_in_the_running_month_only_tasks_past_due_are_overdue():
    now = datetime(2026, 10, 20, 12, tzinfo=UTC)
    tasks = [
        task("open-not-due", now - timedelta(hours=10), 48),  # due on the 22nd: not late yet
        task("open-past-due", now - timedelta(hours=60), 48),  # due 12 h ago: overdue
        task("closed-late", now - timedelta(hours=100), 48, 70),  # closed after its due time: known to be late
        task("closed-in-time", now - timedelta(hours=30), 48, 5),
        task("due-later-this-month", now - timedelta(hours=1), 24 * 8),  # due the 28th: before the month's end
    ]
    figures = loop(tasks, now)
    assert figures["opened"] == 5 and figures["closed"] == 2
    assert figures["overdue"] == 1
    # Known outcomes: the two closed tasks and the open one past due; one of the three in time.
    assert figures["within_sla"] == pytest.approx(1 / 3, abs=1e-6)

    # The same tasks once the month is over: what was due before its end and still open is overdue.
    after = loop(tasks, END + timedelta(hours=3))
    assert after["overdue"] == 3  # open-past-due, open-not-due (due the 22nd), due-later-this-month (the 28th)
