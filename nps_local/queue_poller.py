"""Deliver an SQS queue to a Lambda handler with Lambda's SQS event-source-mapping semantics.

Each poll receives up to `batch_size` messages (which makes them invisible for the queue's visibility
timeout), invokes the handler with them as an SQS event, and deletes the messages the handler did not report in
`batchItemFailures`; a handler that raises fails them all. A failed message becomes visible again when its
visibility timeout runs out and SQS counts every receive: after the queue's `maxReceiveCount` SQS itself (moto,
here) moves it to the dead-letter queue. `retry_now=True` makes failed messages visible at once, for tests that
must not wait out a timeout.

`poll_once()` delivers what is visible now and returns; `start()` polls on a background thread.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("nps.local.queue_poller")


@dataclass
class QueueStats:
    invocations: int = 0
    delivered: int = 0
    deleted: int = 0
    failed: int = 0


def _record(message: dict, queue_arn: str, region: str) -> dict:
    attrs = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attrs.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attrs.get("SentTimestamp", "0"),
            "SenderId": attrs.get("SenderId", "local"),
            "ApproximateFirstReceiveTimestamp": attrs.get("ApproximateFirstReceiveTimestamp", "0"),
        },
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class QueuePoller:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Callable[[dict, Any], Any],
        *,
        batch_size: int = 10,
        retry_now: bool = False,
        region: str = "us-east-1",
        context_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.batch_size = batch_size
        self.retry_now = retry_now
        self.region = region
        self.context_factory = context_factory
        self.stats = QueueStats()
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _context(self) -> Any:
        if self.context_factory is not None:
            return self.context_factory()
        from chalice.local import LambdaContext

        return LambdaContext("survey_sender", 256, max_runtime_ms=60_000)

    def poll_once(self, max_rounds: int = 1000) -> int:
        """Deliver until the queue has nothing visible; the number of messages delivered."""
        delivered = 0
        for _ in range(max_rounds):
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size),
                AttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            messages = answer.get("Messages", [])
            if not messages:
                break
            delivered += len(messages)
            self._invoke(messages)
        return delivered

    def _invoke(self, messages: list[dict]) -> None:
        event = {"Records": [_record(m, self.queue_arn, self.region) for m in messages]}
        self.stats.invocations += 1
        self.stats.delivered += len(messages)
        try:
            result = self.handler(event, self._context())
            failed_ids = {f.get("itemIdentifier") for f in (result or {}).get("batchItemFailures", [])}
        except Exception:
            log.exception("the queue's handler failed; its %d messages are delivered again", len(messages))
            failed_ids = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        failed = [m for m in messages if m["MessageId"] in failed_ids]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)],
            )
            self.stats.deleted += len(done)
        self.stats.failed += len(failed)
        if failed and self.retry_now:
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for n, m in enumerate(failed)
                ],
            )

    def start(self, interval: float = 1.0) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.poll_once()
                except Exception:
                    log.exception("polling the queue failed")
                self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name=f"queue-poller-{uuid.uuid4().hex[:6]}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
