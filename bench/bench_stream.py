"""Stream handler cost on the demo mix: DynamoDB write and read requests per processed response, amortized
over batches of 100, and handler time per batch. Goal: at most 1.5 writes and 0.5 reads per response.

The demo generator's last three months of answers is re-dated into the last two weeks (so detractors open tasks, as
live answers do), written as capture writes them, read back from moto's stream and delivered in batches.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import time
from datetime import timedelta

from common import RequestCounter, moto_tables, save_result


def main() -> None:
    from chalicelib.demo.generator import generate
    from chalicelib.domain import tokens, validation
    from chalicelib.events.processing import handle_stream_event
    from chalicelib.store import accounts as account_store
    from chalicelib.store import surveys as survey_store
    from chalicelib.store.models import Account, Response
    from chalicelib.store.responses import shard_of

    data = generate(seed=7, accounts=500)
    with moto_tables():
        survey_ids = {}
        for body in data.surveys():
            key = body.pop("key")
            survey_ids[key] = survey_store.create(validation.survey(body)).survey_id
        with Account.batch_write() as batch:
            for row in data.accounts_rows():
                batch.save(Account(row["account_id"], **{k: v for k, v in row.items() if k != "account_id"}))
        now = tokens.utcnow()
        recent = set(data.months[-3:])
        rows = [r for r in data.iter_responses() if r["submitted_at"][:7] in recent]
        with Response.batch_write() as batch:
            for i, r in enumerate(rows):
                rid = f"rsp_bench_{i:06d}"
                when = now - timedelta(minutes=20 * i % (14 * 24 * 60 - 60))
                month = when.strftime("%Y-%m")
                batch.save(Response(
                    rid, survey_id=survey_ids[r["survey_key"]], contact_id=r["contact_id"],
                    account_id=r["account_id"], score=r["score"], comment=r["comment"] or None,
                    drivers=r["drivers"] or None, channel=r["channel"], first_submitted_at=when, submitted_at=when,
                    month=month, month_shard=f"{month}#{shard_of(rid)}", version=1,
                ))
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from support_stream import LambdaContext, StreamReader

        records = StreamReader().read()
        counter = RequestCounter().install()
        account_store.batch_get([])  # no-op; clients are created
        counter.enabled = True
        times = []
        for pos in range(0, len(records), 100):
            batch = records[pos : pos + 100]
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # the EMF and log lines
                result = handle_stream_event({"Records": batch}, LambdaContext())
            times.append((time.perf_counter() - started) * 1000)
            assert not result["batchItemFailures"], result
        counter.enabled = False
        n = len(records)
        categories = {c: sum(1 for r in rows if validation.classify(r["score"]) == c)
                      for c in ("promoter", "passive", "detractor")}
        save_result("stream", {
            "responses": n,
            "batches": len(times),
            "mix": categories,
            "requests_by_operation": dict(counter.calls),
            "writes_per_response": round(counter.writes / n, 3),
            "reads_per_response": round(counter.reads / n, 3),
            "goal": {"writes_per_response": 1.5, "reads_per_response": 0.5},
            "handler_ms_per_batch_median": round(statistics.median(times), 1),
            "handler_ms_per_batch_p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 1),
            "note": "handler time is against in-process moto (about 7 ms a request), an upper bound for AWS",
        })


if __name__ == "__main__":
    main()
