"""Sending surveys: what one emailed invitation costs, and how fast one sender goes against its configured rate.

- DynamoDB write units (as billed, bench/write_units.py) and requests per invitation sent: the invitation call
  with "send": true, the queue, the sender's claim, send and record (moto for DynamoDB, SQS and SES);
- SES calls and SQS messages per invitation sent;
- one sender's throughput on real time at a configured SES rate (SES_SEND_RATE / SENDER_CONCURRENCY), as a
  ratio to that rate (goal: close to 1, never above).

Run with `make bench` (or `cd bench && ../.venv/bin/python bench_sending.py`); the figures go to
dist/bench-sending.json.
"""

from __future__ import annotations

import json
import os
import time

from common import RequestCounter, moto_tables, save_result
from write_units import WriteMeter

os.environ.setdefault("LINK_SIGNING_KEYS", "bench:bench-only-link-signing-key")


def _environment(sqs, ses):
    from chalicelib import config
    from chalicelib.store import models

    dlq = sqs.create_queue(QueueName="bench-send-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName="bench-send",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "5"})},
    )["QueueUrl"]
    ses.create_email_identity(EmailIdentity="bench.example")
    os.environ.update(SEND_QUEUE_URL=url, MAIL_FROM="surveys@bench.example")
    config.reset()
    config.settings()
    models.bind()
    return url


def cost(n: int = 50) -> dict:
    import boto3
    from chalice.test import Client

    from app import app
    from chalicelib import config
    from chalicelib.events.sender import SendBatch, sender_pace
    from chalicelib.store import admin_tokens
    from chalicelib.store.mail import SesMailer
    from nps_local.queue_poller import QueuePoller

    with moto_tables(), Client(app) as client:
        sqs = boto3.client("sqs", region_name="us-east-1")
        ses = boto3.client("sesv2", region_name="us-east-1")
        url = _environment(sqs, ses)
        token, _ = admin_tokens.create("bench", ["admin"])
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        survey = json.loads(client.http.post("/v1/surveys", headers=auth, body=json.dumps({"name": "Bench"})).body)
        for i in range(n):
            body = {"account_id": f"a{i % 5}", "email": f"p{i}@example.com", "language": ("en", "de", "fr")[i % 3]}
            client.http.put(f"/v1/contacts/p{i}", headers=auth, body=json.dumps(body))
        ses_calls = {"SendEmail": 0}
        sqs_sends = {"messages": 0}

        def on_ses(**kwargs):
            ses_calls["SendEmail"] += 1

        def on_sqs(params, **kwargs):
            sqs_sends["messages"] += len(params.get("Entries", []))

        ses.meta.events.register("before-call.sesv2.SendEmail", on_ses)
        meter = WriteMeter(os.environ.get("TABLE_PREFIX", "nps-dev-")).install()
        requests = RequestCounter().install()
        meter.reset()
        meter.enabled = requests.enabled = True
        contacts = [{"contact_id": f"p{i}"} for i in range(n)]
        r = client.http.post(
            f"/v1/surveys/{survey['survey_id']}/invitations",
            headers=auth,
            body=json.dumps({"contacts": contacts, "send": True}),
        )
        assert r.status_code == 201, r.body
        settings = config.settings()

        def handler(event, context):
            mailer = SesMailer(settings.region, client=ses)
            return SendBatch(mailer, settings, sender_pace(settings), sleep=lambda s: None).run(event)

        counting = boto3.client("sqs", region_name="us-east-1")
        counting.meta.events.register("before-call.sqs.SendMessageBatch", on_sqs)
        poller = QueuePoller(sqs, url, handler)
        poller.poll_once()
        meter.enabled = requests.enabled = False
        queued = int(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"].get(
                "ApproximateNumberOfMessages", "0"
            )
        )
        return {
            "invitations": n,
            "per_invitation_sent": {
                **meter.per(n),
                "dynamodb_requests": round(sum(requests.calls.values()) / n, 2),
                "requests_by_operation": {k: round(v / n, 2) for k, v in sorted(requests.calls.items())},
                "ses_send_email_calls": ses_calls["SendEmail"] / n,
                "sqs_messages": poller.stats.delivered / n,
            },
            "left_in_queue": queued,
        }


def throughput(rate: float = 20.0, n: int = 100) -> dict:
    """One sender on real time: the rate it keeps against SES_SEND_RATE / SENDER_CONCURRENCY."""
    import boto3

    from chalicelib import config
    from chalicelib.events.sender import SendBatch, sender_pace
    from chalicelib.store import send_queue
    from chalicelib.store.mail import SesMailer
    from chalicelib.store.models import Contact, Invitation, Survey
    from nps_local.queue_poller import QueuePoller

    with moto_tables():
        sqs = boto3.client("sqs", region_name="us-east-1")
        ses = boto3.client("sesv2", region_name="us-east-1")
        url = _environment(sqs, ses)
        os.environ.update(SES_SEND_RATE=str(rate * 2), SENDER_CONCURRENCY="2")
        config.reset()
        settings = config.settings()
        from chalicelib.domain import clock

        now = clock.utcnow()
        Survey(
            "srv_bench", name="Bench", question="How likely?", identity_secret="x", created_at=now, updated_at=now
        ).save()
        ids = []
        for i in range(n):
            Contact(f"c{i}", account_id="a", email=f"c{i}@example.com").save()
            inv = Invitation(
                f"inv_{i:04d}",
                survey_id="srv_bench",
                contact_id=f"c{i}",
                account_id="a",
                survey_month="x",
                created_at=now,
                expires_at=now.replace(year=now.year + 1),
                key_id="bench",
            )
            inv.save()
            ids.append(inv.invitation_id)
        send_queue.enqueue(url, "us-east-1", [(i, "invitation", 0) for i in ids])
        sent_at = []

        def handler(event, context):
            mailer = SesMailer(settings.region, client=ses)
            batch = SendBatch(mailer, settings, sender_pace(settings))
            out = batch.run(event)
            sent_at.append(time.monotonic())
            return out

        poller = QueuePoller(sqs, url, handler)
        start = time.monotonic()
        poller.poll_once()
        elapsed = time.monotonic() - start
        achieved = n / elapsed
        share = settings.ses_send_rate / settings.sender_concurrency
        return {
            "emails": n,
            "ses_send_rate": settings.ses_send_rate,
            "sender_concurrency": settings.sender_concurrency,
            "share_per_sender": share,
            "seconds": round(elapsed, 2),
            "achieved_per_second": round(achieved, 2),
            "ratio_to_share": round(achieved / share, 3),
        }


if __name__ == "__main__":
    save_result("sending", {"cost": cost(), "throughput": throughput()})
