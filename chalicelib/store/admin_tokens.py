"""Admin bearer tokens: created once (shown once), stored only as SHA-256 hashes, scoped, revocable."""

from __future__ import annotations

import hmac

from pynamodb.exceptions import DoesNotExist

from chalicelib.domain import clock, tokens
from chalicelib.store.models import AdminToken

SCOPES = ("read", "write", "admin")


def create(name: str, scopes: list[str]) -> tuple[str, AdminToken]:
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise ValueError(f"scopes must be among {SCOPES}")
    token_id, token = tokens.new_admin_token()
    item = AdminToken(
        token_id,
        token_hash=tokens.hash_admin_token(token),
        name=name,
        scopes=list(scopes),
        created_at=clock.utcnow(),
    )
    item.save(condition=AdminToken.token_id.does_not_exist())
    return token, item


def create_with_value(token: str, name: str, scopes: list[str]) -> AdminToken:
    """Store a token chosen by the operator (the local stack's NPS_LOCAL_ADMIN_TOKEN)."""
    token_id = tokens.admin_token_id(token) or tokens.hash_admin_token(token)[:16]
    item = AdminToken(
        token_id,
        token_hash=tokens.hash_admin_token(token),
        name=name,
        scopes=list(scopes),
        created_at=clock.utcnow(),
    )
    item.save()
    return item


def resolve(token: str) -> AdminToken | None:
    """The live token record for a presented bearer token, or None. One GetItem."""
    token_id = tokens.admin_token_id(token) or tokens.hash_admin_token(token)[:16]
    try:
        item = AdminToken.get(token_id, consistent_read=True)
    except DoesNotExist:
        return None
    if item.revoked_at is not None:
        return None
    if not hmac.compare_digest(item.token_hash, tokens.hash_admin_token(token)):
        return None
    return item


def revoke(token_id: str) -> bool:
    try:
        item = AdminToken.get(token_id)
    except DoesNotExist:
        return False
    if item.revoked_at is None:
        item.update(actions=[AdminToken.revoked_at.set(clock.utcnow())])
    return True


def list_page(limit: int, cursor_key: dict | None) -> tuple[list[AdminToken], dict | None]:
    """A page of tokens (hashes are never shown: the route picks the public fields) and the next start key."""
    from chalicelib.store.response_export import start_key

    result = AdminToken.scan(limit=limit, last_evaluated_key=start_key(cursor_key, ("token_id",)))
    items = list(result)
    return items, result.last_evaluated_key
