"""Helpers for the functional tests that look at DynamoDB itself: count the requests a piece of code makes,
snapshot tables to prove a refused request wrote nothing, check the contract's error shape, invite contacts."""

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


def all_tables() -> dict[str, list[dict]]:
    """A snapshot of every table, to prove a refused request wrote nothing anywhere."""
    from chalicelib.store.models import MODELS

    return snapshot(*MODELS.values())


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The contract's error shape, with this status (and code): nothing more, no stack trace."""
    assert response.status_code == status, (response.status_code, response.body)
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert "Traceback" not in body and 'File "' not in body
    assert response.json is not None, body
    assert set(response.json) == {"error"}, response.json
    error = response.json["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert isinstance(error["code"], str) and error["code"].replace("_", "").isalpha() and error["code"].islower()
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error


def invite(api, survey_id: str, *contacts: str | dict) -> list[dict]:
    """Invite contacts (ids, or full contact objects) and return the invitation results."""
    body = [c if isinstance(c, dict) else {"contact_id": c, "account_id": f"acc-{c}"} for c in contacts]
    r = api.post(f"/v1/surveys/{survey_id}/invitations", {"contacts": body})
    assert r.status_code == 201, r.body
    return r.json["invitations"]
