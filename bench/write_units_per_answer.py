"""DynamoDB write units per answered email survey, widget answer, API answer and task update, by table and index
(bench/write_units.py bills them), through the real app and stream handler on moto: a figure of bench_capture.py
(`python bench_capture.py write_units` prints it alone)."""

from __future__ import annotations

import json
import os

from common import moto_tables
from write_units import WriteMeter

COMMENT = "The invoice was wrong twice and support took a week to answer."


def write_units() -> dict:
    """Write units per answer and per task update, on fresh tables, through the real app and stream handler."""
    import contextlib
    import io

    from chalice.test import Client

    from app import app
    from chalicelib.events.account_cache import forget_cached_accounts
    from chalicelib.store import admin_tokens
    from chalicelib.store import surveys as survey_store
    from chalicelib.store.models import LoopTask
    from nps_local.responses_stream import responses_poller

    def deliver(stream):
        """The stream's new records, in the template's batches, to response_stream invoked as Lambda invokes it."""
        with contextlib.redirect_stdout(io.StringIO()):
            stats = stream.poll_once()
        assert stats["partial_failures"] == stats["function_errors"] == 0, stats
        return stats["records_checkpointed"]

    out: dict = {}
    n = 10
    with moto_tables(), Client(app) as client:
        survey_store.clear_cache()
        forget_cached_accounts()
        prefix = os.environ["TABLE_PREFIX"]
        token, _ = admin_tokens.create("bench", ["admin"])
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        json_ = {"Content-Type": "application/json"}
        r = client.http.put(
            "/v1/accounts/a1", headers=auth, body=json.dumps({"name": "Acme", "owner": "olive@example.com"})
        )
        assert r.status_code in (200, 201), r.body
        survey = json.loads(
            client.http.post(
                "/v1/surveys",
                headers=auth,
                body=json.dumps({"name": "Bench", "allowed_origins": ["https://shop.example.com"]}),
            ).body
        )
        sid = survey["survey_id"]
        stream = responses_poller(client)
        meter = WriteMeter(prefix).install()
        batch = 0

        def links(count):
            nonlocal batch
            batch += 1
            contacts = [{"contact_id": f"b{batch}-{i}", "account_id": "a1"} for i in range(count)]
            body = json.dumps({"contacts": contacts})
            invites = json.loads(client.http.post(f"/v1/surveys/{sid}/invitations", headers=auth, body=body).body)
            stream.read_new()  # nothing of the invitations reaches the responses stream; start after them
            return ["/" + inv["link"].split("/", 3)[3] for inv in invites["invitations"]]

        email = {}
        for category, score in (("detractor", 2), ("passive", 7), ("promoter", 9)):
            for delivery in ("apart", "together"):
                todo = links(n)
                meter.reset()
                meter.enabled = True
                for link in todo:
                    assert client.http.post(link, headers=json_, body=json.dumps({"score": score})).status_code == 201
                if delivery == "apart":
                    deliver(stream)
                for link in todo:
                    body = json.dumps({"score": score, "comment": COMMENT})
                    assert client.http.post(link, headers=json_, body=body).status_code == 200
                deliver(stream)
                meter.enabled = False
                email[f"{category}_{delivery}"] = meter.per(n)
        out["answered_email_survey"] = email

        for name, headers in (
            ("widget_answer", {**json_, "Origin": "https://shop.example.com"}),
            ("api_answer", json_),
        ):
            meter.reset()
            meter.enabled = True
            for i in range(n):
                body = json.dumps({"score": 3, "comment": COMMENT})
                r = client.http.post(
                    f"/v1/surveys/{sid}/responses", headers={**headers, "Idempotency-Key": f"{name}{i}"}, body=body
                )
                assert r.status_code == 201, r.body
            deliver(stream)
            meter.enabled = False
            out[name] = meter.per(n)

        task_ids = [t.task_id for t in LoopTask.scan()][:n]
        meter.reset()
        meter.enabled = True
        for task_id in task_ids:
            r = client.http.patch(f"/v1/tasks/{task_id}", headers=auth, body=json.dumps({"status": "in_progress"}))
            assert r.status_code == 200, r.body
            r = client.http.patch(f"/v1/tasks/{task_id}", headers=auth, body=json.dumps({"note": "Called them."}))
            assert r.status_code == 200, r.body
        meter.enabled = False
        out["task_update"] = meter.per(2 * len(task_ids))
    out["goal"] = {"answered_email_survey": 6}
    return out
