"""The survey sender: the Lambda function `survey_sender`, fed by the send queue (SQS). Each message names one
email (an invitation and a kind); usecases/send_email.py sends it exactly once. Powertools' batch processor
reports the messages to deliver again (a transient SES error, an email another attempt holds), so the rest of
the batch is not sent twice. The sender keeps its share of the account's SES rate (SES_SEND_RATE divided by
SENDER_CONCURRENCY, the most senders the queue's event source runs at once)."""

from __future__ import annotations

import json
import time

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint

from chalicelib import config
from chalicelib.domain import clock, sending
from chalicelib.logs import end_invocation, log_keys, logger
from chalicelib.ops.metric_names import NAMESPACE

bp = Blueprint(__name__)

# The queue delivers a message at most this many times (infra/template.yaml: maxReceiveCount), then moves it to
# the dead-letter queue; on the last delivery a transient failure is recorded as `failed`.
MAX_RECEIVES = 5
# Seconds kept for sending one email and recording it before the invocation's end (at most a quarter of it).
TIME_MARGIN = 10.0


class SendBatch(BatchProcessor):
    """One invocation's batch of emails, with its mailer and its pace."""

    def __init__(
        self,
        mailer,
        settings,
        pace: sending.Pace,
        sleep=time.sleep,
        monotonic=time.monotonic,
        deadline: float | None = None,
    ) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self.mailer = mailer
        self.settings = settings
        self.pace = pace
        self.sleep = sleep
        self.monotonic = monotonic
        # The last monotonic moment an email may start in this invocation: one whose slot would come later is
        # left for the next delivery (a slow share of the rate cannot make every batch time out whole).
        self.deadline = deadline
        self.outcomes: dict[str, int] = {}

    def send_record(self, record: SQSRecord) -> str:
        from chalicelib.usecases import send_email

        body = json.loads(record.body)
        if not isinstance(body, dict) or not isinstance(body.get("invitation_id"), str):
            self._count("failed")
            logger.warning("dropped a message that names no invitation", extra={"message_id": record.message_id})
            return "failed"
        receives = int(record.attributes.approximate_receive_count or 1)
        now = self.monotonic()
        slot = max(now, self.pace.next_at or now)
        if self.deadline is not None and slot > self.deadline:
            self._count("retry")
            raise send_email.RetryLater("no time left in this invocation")
        wait = self.pace.reserve(now)
        if wait:
            self.sleep(wait)
        with log_keys(invitation_id=body["invitation_id"], kind=body.get("kind"), receives=receives):
            try:
                outcome = send_email.send(
                    body["invitation_id"],
                    str(body.get("kind") or sending.FIRST),
                    clock.utcnow(),
                    mailer=self.mailer,
                    settings=self.settings,
                    last_try=receives >= MAX_RECEIVES,
                )
            except send_email.RetryLater as later:
                self._count("retry")
                logger.info("email to send again", extra={"reason": str(later)})
                raise
            self._count(outcome.result)
            logger.info("email done", extra={"result": outcome.result, "detail": outcome.detail})
            return outcome.result

    def _count(self, result: str) -> None:
        self.outcomes[result] = self.outcomes.get(result, 0) + 1

    def run(self, event) -> PartialItemFailureResponse:
        records = event.get("Records") if isinstance(event, dict) else None
        if not records:
            return {"batchItemFailures": []}
        with self(records=records, handler=self.send_record):
            self.process()
        for result, count in sorted(self.outcomes.items()):
            with single_metric(name="Emails", unit=MetricUnit.Count, value=count, namespace=NAMESPACE) as metric:
                metric.add_dimension(name="result", value=result)
        return self.response()


# A container's pace outlives its invocations: the next batch's first email waits for the last one's spacing,
# so back-to-back batches never burst above the rate. (Keyed by rate: a changed setting starts afresh.)
_PACES: dict[float, sending.Pace] = {}


def sender_pace(settings) -> sending.Pace:
    rate = settings.ses_send_rate / max(1, settings.sender_concurrency)
    return _PACES.setdefault(rate, sending.Pace(rate=rate))


@bp.lambda_function(name="survey_sender")
@logger.inject_lambda_context
def survey_sender(event, context):
    from chalicelib.store.mail import SesMailer

    settings = config.settings()
    try:
        with log_keys(correlation_id=getattr(context, "aws_request_id", None)):
            mailer = SesMailer(settings.region, settings.ses_configuration_set)
            remaining = getattr(context, "get_remaining_time_in_millis", None)
            deadline = None
            if callable(remaining):
                left = remaining() / 1000
                deadline = time.monotonic() + left - min(TIME_MARGIN, left / 4)
            return SendBatch(mailer, settings, sender_pace(settings), deadline=deadline).run(event)
    finally:
        end_invocation()
