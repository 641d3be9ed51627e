"""Exactly once in effect: 2,000 answers and 400 re-scores through the stream, every batch delivered twice, with
PutEvents refusing entries (some once, retried within the call; some on every attempt of a call, which fails
their record until Lambda delivers it again). Every event reaches the bus, each happening under one id, and
every copy of an id is the same event. What the bus took is read from its answers to PutEvents (a rule routing
thousands of events to a queue costs moto minutes)."""

from __future__ import annotations

import os
import random
from collections import Counter, defaultdict
from datetime import timedelta
from hashlib import sha256

from support_events import replay_survey_and_accounts

from chalicelib.domain import clock
from chalicelib.domain import events as bus_events
from chalicelib.store.models import LoopTask, Response
from chalicelib.store.responses import shard_of
from nps_local.responses_stream import responses_poller

pytest_plugins = ["support_bus"]  # bare_bus, put_events_faults

N_RESPONSES = int(os.environ.get("REPLAY_N", "2000"))


def _refusals(event_id: str) -> int:
    """One event in 40 is refused on every attempt of one call (its record fails once), one in 10 once."""
    n = int(sha256(event_id.encode()).hexdigest()[:8], 16)
    return 3 if n % 40 == 0 else 1 if n % 10 == 0 else 0


def test_a_replay_delivered_twice_publishes_every_event_once_by_id(aws, client, bare_bus, put_events_faults):
    from support_bus import check_detail

    rng = random.Random(14)
    survey = replay_survey_and_accounts(("smb", "mid", "enterprise"))
    now = clock.utcnow()
    comments = [None, "Too expensive", "Support was great", "Slow", "Love it"]
    first: dict[str, Response] = {}
    with Response.batch_write() as batch:
        for i in range(N_RESPONSES):
            rid = f"rsp_ev_{i:05d}"
            when = now - timedelta(minutes=i)
            month = when.strftime("%Y-%m")
            item = Response(
                rid,
                survey_id=survey.survey_id,
                score=rng.randint(0, 10),
                comment=rng.choice(comments),
                channel=rng.choice(["email", "widget", "api"]),
                touchpoint="relationship",
                contact_id=f"con-{i % 700}",
                account_id=f"acc-{i % 40}" if i % 9 else None,
                first_submitted_at=when,
                submitted_at=when,
                month=month,
                month_shard=f"{month}#{shard_of(rid)}",
                version=1,
            )
            first[rid] = item
            batch.save(item)
    rescored = rng.sample(sorted(first), N_RESPONSES // 5)
    changed = 0
    with Response.batch_write() as batch:
        for rid in rescored:
            old = first[rid]
            score = rng.randint(0, 10)
            changed += score != old.score
            values = {k: v for k, v in old.attribute_values.items() if k != "response_id"}
            batch.save(Response(rid, **{**values, "score": score, "version": 2, "submitted_at": now}))
    stream = responses_poller(client)
    records = stream.read_new()
    assert len(records) == N_RESPONSES + len(rescored)

    put_events_faults.refusals = _refusals
    assert stream.deliver(records, redeliver=True) == []  # every batch twice
    assert stream.stats.redeliveries >= len(records) // 100
    assert stream.stats.partial_failures > 0, "some records must have failed on their events"
    assert sum(1 for n in put_events_faults.refused.values() if n == 3) > N_RESPONSES // 100

    copies: dict[str, list[dict]] = defaultdict(list)
    for event in put_events_faults.accepted:  # every entry the bus took
        assert event["source"] == "nps.test"
        copies[event["detail"]["event_id"]].append(event)
    for event_id, same in copies.items():
        assert all(c["detail"] == same[0]["detail"] for c in same), event_id  # duplicates are exact repeats
        assert all(c["detail-type"] == same[0]["detail-type"] for c in same), event_id
        check_detail(same[0])
    distinct = Counter(same[0]["detail-type"] for same in copies.values())
    tasks = list(LoopTask.scan())
    assert distinct == {
        bus_events.RESPONSE_RECORDED: N_RESPONSES,
        bus_events.RESPONSE_UPDATED: changed,
        bus_events.TASK_OPENED: len(tasks),
    }
    opened = {c[0]["detail"]["task_id"] for c in copies.values() if c[0]["detail-type"] == bus_events.TASK_OPENED}
    assert opened == {t.task_id for t in tasks}
    recorded = {
        c[0]["detail"]["response_id"] for c in copies.values() if c[0]["detail-type"] == bus_events.RESPONSE_RECORDED
    }
    assert recorded == set(first)
    # Redelivery repeated events: every one arrived at least once, most twice or more.
    total = sum(len(c) for c in copies.values())
    assert total >= 2 * len(copies) * 9 // 10, (total, len(copies))
    # Each refused entry reached the bus in the end: nothing is dropped.
    assert set(put_events_faults.refused) <= set(copies)
