"""Stream handler cost on the demo mix: DynamoDB write and read requests per processed response, amortized
over batches of 100, and handler time per batch. Goal: at most 1.5 writes and 0.5 reads per response.

The demo generator's last three months of answers is re-dated into the last two weeks (so detractors open tasks, as
live answers do), written as capture writes them, read back from moto's stream and delivered in batches. Three
flows are measured, each on fresh tables:

- `one_write`: every answer arrives complete in one write (API, widget, imports);
- `page_flow`: the survey page's way: the score first, then (for answers with a comment or drivers) a second
  version with them, which the task must follow;
- `pending_then_counted`: one answer in ten is first stored `pending` (a page left open without a gesture) and
  counted by settlement later; the pending record must cost no more than a read of nothing and no write.

The stage's event bus is moto's (EVENT_BUS_NAME set, as in AWS): each flow also counts the PutEvents requests and
entries the handler makes, per 1,000 answers, and the entries by detail-type.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import time
from collections import Counter
from datetime import timedelta

from common import RequestCounter, moto_tables, save_result

from chalicelib.domain import clock, nps

FLOWS = ("one_write", "page_flow", "pending_then_counted")


def _versions(flow: str, i: int, r: dict) -> list[dict]:
    """The successive stored states of one answer in this flow (fields beyond the fixed ones)."""
    full = {"score": r["score"], "comment": r["comment"] or None, "drivers": r["drivers"] or None}
    if flow == "page_flow" and (full["comment"] or full["drivers"]):
        return [{"score": r["score"]}, full]
    if flow == "pending_then_counted" and i % 10 == 0:
        return [{"score": r["score"], "status": "pending"}, {**full, "status": "counted"}]
    return [full]


class PutEventsCounter:
    """PutEvents requests and entries (by detail-type) on the functions' events client."""

    EVENT = "before-parameter-build.eventbridge.PutEvents"

    def __init__(self) -> None:
        self.requests = 0
        self.entries: Counter = Counter()
        self.enabled = False

    def __call__(self, params, **kwargs):
        if self.enabled:
            self.requests += 1
            self.entries.update(entry["DetailType"] for entry in params["Entries"])


def _with_bus(counter: PutEventsCounter) -> None:
    import boto3

    from chalicelib import config
    from chalicelib.store import event_bus

    boto3.client("events", region_name="us-east-1").create_event_bus(Name="nps-bench-events")
    os.environ["EVENT_BUS_NAME"] = "nps-bench-events"
    config.reset()
    client = event_bus.client_for(config.settings().region)
    client.meta.events.unregister(PutEventsCounter.EVENT, unique_id="bench-put-events")
    client.meta.events.register(PutEventsCounter.EVENT, counter, unique_id="bench-put-events")


def run(flow: str, data) -> dict:
    from chalicelib.domain import survey_definition
    from chalicelib.events.account_cache import forget_cached_accounts
    from chalicelib.store import accounts as account_store
    from chalicelib.store import surveys as survey_store
    from chalicelib.store.models import Account, Response
    from chalicelib.store.responses import shard_of
    from nps_local.poller import default_handler
    from nps_local.responses_stream import responses_poller

    function = default_handler()  # the app's response_stream, as Lambda invokes it
    times: list[float] = []

    def timed(event, context):
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # the EMF and log lines
            result = function(event, context)
        times.append((time.perf_counter() - started) * 1000)
        return result

    events = PutEventsCounter()
    with moto_tables():
        _with_bus(events)
        survey_store.clear_cache()
        forget_cached_accounts()
        survey_ids = {}
        for body in data.surveys():
            body = dict(body)
            key = body.pop("key")
            survey_ids[key] = survey_store.create(survey_definition.survey(body)).survey_id
        with Account.batch_write() as batch:
            for row in data.accounts_rows():
                batch.save(Account(row["account_id"], **{k: v for k, v in row.items() if k != "account_id"}))
        now = clock.utcnow()
        recent = set(data.months[-3:])
        rows = [r for r in data.iter_responses() if r["submitted_at"][:7] in recent]
        states = []
        for i, r in enumerate(rows):
            rid = f"rsp_bench_{i:06d}"
            when = now - timedelta(minutes=20 * i % (14 * 24 * 60 - 60))
            month = when.strftime("%Y-%m")
            fixed = {
                "survey_id": survey_ids[r["survey_key"]],
                "contact_id": r["contact_id"],
                "account_id": r["account_id"],
                "channel": r["channel"],
                "first_submitted_at": when,
                "submitted_at": when,
                "month": month,
                "month_shard": f"{month}#{shard_of(rid)}",
            }
            states.append([(rid, v + 1, {**fixed, **fields}) for v, fields in enumerate(_versions(flow, i, r))])
        # Each round writes the next version of every answer: later versions come after earlier ones in the
        # stream, as in life, and many land in the same batch as their first version.
        for round_ in range(max(len(s) for s in states)):
            with Response.batch_write() as batch:
                for versions in states:
                    if round_ < len(versions):
                        rid, version, fields = versions[round_]
                        batch.save(Response(rid, version=version, **fields))
        stream = responses_poller(handler=timed)  # batches of 100, as the template's mapping says
        records = stream.read_new()
        counter = RequestCounter().install()
        account_store.batch_get([])  # no-op; clients are created
        counter.enabled = events.enabled = True
        assert stream.deliver(records) == []
        counter.enabled = events.enabled = False
        assert stream.stats.partial_failures == stream.stats.function_errors == 0, stream.stats
        n = len(rows)
        categories = {
            c: sum(1 for r in rows if nps.classify(r["score"]) == c) for c in ("promoter", "passive", "detractor")
        }
        return {
            "responses": n,
            "records": len(records),
            "batches": len(times),
            "mix": categories,
            "requests_by_operation": dict(counter.calls),
            "writes_per_response": round(counter.writes / n, 3),
            "reads_per_response": round(counter.reads / n, 3),
            "writes_per_record": round(counter.writes / len(records), 3),
            "put_events_requests_per_1000_responses": round(1000 * events.requests / n, 1),
            "put_events_entries_per_1000_responses": round(1000 * sum(events.entries.values()) / n, 1),
            "put_events_entries_by_detail_type": dict(sorted(events.entries.items())),
            "handler_ms_per_batch_median": round(statistics.median(times), 1),
            "handler_ms_per_batch_p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 1),
        }


def main() -> None:
    from nps_demo.generator import generate

    data = generate(seed=7, accounts=500)
    wanted = [f for f in sys.argv[1:] if f in FLOWS] or list(FLOWS)
    results = {flow: run(flow, data) for flow in wanted}
    first = results[wanted[0]]
    save_result(
        "stream",
        {
            **first,  # the first flow's figures at the top level, as before
            "flow": wanted[0],
            "flows": results,
            "goal": {"writes_per_response": 1.5, "reads_per_response": 0.5},
            "note": "handler time is against in-process moto (about 7 ms a request), an upper bound for AWS",
        },
    )


if __name__ == "__main__":
    main()
