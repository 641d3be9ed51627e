"""Admin routes for accounts (owners, managers, segments and revenue by month)."""

from __future__ import annotations

import json

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.cursors import decode_cursor, encode_cursor
from chalicelib.api.http import json_response, limit_param, parse_body, query
from chalicelib.api.routing import api_route
from chalicelib.domain import account_fields, clock, validation
from chalicelib.domain.errors import Invalid, Malformed, NotFound
from chalicelib.store import accounts as account_store

bp = Blueprint(__name__)


@api_route(bp, "/v1/accounts/{account_id}", methods=["PUT"], authorizer=admin_auth)
def put_account(account_id):
    require_scope(bp.current_request, "write")
    if not validation.ID_RE.match(account_id):
        raise Invalid("account_id is not valid.", fields={"account_id": "invalid"})
    fields = account_fields.account(parse_body(bp.current_request, limit=256 * 1024))
    created = account_store.upsert(account_id, fields)
    return json_response(account_store.to_dict(account_store.get(account_id)), 201 if created else 200)


def _with_standing(account, now) -> dict:
    return {**account_store.to_dict(account), **account_store.standing(account.account_id, now)}


@api_route(bp, "/v1/accounts", methods=["GET"], authorizer=admin_auth)
def list_accounts():
    require_scope(bp.current_request, "read")
    params = query(bp.current_request, {"segment", "owner", "limit", "next"})
    filters = {}
    for name in ("segment", "owner"):
        value = params.get(name)
        if value is not None and not 0 < len(value) <= 200:
            raise Invalid(f"{name} is not valid.", fields={name: "invalid"})
        filters[name] = value
    # Each account on the page costs a facts query for its standing, so pages are smaller than other lists.
    limit = limit_param(params, 50, 100)
    list_name = "accounts" + json.dumps(filters, sort_keys=True)
    cursor = decode_cursor(params.get("next"), list_name)
    if cursor is not None and set(cursor) != {"k"}:
        raise Malformed("The 'next' cursor is not one this API gave out.", fields={"next": "invalid"})
    items, nxt = account_store.list_page(filters, limit, cursor and cursor["k"])
    now = clock.utcnow()
    return json_response(
        {
            "accounts": [_with_standing(a, now) for a in items],
            "next": encode_cursor({"k": nxt} if nxt else None, list_name),
        }
    )


@api_route(bp, "/v1/accounts/{account_id}", methods=["GET"], authorizer=admin_auth)
def get_account(account_id):
    require_scope(bp.current_request, "read")
    if not validation.ID_RE.match(account_id):
        raise NotFound("No account has this id.", code="account_not_found")
    return json_response(_with_standing(account_store.get(account_id), clock.utcnow()))
