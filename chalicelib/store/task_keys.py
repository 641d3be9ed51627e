"""Which responses have a close-the-loop task: one strongly consistent BatchGetItem per 100 responses, keys only.

The stream asks before it writes, so an answer whose task exists is followed without first trying to open it,
and an answer that has no task (and opens none) costs no write at all: a conditional write DynamoDB refuses
still bills a write unit, a strongly consistent read of the key bills a fifth of that."""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.store.models import LoopTask
from chalicelib.store.tasks import task_id_for


def with_tasks(response_ids: Iterable[str]) -> set[str]:
    """The response ids among these whose task exists (read consistently: a task opened a moment ago counts)."""
    by_task = {task_id_for(r): r for r in set(response_ids)}
    found: set[str] = set()
    keys = sorted(by_task)
    for start in range(0, len(keys), 100):
        for task in LoopTask.batch_get(keys[start : start + 100], consistent_read=True, attributes_to_get=["task_id"]):
            found.add(by_task[task.task_id])
    return found
