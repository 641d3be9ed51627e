"""Accounts: who owns the relationship, its segment, and revenue by month; and their standing (latest score,
category, health) from the facts the stream wrote."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.domain import clock
from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import NotFound
from chalicelib.store.conditions import condition_failed
from chalicelib.store.models import Account, ResponseFact
from chalicelib.store.response_export import start_key


def to_dict(a: Account) -> dict:
    revenue = a.revenue.as_dict() if a.revenue is not None else {}
    return {
        "account_id": a.account_id,
        "name": a.name,
        "segment": a.segment,
        "owner": a.owner,
        "manager": a.manager,
        "revenue": {k: float(v) for k, v in sorted(revenue.items())},
        "status": a.status,
        "updated_at": timestamp(a.updated_at),
    }


def get(account_id: str) -> Account:
    try:
        return Account.get(account_id)
    except DoesNotExist:
        raise NotFound("No account has this id.", code="account_not_found") from None


def upsert(account_id: str, fields: dict) -> bool:
    """Replace the account's fields (PUT semantics); True when it did not exist before."""
    item = Account(account_id, updated_at=clock.utcnow(), **fields)
    try:
        item.save(condition=Account.account_id.does_not_exist(), add_version_condition=False)
        return True
    except PutError as error:
        if not condition_failed(error):
            raise
    item.save(add_version_condition=False)
    return False


def batch_get(account_ids) -> dict[str, Account]:
    ids = sorted({a for a in account_ids if a})
    return {a.account_id: a for a in Account.batch_get(ids)} if ids else {}


def list_page(filters: dict, limit: int, cursor_key: dict | None) -> tuple[list[Account], dict | None]:
    """A page of accounts in table order. `segment` and `owner` filter the page as it is read (a filter
    expression: the scan reads the same items either way, so a filtered page may be short)."""
    condition = None
    for attr, name in ((Account.segment, "segment"), (Account.owner, "owner")):
        if filters.get(name):
            clause = attr == filters[name]
            condition = clause if condition is None else condition & clause
    result = Account.scan(
        filter_condition=condition, limit=limit, last_evaluated_key=start_key(cursor_key, ("account_id",))
    )
    items = list(result)
    return items, result.last_evaluated_key


def standing(account_id: str, now: datetime) -> dict:
    """Latest score, category, NPS and health of one account (domain/account_standing.py), read from its
    counted responses in the facts table: one query for the 12-month window, newest first, and one more for
    the latest score only when the window is empty."""
    from chalicelib.domain import account_standing  # the monthly rules stay off the capture path

    attrs = ["response_id", "contact_id", "score", "first_submitted_at"]

    def rated(facts):
        return [account_standing.Rated(f.response_id, f.contact_id, int(f.score), f.first_submitted_at) for f in facts]

    window = rated(
        ResponseFact.by_account.query(
            account_id,
            range_key_condition=ResponseFact.first_submitted_at >= account_standing.window_start(now),
            scan_index_forward=False,
            attributes_to_get=attrs,
        )
    )
    latest = max(window, key=lambda r: (r.first_submitted_at, r.response_id), default=None)
    if latest is None:
        older = rated(
            ResponseFact.by_account.query(account_id, scan_index_forward=False, limit=1, attributes_to_get=attrs)
        )
        latest = older[0] if older else None
    return account_standing.standing(window, latest, now)
