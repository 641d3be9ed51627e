"""The queue of emails to send: one message per email, naming only the invitation and the kind of email (no
address, no name: the sender reads those from the directory when it sends)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

BATCH = 10  # SQS SendMessageBatch's limit


class QueueRefused(Exception):
    """Some messages could not be queued (their ids)."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} emails could not be queued")
        self.ids = ids


def enqueue(queue_url: str, region: str, emails: Sequence[tuple[str, str, int]], client: Any = None) -> None:
    """Queue (invitation_id, kind, delay_seconds) each; SQS delays a message by up to 15 minutes."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not emails:
        return
    if client is None:
        import boto3  # here: only a call that sends pays for the client

        client = boto3.client("sqs", region_name=region)
    failed: list[str] = []
    for start in range(0, len(emails), BATCH):
        chunk = emails[start : start + BATCH]
        entries = [
            {
                "Id": str(n),
                "MessageBody": json.dumps({"invitation_id": inv, "kind": kind}, separators=(",", ":")),
                "DelaySeconds": max(0, min(900, delay)),
            }
            for n, (inv, kind, delay) in enumerate(chunk)
        ]
        try:
            answer = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
        except (BotoCoreError, ClientError):  # nothing of this chunk is known to be queued
            failed += [inv for inv, _, _ in chunk]
            continue
        failed += [chunk[int(f["Id"])][0] for f in answer.get("Failed", [])]
    if failed:
        raise QueueRefused(failed)
