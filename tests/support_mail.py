"""Sending on moto's SQS and SES, shared by the sending tests: the send queue with its dead-letter queue, the
emails moto's SES kept, and the sender run by the local queue poller."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from chalicelib import config
from chalicelib.domain import sending
from chalicelib.events.sender import SendBatch
from chalicelib.store.mail import SesMailer
from nps_local.queue_poller import QueuePoller

SENDER = "surveys@nps.example"


@pytest.fixture
def queues(aws):
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = sqs.create_queue(QueueName="nps-test-send-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName="nps-test-send",
        Attributes={
            "VisibilityTimeout": "300",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
    ses = boto3.client("sesv2", region_name="us-east-1")
    ses.create_email_identity(EmailIdentity="nps.example")
    os.environ.update(SEND_QUEUE_URL=url, MAIL_FROM=f"Contoso surveys <{SENDER}>", SES_SEND_RATE="1000")
    _settings_again()
    yield {"sqs": sqs, "url": url, "dlq": dlq, "ses": ses}
    for name in ("SEND_QUEUE_URL", "MAIL_FROM", "SES_SEND_RATE"):
        os.environ.pop(name, None)
    config.reset()


def sent_messages():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def _settings_again():
    """Read the settings again, here and not inside a request: the test client runs each request with the
    stage's environment from .chalice/config.json, whose table prefix is not the tests'."""
    from chalicelib.store import models

    config.reset()
    config.settings()
    models.bind()


class FakeTime:
    """The sender's clock and sleep: a sleep moves the clock on at once, and is recorded."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def _sender(queues, ses_client, clock=None):
    settings = config.settings()
    clock = clock or FakeTime()

    def handler(event, context):
        pace = sending.Pace(rate=settings.ses_send_rate)
        mailer = SesMailer(settings.region, client=ses_client)
        return SendBatch(mailer, settings, pace, sleep=clock.sleep, monotonic=clock.monotonic).run(event)

    return QueuePoller(queues["sqs"], queues["url"], handler, retry_now=True)
