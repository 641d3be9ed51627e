"""Capture path figures:

- DynamoDB requests per captured response once the survey settings are cached (goal: 1 write, 0 reads), for
  an email link answer (a gesture with its submission id, and a dwell kept pending), a widget answer and a
  widget answer with a signed identity, through the real Chalice app on moto;
- what settling pending one-click answers costs: requests per 1,000 pending answers, and the idle cost of the
  rate(1 minute) schedule;
- `import app` time in a fresh interpreter divided by `import boto3` time (goal: at most 1.5);
- p50/p95 latency of a capture over HTTP through the local stack (`python -m nps_local.stack`);
- DynamoDB write units (as billed: item sizes rounded up to the kilobyte, each index's entry, bench/write_units.py)
  per answered email survey (the link's score, then its comment, then the stream's fact and task effects, for a
  detractor, a passive and a promoter, the two records delivered apart as in life or in one batch), per widget
  answer, per API answer and per task update, by table and index. Goal: at most 6 per answered email survey.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

from common import ROOT, RequestCounter, moto_tables, save_result
from write_units_per_answer import write_units

from chalicelib.domain import clock

RUNS = 9
# The service refuses to start without link keys (outside the local stack); the bench brings its own.
os.environ.setdefault("LINK_SIGNING_KEYS", "bench:bench-only-link-signing-key")


def requests_per_capture() -> dict:
    from chalice.test import Client

    from app import app
    from chalicelib.store import admin_tokens

    out = {}
    with moto_tables(), Client(app) as client:
        token, _ = admin_tokens.create("bench", ["admin"])
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        survey = json.loads(
            client.http.post(
                "/v1/surveys",
                headers=auth,
                body=json.dumps({"name": "Bench", "allowed_origins": ["https://shop.example.com"]}),
            ).body
        )
        contacts = [{"contact_id": f"c{i}", "account_id": "a1"} for i in range(40)]
        invites = json.loads(
            client.http.post(
                f"/v1/surveys/{survey['survey_id']}/invitations", headers=auth, body=json.dumps({"contacts": contacts})
            ).body
        )["invitations"]
        links = ["/" + inv["link"].split("/", 3)[3] for inv in invites]
        counter = RequestCounter().install()
        # warm the survey cache with one answer, then count the next ones
        client.http.post(links[0], headers={"Content-Type": "application/json"}, body='{"score": 5}')
        counter.enabled = True
        for link in links[1:]:
            r = client.http.post(link, headers={"Content-Type": "application/json"}, body='{"score": 9}')
            assert r.status_code == 201
        counter.enabled = False
        n = len(links) - 1
        out["email_link"] = {
            "answers": n,
            "requests": dict(counter.calls),
            "writes_per_response": counter.writes / n,
            "reads_per_response": counter.reads / n,
        }
        counter.reset()
        counter.enabled = True
        for i in range(n):
            r = client.http.post(
                f"/v1/surveys/{survey['survey_id']}/responses",
                headers={
                    "Content-Type": "application/json",
                    "Origin": "https://shop.example.com",
                    "Idempotency-Key": f"k{i}",
                },
                body='{"score": 3}',
            )
            assert r.status_code == 201
        counter.enabled = False
        out["widget"] = {
            "answers": n,
            "requests": dict(counter.calls),
            "writes_per_response": counter.writes / n,
            "reads_per_response": counter.reads / n,
        }

        invites = json.loads(
            client.http.post(
                f"/v1/surveys/{survey['survey_id']}/invitations",
                headers=auth,
                body=json.dumps({"contacts": [{"contact_id": f"d{i}", "account_id": "a1"} for i in range(n)]}),
            ).body
        )["invitations"]
        for name, signal in (("email_link_dwell", "dwell"), ("email_link_gesture", "gesture")):
            counter.reset()
            counter.enabled = True
            for inv in invites:
                body = {
                    "score": 9,
                    "signal": signal,
                    "view": secrets.token_hex(12),
                    "submission": secrets.token_hex(12),
                }
                r = client.http.post(
                    "/" + inv["link"].split("/", 3)[3],
                    headers={"Content-Type": "application/json"},
                    body=json.dumps(body),
                )
                assert r.status_code in (200, 201), r.body
            counter.enabled = False
            out[name] = {
                "answers": n,
                "requests": dict(counter.calls),
                "writes_per_response": counter.writes / n,
                "reads_per_response": counter.reads / n,
            }

        from chalicelib.domain import tokens

        counter.reset()
        counter.enabled = True
        for i in range(n):
            contact = f"w{i}"
            identity = tokens.identity_signature(survey["identity_secret"], contact, "a1")
            r = client.http.post(
                f"/v1/surveys/{survey['survey_id']}/responses",
                headers={"Content-Type": "application/json", "Origin": "https://shop.example.com"},
                body=json.dumps({"score": 3, "contact_id": contact, "account_id": "a1", "identity": identity}),
            )
            assert r.status_code == 201, r.body
        counter.enabled = False
        out["widget_with_identity"] = {
            "answers": n,
            "requests": dict(counter.calls),
            "writes_per_response": counter.writes / n,
            "reads_per_response": counter.reads / n,
        }
    return out


def settle_cost(pending: int = 1000) -> dict:
    """Requests of one settle run over `pending` answers kept pending (half of them a scanner's, with two
    different scores), and of a run with nothing to settle (what the schedule costs every minute)."""
    from datetime import timedelta

    from chalicelib.events.settle import run_settle
    from chalicelib.store import responses as response_store

    with moto_tables():
        counter = RequestCounter().install()
        now = clock.utcnow()
        counter.enabled = True
        started = time.perf_counter()
        idle = run_settle(now)
        idle_seconds = time.perf_counter() - started
        counter.enabled = False
        idle_requests = dict(counter.calls)
        for i in range(pending):
            common = {
                "response_id": f"rsp_bench_{i}",
                "survey_id": "srv_bench",
                "touchpoint": None,
                "signal": "dwell",
                "now": now,
            }
            response_store.answer_by_link(answer={"score": 8}, view=f"view-{i:06d}a", **common)
            if i % 2:
                response_store.answer_by_link(answer={"score": 2}, view=f"view-{i:06d}b", **common)
        counter.reset()
        counter.enabled = True
        started = time.perf_counter()
        result = run_settle(now + timedelta(seconds=91))
        seconds = time.perf_counter() - started
        counter.enabled = False
        assert result["counted"] + result["excluded"] == pending, result
        per_day = 24 * 60
        return {
            "pending": pending,
            "result": result,
            "requests": dict(counter.calls),
            "requests_per_1000": {k: v * 1000 / pending for k, v in counter.calls.items()},
            "run_seconds_on_moto": round(seconds, 2),
            "idle_run": {"result": idle, "requests": idle_requests, "seconds_on_moto": round(idle_seconds, 3)},
            "schedule": {
                "expression": "rate(1 minute)",
                "invocations_per_day": per_day,
                "invocations_per_30_days": per_day * 30,
                "idle_queries_per_30_days": idle_requests.get("Query", 0) * per_day * 30,
            },
        }


def fresh_import_seconds(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return float(out.stdout.strip())


def import_ratio() -> dict:
    app_times, boto_times = [], []
    for _ in range(RUNS):
        boto_times.append(fresh_import_seconds("import boto3"))
        app_times.append(fresh_import_seconds("import app"))
    app_ms, boto_ms = statistics.median(app_times) * 1000, statistics.median(boto_times) * 1000
    return {
        "import_app_ms": round(app_ms, 1),
        "import_boto3_ms": round(boto_ms, 1),
        "ratio": round(app_ms / boto_ms, 2),
        "goal": 1.5,
        "runs": RUNS,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stack_latency(samples: int = 200) -> dict:
    port = free_port()
    token = "npsa_0123456789abcdef.bench-token-for-latency"
    env = {**os.environ, "PORT": str(port), "NPS_DEMO": "0", "NPS_LOCAL_ADMIN_TOKEN": token, "PYTHONPATH": str(ROOT)}
    for key in ("TABLE_PREFIX", "NPS_STAGE"):
        env.pop(key, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nps_local.stack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/v1/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the local stack did not start")
            time.sleep(0.1)

        def call(method, path, body, headers=None):
            req = urllib.request.Request(
                base + path,
                data=json.dumps(body).encode(),
                method=method,
                headers={"Content-Type": "application/json", **(headers or {})},
            )
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())

        auth = {"Authorization": f"Bearer {token}"}
        _, survey = call("POST", "/v1/surveys", {"name": "Latency"}, auth)
        contacts = [{"contact_id": f"c{i}", "account_id": "a1"} for i in range(samples)]
        _, invites = call("POST", f"/v1/surveys/{survey['survey_id']}/invitations", {"contacts": contacts}, auth)
        links = ["/" + inv["link"].split("/", 3)[3] for inv in invites["invitations"]]
        call("POST", links[0], {"score": 8})
        latencies = []
        for link in links[1:]:
            started = time.perf_counter()
            status, _ = call("POST", link, {"score": 6, "comment": "fine"})
            latencies.append((time.perf_counter() - started) * 1000)
            assert status == 201
        latencies.sort()
        return {
            "captures": len(latencies),
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    if sys.argv[1:] == ["write_units"]:
        print(json.dumps(write_units(), indent=2))
        return
    result = {
        "requests_per_capture": requests_per_capture(),
        "write_units": write_units(),
        "settle_pending": settle_cost(),
        "import_time": import_ratio(),
    }
    try:
        result["local_stack_capture_latency"] = stack_latency()
    except (RuntimeError, OSError) as error:
        result["local_stack_capture_latency"] = {"error": str(error)}
    save_result("capture", result)


if __name__ == "__main__":
    main()
