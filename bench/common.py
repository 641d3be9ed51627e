"""Shared by the benchmarks: an in-process moto account with the tables, and a DynamoDB request counter."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

os.environ.update(
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    NPS_STAGE="bench",
    TABLE_PREFIX="nps-bench-",
    POWERTOOLS_SERVICE_NAME="nps",
    POWERTOOLS_METRICS_NAMESPACE="NpsBackend",
    POWERTOOLS_LOG_LEVEL="WARNING",
)
os.environ.pop("DYNAMODB_ENDPOINT", None)

READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@contextmanager
def moto_tables():
    from moto import mock_aws

    from chalicelib.store import models

    with mock_aws():
        models.bind()
        for model in models.MODELS.values():
            model.create_table(billing_mode="PAY_PER_REQUEST")
        yield


def on_every_table_client(event: str, handler) -> None:
    """Register a botocore event handler once on each DynamoDB client the PynamoDB models use."""
    from chalicelib.store.models import MODELS

    seen = set()
    for model in MODELS.values():
        client = model._get_connection().connection.client
        if id(client) not in seen:
            seen.add(id(client))
            client.meta.events.register(event, handler)


class RequestCounter:
    """Counts DynamoDB API requests (not items) by operation, on every model's client."""

    def __init__(self) -> None:
        self.calls: Counter = Counter()
        self.enabled = False

    def __call__(self, model, params, **kwargs):
        if self.enabled:
            self.calls[kwargs["event_name"].rsplit(".", 1)[-1]] += 1

    def install(self) -> RequestCounter:
        on_every_table_client("before-call.dynamodb", self)
        return self

    @property
    def reads(self) -> int:
        return sum(v for k, v in self.calls.items() if k in READS)

    @property
    def writes(self) -> int:
        return sum(v for k, v in self.calls.items() if k in WRITES)

    def reset(self) -> None:
        self.calls.clear()


def save_result(name: str, result: dict) -> None:
    out = ROOT / "dist"
    out.mkdir(exist_ok=True)
    (out / f"bench-{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
