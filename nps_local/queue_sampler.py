"""The on-failure queue's depth sampled the way SQS publishes ApproximateNumberOfMessagesVisible, for the local
dashboard. A part of `LocalStack` (nps_local/stack.py), which it is mixed into."""

from __future__ import annotations

import logging
import threading

QUEUE_SAMPLE_INTERVAL = 10.0  # seconds between samples of the on-failure queue's depth

log = logging.getLogger("nps.local")


class QueueSampler:
    def _start_sampler(self) -> None:
        """Sample the on-failure queue's depth (SQS publishes ApproximateNumberOfMessagesVisible every minute)."""
        if not self.provisioned.on_failure_queue_url:
            return
        import boto3

        from chalicelib import config

        self._sqs = boto3.client("sqs", endpoint_url=self.moto_endpoint, region_name=config.settings().region)
        self._sample_queue()

        def run():
            while not self._sampler_stop.wait(QUEUE_SAMPLE_INTERVAL):
                self._sample_queue()

        self._sampler_stop.clear()
        self._sampler = threading.Thread(target=run, name="metrics-sampler", daemon=True)
        self._sampler.start()

    def _sample_queue(self) -> None:
        url = self.provisioned.on_failure_queue_url if self.provisioned else None
        if self._sqs is None or not url:
            return
        try:
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages"],  # what CloudWatch calls ...Visible
            )["Attributes"]
        except Exception:  # moto stopping, or a hiccup: the next sample will tell
            log.debug("sampling the on-failure queue failed", exc_info=True)
            return
        self.aws_metrics.queue_depth(url.rsplit("/", 1)[1], int(attributes["ApproximateNumberOfMessages"]))
