"""Coalescing a batch's images of one response, to keep the stream's writes near the floor.

When a batch holds several counted images of one response in a row that keep its score (the survey page's score,
then its comment and drivers), only the newest is processed, from the state before the first: every effect of
the older ones (the fact, the counts, the task opening) is one the newest repeats or overwrites. The older
records share the newest's outcome, so when it fails they are reported failed too and Lambda retries from the
first of them. A change of score, status or erasure is never coalesced: each such transition keeps its own
effects (a re-score note, a task opened for a detractor who later turns passive).
"""

from __future__ import annotations

from chalicelib.events.response_changes import COUNT, ResponseChange


def coalesced(changes: list[ResponseChange]) -> tuple[dict[int, int], dict[int, dict | None]]:
    """Runs of counted images of one response, in stream order, that keep its score, erasure and attribution.
    Returns each older record's index mapped to the newest record of its run, and the newest's index mapped to
    the old image before the run's first record."""
    carried_by: dict[int, int] = {}
    run_old: dict[int, dict | None] = {}
    runs: dict[int, list[int]] = {}  # newest index -> the older indexes of its run
    last: dict[str, int] = {}  # response id -> index of its latest record so far
    for i, change in enumerate(changes):
        rid = change.response_id
        if change.action != COUNT or rid is None:
            if rid is not None:
                last.pop(rid, None)  # a status change or removal ends the run
            continue
        j = last.get(rid)
        if j is not None and continues(changes[j], change):
            older = [*runs.pop(j, []), j]
            runs[i] = older
            run_old[i] = run_old.pop(j) if j in run_old else changes[j].old
            for k in older:
                carried_by[k] = i
        last[rid] = i
    return carried_by, run_old


def continues(before: ResponseChange, after: ResponseChange) -> bool:
    """`after` is the next image of `before`'s answer with the same score, erasure and attribution."""
    a, b = before.response, after.response
    if a is None or b is None or after.old is None:
        return False
    return (
        after.old.get("version") == a.get("version")
        and a["score"] == b["score"]
        and not a.get("erased")
        and not b.get("erased")
        and a.get("survey_id") == b.get("survey_id")
        and a.get("first_submitted_at") == b.get("first_submitted_at")
        and attributed(a) == attributed(b)
    )


def attributed(response: dict) -> bool:
    return bool(response.get("account_id") or response.get("contact_id"))
