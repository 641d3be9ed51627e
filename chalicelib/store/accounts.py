"""Accounts: who owns the relationship, its segment, and revenue by month."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.domain import tokens
from chalicelib.errors import NotFound
from chalicelib.store.models import Account, bind


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
        "updated_at": a.updated_at.isoformat() if a.updated_at else None,
    }


def get(account_id: str) -> Account:
    bind()
    try:
        return Account.get(account_id)
    except DoesNotExist:
        raise NotFound("No account has this id.", code="account_not_found") from None


def upsert(account_id: str, fields: dict) -> bool:
    """Replace the account's fields (PUT semantics); True when it did not exist before."""
    bind()
    item = Account(account_id, updated_at=tokens.utcnow(), **fields)
    try:
        item.save(condition=Account.account_id.does_not_exist(), add_version_condition=False)
        return True
    except PutError as error:
        if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
    item.save(add_version_condition=False)
    return False


def batch_get(account_ids) -> dict[str, Account]:
    bind()
    ids = sorted({a for a in account_ids if a})
    return {a.account_id: a for a in Account.batch_get(ids)} if ids else {}
