"""Reading what the monthly job needs, page by page: the facts of the 24 months the figures look at (never all
history), every account once, the month's invitations and tasks. Each reader is a generator, so the job holds
only what the computation keeps, not the tables.

Fan-out: the facts of a month sit in MONTH_SHARDS partitions and the accounts scan takes parallel segments;
`workers` > 1 reads them on threads (one page queue, bounded). Beyond what one invocation can read in its
15 minutes, the same split lets each shard/segment run in its own invocation (see the README).

The month's item also holds its run lock (`run_id`, `run_started_at`): `take_run` is one conditional write, so
two requests cannot both start a run of the same month; saving the document releases the lock only if it is
still the saving run's own (a run that overran and was superseded leaves its successor's lock alone).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.update import Action

from chalicelib.domain import months
from chalicelib.store.conditions import condition_failed
from chalicelib.store.invitations import sent_and_answered
from chalicelib.store.models import (
    Account,
    Invitation,
    LoopTask,
    MonthlyMetrics,
    ResponseFact,
    Survey,
)
from chalicelib.store.responses import month_shards

if TYPE_CHECKING:  # the readers import them when they run: the API reads documents and locks without them
    from chalicelib.domain.monthly import AccountRow, ResponseRow, TaskRow

PAGE = 500
_DONE = object()


def _merge(sources: Sequence[Callable[[], Iterable[Any]]], workers: int) -> Iterator[Any]:
    """Items of every source; with workers > 1 the sources are read concurrently through a bounded queue."""
    if workers <= 1:
        for source in sources:
            yield from source()
        return
    pending: queue.Queue = queue.Queue(maxsize=4 * PAGE)
    errors: list[BaseException] = []
    lock = threading.Lock()
    remaining = list(sources)

    def work():
        while True:
            with lock:
                if not remaining:
                    break
                source = remaining.pop()
            try:
                for item in source():
                    pending.put(item)
            except BaseException as error:  # surfaced to the caller below
                errors.append(error)
                break
        pending.put(_DONE)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    done = 0
    while done < len(threads):
        item = pending.get()
        if item is _DONE:
            done += 1
            continue
        yield item
    if errors:
        raise errors[0]


def responses(month: str, workers: int = 1) -> Iterator[ResponseRow]:
    """The facts first submitted in M-23..M, as the computation's rows."""
    from chalicelib.domain.monthly import ResponseRow

    sources = [
        partial(ResponseFact.by_month.query, shard, page_size=PAGE)
        for m in months.ending(month, 24)
        for shard in month_shards(m)
    ]
    for f in _merge(sources, workers):
        yield ResponseRow(
            response_id=f.response_id,
            survey_id=f.survey_id,
            account_id=f.account_id,
            contact_id=f.contact_id,
            score=int(f.score),
            first_submitted_at=f.first_submitted_at,
            themes=tuple(f.themes or ()),
            touchpoint=f.touchpoint,
        )


def accounts(segments: int = 1) -> Iterator[AccountRow]:
    from chalicelib.domain.monthly import AccountRow

    sources = [
        partial(Account.scan, segment=s, total_segments=segments, page_size=PAGE)
        if segments > 1
        else partial(Account.scan, page_size=PAGE)
        for s in range(segments)
    ]
    for a in _merge(sources, segments):
        revenue = a.revenue.as_dict() if a.revenue is not None else {}
        yield AccountRow(account_id=a.account_id, segment=a.segment, revenue={k: float(v) for k, v in revenue.items()})


def invitations(month: str) -> dict[str, tuple[int, int]]:
    """Per survey: invitations sent in the month, and how many of them have a counted response
    (store/invitations.sent_and_answered)."""
    out = {}
    for survey in Survey.scan(attributes_to_get=["survey_id"]):
        ids = [i.invitation_id for i in Invitation.by_survey_month.query(f"{survey.survey_id}#{month}")]
        sent, responded = sent_and_answered(ids)
        if sent:
            out[survey.survey_id] = (sent, responded)
    return out


