"""The reads and writes of an import (usecases/imports.py decides what to write): one BatchGetItem per page to
find what is already there, one BatchWriteItem per 25 items written."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain.months import Month
from chalicelib.store.models import Account, Response
from chalicelib.store.responses import shard_of


def response_id_for(external_id: str) -> str:
    """The id of the response imported from a row with this external_id (the same on every import)."""
    return clock.stable_id("rsp", "import", external_id)


def _account_values(a: Account) -> dict[str, Any]:
    revenue = a.revenue.as_dict() if a.revenue is not None else {}
    return {
        "name": a.name,
        "segment": a.segment,
        "owner": a.owner,
        "manager": a.manager,
        "revenue": {k: float(v) for k, v in revenue.items()},
        "status": a.status,
    }


def stored_accounts(account_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored accounts among these ids, by id, in the shape of a validated row (without its id)."""
    return {a.account_id: _account_values(a) for a in Account.batch_get(list(account_ids))}


def save_accounts(accounts: Iterable[tuple[str, dict[str, Any]]], now: datetime) -> None:
    """Replace each (account_id, values) given."""
    with Account.batch_write() as batch:
        for account_id, values in accounts:
            batch.save(Account(account_id, updated_at=now, **values))


def existing_responses(response_ids: Iterable[str]) -> set[str]:
    """Those of these response ids that are stored."""
    return {r.response_id for r in Response.batch_get(list(response_ids), attributes_to_get=["response_id"])}


def save_responses(rows: Iterable[tuple[str, dict[str, Any], str | None]]) -> None:
    """Insert each (response_id, validated row, the survey's touchpoint) as a version-1 response."""
    with Response.batch_write() as batch:
        for response_id, v, touchpoint in rows:
            when = v["submitted_at"]
            month = str(Month.of(when))
            batch.save(
                Response(
                    response_id,
                    survey_id=v["survey_id"],
                    external_id=v["external_id"],
                    contact_id=v["contact_id"],
                    account_id=v["account_id"],
                    score=v["score"],
                    comment=v["comment"],
                    drivers=v["drivers"] or None,
                    channel=v["channel"],
                    touchpoint=touchpoint,
                    first_submitted_at=when,
                    submitted_at=when,
                    month=month,
                    month_shard=f"{month}#{shard_of(response_id)}",
                    version=1,
                )
            )
