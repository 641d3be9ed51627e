"""Doubles for the poller tests: a moto stream to poll, and a recording stand-in for the handler."""

from __future__ import annotations

import functools
import json
import uuid


class RecordingHandler:
    """A stream handler double: records every invocation and fails the records it is told to.

    `fail` maps an item id to how many times its record is reported failed (None: every time);
    `raise_on` holds item ids whose presence in a batch makes the handler raise (None: every time).
    """

    def __init__(self, fail=None, raise_on=None):
        self.fail = dict(fail or {})
        self.raise_on = dict(raise_on or {})
        self.invocations: list[list[str]] = []
        self.events: list[dict] = []
        self.processed: list[str] = []  # ids handled successfully, in the order the handler saw them

    @staticmethod
    def item_id(record) -> str:
        return record["dynamodb"]["Keys"]["pk"]["S"]

    def _take(self, table: dict, key: str) -> bool:
        if key not in table:
            return False
        left = table[key]
        if left is None:
            return True
        if left <= 0:
            return False
        table[key] = left - 1
        return True

    def __call__(self, event, context):
        self.events.append(event)
        ids = [self.item_id(r) for r in event["Records"]]
        self.invocations.append(ids)
        if any(self._take(self.raise_on, i) for i in ids):
            raise RuntimeError("handler failed")
        failures = []
        for record, item in zip(event["Records"], ids, strict=True):
            if self._take(self.fail, item):
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
            else:
                self.processed.append(item)
        return {"batchItemFailures": failures}


@functools.cache
def _clients():
    # Made once: moto intercepts every botocore client, and making three per test costs half a second.
    import boto3

    return tuple(boto3.client(name, region_name="us-east-1") for name in ("dynamodb", "dynamodbstreams", "sqs"))


class MotoStream:
    """A table with a NEW_AND_OLD_IMAGES stream and an on-failure queue, in an in-process moto account."""

    def __init__(self):
        self.dynamodb, self.streams, self.sqs = _clients()
        self.table = f"poller-{uuid.uuid4().hex[:8]}"
        self.dynamodb.create_table(
            TableName=self.table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.queue_url = self.sqs.create_queue(QueueName=f"{self.table}-failures")["QueueUrl"]

    def put(self, count: int, start: int = 0) -> list[str]:
        ids = [f"item-{n:03d}" for n in range(start, start + count)]
        for item in ids:
            self.dynamodb.put_item(TableName=self.table, Item={"pk": {"S": item}, "blob": {"B": b"\x00\x01"}})
        return ids

    def poller(self, handler, **mapping):
        from nps_local.poller import StreamPoller
        from nps_local.template import StreamMapping

        settings = {
            "batch_size": 10,
            "max_retries": 3,
            "bisect_on_error": False,
            "report_item_failures": True,
            "starting_position": "TRIM_HORIZON",
        }
        settings.update(mapping)
        return StreamPoller.for_table(
            self.table,
            dynamodb_client=self.dynamodb,
            streams_client=self.streams,
            mapping=StreamMapping(**settings),
            handler=handler,
            sqs_client=self.sqs,
            on_failure_queue_url=self.queue_url,
            interval=0.01,
        )

    def failure_messages(self) -> list[dict]:
        out = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return out
            for message in got:
                out.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