def tasks(month: str) -> Iterator[TaskRow]:
    from chalicelib.domain.monthly import TaskRow

    for t in LoopTask.by_month.query(month, page_size=PAGE):
        yield TaskRow(
            task_id=t.task_id,
            account_id=t.account_id,
            kind=t.kind,
            created_at=t.created_at,
            due_at=t.due_at,
            closed_at=t.closed_at,
            escalated_at=t.escalated_at,
        )


@dataclass(frozen=True)
class Run:
    """The run holding a month's lock."""

    run_id: str
    started_at: datetime


def take_run(
    month: str,
    run_id: str,
    now: datetime,
    *,
    stale_before: datetime,
) -> Run | None:
    """Take the month's run lock for `run_id` (None), or the live run that holds it.

    The lock is free when no run holds it, when `run_id` already holds it (a retried invocation of the same
    run), or when it was taken before `stale_before` (its function has timed out). The document, if any, is left
    as it is."""
    free = (
        MonthlyMetrics.run_id.does_not_exist()
        | (MonthlyMetrics.run_id == run_id)
        | (MonthlyMetrics.run_started_at < stale_before)
    )
    for _ in range(3):  # the holder may release between the refused write and the read
        try:
            MonthlyMetrics(month).update(
                actions=[MonthlyMetrics.run_id.set(run_id), MonthlyMetrics.run_started_at.set(now)], condition=free
            )
            return None
        except UpdateError as error:
            if not condition_failed(error):
                raise
        held = current_run(month)
        if held is not None:
            return held
    raise RuntimeError(f"the run lock of {month} changed hands three times while being taken")


def current_run(month: str) -> Run | None:
    """The run recorded on the month's lock (stale or not), read consistently."""
    try:
        item = MonthlyMetrics.get(month, consistent_read=True, attributes_to_get=["run_id", "run_started_at"])
    except MonthlyMetrics.DoesNotExist:
        return None
    if not item.run_id or item.run_started_at is None:
        return None
    return Run(item.run_id, item.run_started_at)


@dataclass(frozen=True)
class Progress:
    """Where a month stands: the run holding its lock (stale or not) and when its document was computed."""

    run: Run | None
    computed_at: datetime | None


def progress(month: str) -> Progress:
    """The month's lock and document time in one consistent read, without the document (what a request waiting
    for a run looks at)."""
    try:
        item = MonthlyMetrics.get(
            month, consistent_read=True, attributes_to_get=["run_id", "run_started_at", "computed_at"]
        )
    except MonthlyMetrics.DoesNotExist:
        return Progress(None, None)
    run = Run(item.run_id, item.run_started_at) if item.run_id and item.run_started_at is not None else None
    return Progress(run, item.computed_at)


def document(month: str) -> dict | None:
    """The month's stored document, read consistently (None if it has none)."""
    try:
        item = MonthlyMetrics.get(month, consistent_read=True, attributes_to_get=["month", "body"])
    except MonthlyMetrics.DoesNotExist:
        return None
    return json.loads(item.body) if item.body else None


def release_run(month: str, run_id: str) -> bool:
    """Free the lock if `run_id` still holds it; False when another run (or none) holds it."""
    try:
        MonthlyMetrics(month).update(
            actions=[MonthlyMetrics.run_id.remove(), MonthlyMetrics.run_started_at.remove()],
            condition=MonthlyMetrics.run_id == run_id,
        )
        return True
    except UpdateError as error:
        if not condition_failed(error):
            raise
        return False


def save(month: str, body: str, computed_at, run_id: str | None = None) -> None:
    """Store the month's document; with `run_id`, release that run's lock in the same write if it holds it."""
    actions: list[Action] = [MonthlyMetrics.body.set(body), MonthlyMetrics.computed_at.set(computed_at)]
    if run_id is not None:
        try:
            MonthlyMetrics(month).update(
                actions=[*actions, MonthlyMetrics.run_id.remove(), MonthlyMetrics.run_started_at.remove()],
                condition=MonthlyMetrics.run_id == run_id,
            )
            return
        except UpdateError as error:
            if not condition_failed(error):
                raise
    MonthlyMetrics(month).update(actions=actions)


def load(months: list[str]) -> dict[str, dict]:
    """The computed documents among `months` (an item that only holds a run lock has none)."""
    return {m.month: json.loads(m.body) for m in MonthlyMetrics.batch_get(months) if m.body}
