"""Relationship waves: what planning a wave of 100,000 contacts takes, and what each invited contact costs.

- planning: `domain/waves.select` over a directory of 100,000 contacts (400 a thousand accounts, five roles,
  some unsubscribed, bounced, throttled or with churned accounts), with caps: the time it takes and the peak
  memory it holds (tracemalloc), against the time of building those 100,000 candidates from scan rows, which
  a run does anyway (so the ratio says what the selection adds to reading the directory);
- cost on moto: one wave run over a directory of 500, through the survey_waves handler: DynamoDB requests and
  write units (as billed, bench/write_units.py) per contact invited, SQS messages per contact invited.

Run with `make bench` (or `cd bench && ../.venv/bin/python bench_waves.py`); the figures go to
dist/bench-waves.json.
"""

from __future__ import annotations

import json
import os
import random
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from common import RequestCounter, moto_tables, save_result
from write_units import WriteMeter

os.environ.setdefault("LINK_SIGNING_KEYS", "bench:bench-only-link-signing-key")
ROLES = ("decision_maker", "influencer", "user", "user", "finance")
STATUSES = ("active",) * 40 + ("unsubscribed", "bounced", "complained")


def _rows(n: int, now: datetime) -> list[dict]:
    """Scan rows as PynamoDB hands them to store/waves.candidates: ids, role, stamps as text."""
    rng = random.Random(11)
    rows = []
    for i in range(n):
        stamps = {}
        if rng.random() < 0.2:
            stamps["srv_wave"] = (now - timedelta(days=rng.randint(1, 400))).isoformat().replace("+00:00", "Z")
        if rng.random() < 0.1:
            stamps["srv_other"] = (now - timedelta(days=rng.randint(1, 60))).isoformat().replace("+00:00", "Z")
        rows.append(
            {
                "contact_id": f"c{i:06d}",
                "account_id": f"a{i // 4:05d}",
                "role": ROLES[i % 5],
                "status": STATUSES[rng.randrange(len(STATUSES))],
                "last_invited": stamps,
            }
        )
    return rows


def planning(n: int = 100_000) -> dict:
    from chalicelib.domain import waves
    from chalicelib.domain.clock import parse_timestamp

    now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    rows = _rows(n, now)
    rules = waves.Rules(roles=("decision_maker", "influencer", "user"), per_account=2, daily_cap=5000)
    inactive = {f"a{k:05d}" for k in range(0, n // 4, 20)}

    def candidates():
        return [
            waves.Candidate(
                r["contact_id"],
                r["account_id"],
                r["role"],
                r["status"],
                {k: at for k, v in r["last_invited"].items() if (at := parse_timestamp(v)) is not None},
            )
            for r in rows
        ]

    started = time.perf_counter()
    built = candidates()
    build_seconds = time.perf_counter() - started

    def select():
        return waves.select(
            built,
            survey_id="srv_wave",
            rules=rules,
            inactive_accounts=inactive,
            throttle_days=90,
            cross_survey_days=30,
            wave_started_at=now,
            invited_today=0,
            now=now,
        )

    started = time.perf_counter()
    selection = select()
    select_seconds = time.perf_counter() - started
    # Memory apart from time: tracemalloc slows every allocation down.
    tracemalloc.start()
    select()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    candidates()
    _, candidates_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    counts = selection.counts()
    return {
        "contacts": n,
        "select_seconds": round(select_seconds, 3),
        "candidates_from_rows_seconds": round(build_seconds, 3),
        "select_to_building_candidates": round(select_seconds / build_seconds, 2),
        "select_peak_mb": round(peak / 1e6, 1),
        "candidates_peak_mb": round(candidates_peak / 1e6, 1),
        "counts": counts,
        "invariant_holds": counts["invited"] + sum(counts["skipped"].values()) == counts["eligible"],
    }


def cost(n: int = 500) -> dict:
    import boto3
    from chalice.local import LambdaContext
    from chalice.test import Client

    from app import app
    from chalicelib import config
    from chalicelib.store import admin_tokens, models
    from chalicelib.store.models import Invitation

    with moto_tables(), Client(app) as client:
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="bench-send")["QueueUrl"]
        os.environ.update(SEND_QUEUE_URL=url)
        config.reset()
        config.settings()
        models.bind()
        token, _ = admin_tokens.create("bench", ["admin"])
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        always = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "00:00"}
        body = {"name": "Bench", "send_window": always, "reminders": {"count": 0}}
        survey = json.loads(client.http.post("/v1/surveys", headers=auth, body=json.dumps(body)).body)
        lines = "\n".join(
            json.dumps({"contact_id": f"p{i}", "account_id": f"a{i % 100}", "email": f"p{i}@example.com"})
            for i in range(n)
        )
        imported = client.http.post(
            "/v1/contacts/import", headers={**auth, "Content-Type": "application/x-ndjson"}, body=lines
        )
        assert json.loads(imported.body)["accepted"] == n
        from chalicelib.events import wave_runs

        meter = WriteMeter(os.environ.get("TABLE_PREFIX", "nps-dev-")).install()
        requests = RequestCounter().install()
        sent = {"messages": 0}

        def on_sqs(params, **kwargs):
            sent["messages"] += len(params.get("Entries", []))

        boto3.client("sqs", region_name="us-east-1").meta.events.register("before-call.sqs.SendMessageBatch", on_sqs)
        context = LambdaContext("survey_waves", 512, max_runtime_ms=900_000)
        wave_runs.use_local_runner(lambda payload: app.handler_map["survey_waves"](payload, context))
        meter.reset()
        meter.enabled = requests.enabled = True
        try:
            r = client.http.post(f"/v1/surveys/{survey['survey_id']}/waves", headers=auth, body="{}")
        finally:
            wave_runs.use_local_runner(None)
            meter.enabled = requests.enabled = False
        wave = json.loads(r.body)
        invited = Invitation.by_wave.count(wave["wave_id"])
        assert wave["invited"] == invited == n, wave
        queued = int(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]["ApproximateNumberOfMessages"]
        )
        return {
            "directory": n,
            "invited": invited,
            "per_contact_invited": {
                **meter.per(invited),
                "dynamodb_requests": round(sum(requests.calls.values()) / invited, 2),
                "requests_by_operation": {k: round(v / invited, 2) for k, v in sorted(requests.calls.items())},
                "sqs_messages": round(queued / invited, 2),
            },
        }


def main() -> None:
    result = {"planning_100k": planning(), "cost": cost()}
    save_result("waves", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
