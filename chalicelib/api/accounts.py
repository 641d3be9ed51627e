"""Admin routes for accounts (owners, managers, segments and revenue by month)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.http import json_response, parse_body
from chalicelib.api.routing import api_route
from chalicelib.domain import validation
from chalicelib.errors import Invalid
from chalicelib.store import accounts as account_store

bp = Blueprint(__name__)


@api_route(bp, "/v1/accounts/{account_id}", methods=["PUT"], authorizer=admin_auth)
def put_account(account_id):
    require_scope(bp.current_request, "write")
    if not validation.ID_RE.match(account_id):
        raise Invalid("account_id is not valid.", fields={"account_id": "invalid"})
    fields = validation.account(parse_body(bp.current_request, limit=256 * 1024))
    created = account_store.upsert(account_id, fields)
    return json_response(account_store.to_dict(account_store.get(account_id)), 201 if created else 200)


@api_route(bp, "/v1/accounts/{account_id}", methods=["GET"], authorizer=admin_auth)
def get_account(account_id):
    require_scope(bp.current_request, "read")
    return json_response(account_store.to_dict(account_store.get(account_id)))
