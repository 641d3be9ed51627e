"""The API function queues the monthly job and reads what it stored; it never imports the job or the monthly
statistics. Checked in a fresh interpreter (the test process has long imported both): import `app`, then drive
the recompute, metrics and report routes through chalice's test client on moto, and look at `sys.modules`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Only the monthly function needs these.
JOB_ONLY = (
    "chalicelib.events.monthly_job",
    "chalicelib.domain.monthly",
    "chalicelib.domain.monthly_inputs",
    "chalicelib.domain.revenue_per_point",
    "chalicelib.domain.loop_metrics",
)

SCRIPT = """
import json, sys
from moto import mock_aws
from moto.core.models import default_user_config
from chalicelib.domain import clock

default_user_config["lambda"]["use_docker"] = False
document = json.loads(sys.stdin.read())
with mock_aws():
    from chalice.test import Client

    from app import app
    from chalicelib.events import recompute
    from chalicelib.store import admin_tokens, metrics_inputs, models

    models.bind()
    for model in models.MODELS.values():
        model.create_table(billing_mode="PAY_PER_REQUEST")
    token, _ = admin_tokens.create("imports", ["admin"])
    recompute.WAIT_SECONDS = 0.2  # nothing runs moto's queued event: the waiting recompute answers the run
    headers = {"Authorization": f"Bearer {token}"}
    seen = {}
    with Client(app) as client:
        for name, method, path in [
            ("queued", "POST", "/v1/metrics/2026-09/recompute?wait=false"),
            ("running", "POST", "/v1/metrics/2026-09/recompute"),
            ("waited", "POST", "/v1/metrics/2026-08/recompute"),
            ("missing", "GET", "/v1/metrics/2026-07"),
        ]:
            seen[name] = client.http.request(method, path, headers=headers).status_code
        metrics_inputs.save("2026-07", json.dumps(document), clock.utcnow())
        seen["metrics"] = client.http.get("/v1/metrics/2026-07", headers=headers).status_code
        seen["report"] = client.http.get("/v1/reports/2026-07", headers=headers).status_code
    print(json.dumps({"status": seen, "modules": sorted(sys.modules)}))
"""


def test_the_api_function_does_not_import_the_monthly_job():
    from chalicelib.domain.monthly import compute_month

    document = compute_month(
        "2026-07", responses=[], accounts=[], invitations={}, tasks=[], computed_at=datetime(2026, 8, 1, tzinfo=UTC)
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == {
        "queued": 202,
        "running": 202,
        "waited": 202,
        "missing": 404,
        "metrics": 200,
        "report": 200,
    }
    loaded = set(answer["modules"])
    assert "chalicelib.events.recompute" in loaded and "chalicelib.store.metrics_inputs" in loaded
    assert [name for name in JOB_ONLY if name in loaded] == []
