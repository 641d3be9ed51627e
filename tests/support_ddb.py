"""Test helpers that look at DynamoDB itself: count the requests a piece of code makes, and snapshot tables to
prove a refused request wrote nothing."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter

from botocore.client import BaseClient

READS = ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable")
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


class DynamoCalls(Counter):
    """Operation name -> number of DynamoDB requests made while the counter was active."""

    @property
    def reads(self) -> int:
        return sum(self[op] for op in READS)

    @property
    def writes(self) -> int:
        return sum(self[op] for op in WRITES)


@contextlib.contextmanager
def count_dynamodb_calls():
    """Count every DynamoDB request any botocore client sends (PynamoDB's included, from any thread).

    The count is taken where botocore turns an operation into a request (``BaseClient._make_api_call``), so a
    client created while the block runs is counted too; retries inside botocore count once, as DynamoDB bills.
    """
    calls = DynamoCalls()
    lock = threading.Lock()
    original = BaseClient._make_api_call

    def counting(self, operation_name, api_params):
        if self.meta.service_model.service_name == "dynamodb":
            with lock:
                calls[operation_name] += 1
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counting
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original


def table_items(model) -> list[dict]:
    """Every item of a model's table, as plain attribute dicts sorted by key (a snapshot to compare)."""
    items = [item.to_dynamodb_dict() for item in model.scan(consistent_read=True)]
    hash_key = model._hash_keyname
    return sorted(items, key=lambda item: str(item[hash_key]))


def snapshot(*models) -> dict[str, list[dict]]:
    return {model.__name__: table_items(model) for model in models}
