"""Queueing the planned emails that are due (a later `send_at`, the reminders): each is put on the send queue,
then cleared from the plan on the condition that it is still the one read. A run that stops between the two
queues the email again next time, and the sender's claim sends it once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from chalicelib.store import deliveries

Enqueue = Callable[[Sequence[tuple[str, str, int]]], None]


# A run's most emails: 2,000 conditional writes and 200 SQS batches stay well inside a minute; a wave of
# 100,000 reminders is queued over the following runs (at 5 minutes apart, about 24,000 an hour).
RUN_LIMIT = 2000


def dispatch(now: datetime, enqueue: Enqueue, limit: int = RUN_LIMIT) -> dict[str, int]:
    due = deliveries.due(now, limit)
    counts = {"due": len(due), "queued": 0, "changed": 0}
    for start in range(0, len(due), 100):
        page = due[start : start + 100]
        enqueue([(invitation_id, kind, 0) for invitation_id, kind, _ in page])
        for invitation_id, kind, at in page:
            if deliveries.taken(invitation_id, kind, at, now):
                counts["queued"] += 1
            else:
                counts["changed"] += 1
    return counts
