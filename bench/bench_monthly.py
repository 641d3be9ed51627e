"""The monthly metrics job at 1,000, 10,000 and 50,000 accounts with their responses (the demo generator's 24
months, about 12 responses per account): wall time, the job process's own CPU time, DynamoDB requests and read
units, and peak memory. Goal: time about linear in the data, memory growing far less.

Each size runs in two processes, so that neither measurement carries the other's weight:
- a table server: moto's in-memory DynamoDB holding the accounts and the response facts the stream would have
  written (the PynamoDB models' items put straight into moto's tables, then served over HTTP);
- the job: a fresh interpreter that runs `run_month` against that endpoint, exactly as the Lambda function does.
  Its peak RSS and CPU time are the job's alone; moto's work shows only in the wall time.

moto answers every Query page by sorting and walking the whole table, where DynamoDB reads only the partition asked
for, and writes each answer through a generic serializer at about a millisecond per item; left alone that makes the
50,000-account run take hours and says nothing about the job. The table server therefore installs what the local
stack uses, nps_local.moto_read_speedups: index queries read their partition sorted once and start each page at
its start key, Scan reads the table sorted once, and read answers are written with `json.dumps`
(`BENCH_PLAIN_MOTO=1` turns it off; both give the same document, compare `document_sha256`), and
nps_local.moto_transactions (a transaction backs up what it may change, not its tables' every item).
The wall time is still moto's HTTP and JSON work plus the job's; the job process's CPU time is the figure that
tracks what the job itself costs. Read units are what DynamoDB would bill for the requests made, from the item
sizes (eventually consistent: half a unit per 4 KB of items read per Query/Scan page, half a unit per batch-got
item).

    python bench/bench_monthly.py                 # 1000 10000 50000
    python bench/bench_monthly.py 1000 5000       # other sizes
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from datetime import datetime

from common import ROOT, save_result
from write_units import item_size  # DynamoDB's item size rules, one copy for reads and writes

from chalicelib.domain import clock

MONTH = "2026-10"
SIZES = (1_000, 10_000, 50_000)
HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------------------------------- table server


def serve(accounts: int) -> None:
    """Load the data set into moto, serve it over HTTP, print the endpoint, and run until stdin closes."""
    from common import moto_tables
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.server import ThreadedMotoServer

    from chalicelib.domain import survey_definition
    from chalicelib.domain.facts import fact_of
    from chalicelib.domain.months import Month
    from chalicelib.store.models import Account, ResponseFact, Survey
    from chalicelib.store.responses import shard_of
    from nps_demo.generator import generate
    from nps_local import moto_read_speedups, moto_transactions

    started = time.perf_counter()
    data = generate(seed=7, accounts=accounts, end_month=MONTH)
    with moto_tables():
        survey_ids, now = {}, clock.utcnow()
        for body in data.surveys():
            key = body.pop("key")
            fields = {k: v for k, v in survey_definition.survey(body).items() if v is not None}
            survey_ids[key] = f"srv_bench_{key}"  # fixed ids, so runs can be compared document for document
            Survey(survey_ids[key], identity_secret="bench", created_at=now, updated_at=now, **fields).save()
        # Straight into moto's tables (the items PynamoDB would send): the load is set-up, not what is measured.
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]
        for row in data.accounts_rows():
            item = Account(row["account_id"], **{k: v for k, v in row.items() if k != "account_id"})
            backend.put_item(Account.Meta.table_name, item.serialize())
        facts = 0
        for row in data.iter_responses():
            response_id = clock.stable_id("rsp", row["external_id"])
            when = datetime.fromisoformat(row["submitted_at"])
            month = str(Month.of(when))
            survey = row["survey_key"]
            fact = fact_of(
                {
                    "response_id": response_id,
                    "survey_id": survey_ids[survey],
                    "account_id": row["account_id"],
                    "contact_id": row["contact_id"],
                    "score": row["score"],
                    "comment": row["comment"],
                    "channel": row["channel"],
                    "touchpoint": None if survey == "relationship" else survey,
                    "month": month,
                    "month_shard": f"{month}#{shard_of(response_id)}",
                    "first_submitted_at": when,
                    "submitted_at": when,
                    "version": 1,
                }
            )
            backend.put_item(ResponseFact.Meta.table_name, ResponseFact(**fact).serialize())
            facts += 1
        if os.environ.get("BENCH_PLAIN_MOTO") != "1":
            moto_read_speedups.install()  # refuses a moto it was not checked against: no misleading figures
            moto_transactions.install()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        print(
            json.dumps(
                {
                    "endpoint": f"http://{host}:{port}",
                    "facts": facts,
                    "accounts": accounts,
                    "load_s": round(time.perf_counter() - started, 1),
                }
            ),
            flush=True,
        )
        sys.stdin.read()
        server.stop()


# ---------------------------------------------------------------------------------------------------- the job


class ReadMeter:
    """DynamoDB requests by operation, and the read units DynamoDB would bill for them (eventually consistent)."""

    def __init__(self) -> None:
        self.requests: dict[str, int] = {}
        self.read_units = 0.0
        self.items_read = 0
        self.bytes_read = 0

    def __call__(self, http_response, parsed, model, **kwargs) -> None:
        op = model.name
        self.requests[op] = self.requests.get(op, 0) + 1
        if op in ("Query", "Scan"):
            size = sum(item_size(i) for i in parsed.get("Items", ()))
            self.items_read += len(parsed.get("Items", ()))
            self.bytes_read += size
            self.read_units += max(1, -(-size // 4096)) * 0.5
        elif op == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                self.items_read += len(items)
                self.read_units += 0.5 * len(items)  # every item here is under 4 KB
        elif op == "GetItem" and parsed.get("Item"):
            self.items_read += 1
            self.read_units += 0.5

    def install(self) -> None:
        from common import on_every_table_client

        on_every_table_client("after-call.dynamodb", self)


def job(endpoint: str) -> None:
    """Run the monthly job once against `endpoint`; print one JSON line of measurements."""
    import resource

    os.environ["DYNAMODB_ENDPOINT"] = endpoint
    os.environ["POWERTOOLS_METRICS_NAMESPACE"] = "NpsBackend"
    from chalicelib.events.monthly_job import run_month
    from chalicelib.store import models

    models.bind()
    meter = ReadMeter()
    meter.install()
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):  # the EMF headline lines
        document = run_month(MONTH)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (ROOT / "dist").mkdir(exist_ok=True)
    (ROOT / "dist" / "bench-monthly-document.json").write_text(json.dumps(document, indent=1, sort_keys=True))
    print(
        json.dumps(
            {
                "wall_s": round(wall, 2),
                "job_cpu_s": round(cpu, 2),
                "requests": meter.requests,
                "read_units": meter.read_units,
                "items_read": meter.items_read,
                "mb_read": round(meter.bytes_read / 1e6, 1),
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "rss_growth_mb": round((peak_kb - baseline_kb) / 1024, 1),
                "document_sha256": hashlib.sha256(
                    json.dumps({k: v for k, v in document.items() if k != "computed_at"}, sort_keys=True).encode()
                ).hexdigest()[:16],
                "nps": document["nps"]["all"]["nps"],
                "n": document["nps"]["all"]["n"],
            }
        ),
        flush=True,
    )


# ---------------------------------------------------------------------------------------------------- driver


def measure(accounts: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(accounts)],
        cwd=HERE,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        loaded = json.loads(server.stdout.readline())
        print(
            f"  {accounts:>6} accounts: {loaded['facts']:,} facts loaded into moto in {loaded['load_s']} s; "
            "running the job...",
            file=sys.stderr,
            flush=True,
        )
        done = subprocess.run(
            [sys.executable, __file__, "--job", loaded["endpoint"]],
            cwd=HERE,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
        result = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # moto's server thread can outlive stdin closing: stop it
            server.kill()
            server.wait()
    return {"accounts": accounts, "facts": loaded["facts"], **result}


def main(sizes: list[int]) -> None:
    print(f"monthly job for {MONTH}:", file=sys.stderr)
    rows = [measure(n) for n in sizes]
    base = rows[0]
    for row in rows:
        row["data_ratio"] = round((row["facts"] + row["accounts"]) / (base["facts"] + base["accounts"]), 2)
        row["cpu_ratio"] = round(row["job_cpu_s"] / base["job_cpu_s"], 2)
        row["memory_growth_ratio"] = round(max(row["rss_growth_mb"], 1) / max(base["rss_growth_mb"], 1), 2)
        row["read_units_per_1k_facts"] = round(1000 * row["read_units"] / row["facts"], 1)
    print(
        f"{'accounts':>9} {'facts':>8} {'wall s':>7} {'cpu s':>6} {'RCU':>8} {'requests':>9} "
        f"{'peak MB':>8} {'growth MB':>9} {'data x':>7} {'cpu x':>6} {'mem x':>6}",
        file=sys.stderr,
    )
    for r in rows:
        print(
            f"{r['accounts']:>9,} {r['facts']:>8,} {r['wall_s']:>7} {r['job_cpu_s']:>6} {r['read_units']:>8,.0f} "
            f"{sum(r['requests'].values()):>9,} {r['peak_rss_mb']:>8} {r['rss_growth_mb']:>9} "
            f"{r['data_ratio']:>7} {r['cpu_ratio']:>6} {r['memory_growth_ratio']:>6}",
            file=sys.stderr,
        )
    save_result("monthly", {"month": MONTH, "runs": rows})


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    elif len(sys.argv) > 2 and sys.argv[1] == "--job":
        job(sys.argv[2])
    else:
        main([int(a) for a in sys.argv[1:]] or list(SIZES))
