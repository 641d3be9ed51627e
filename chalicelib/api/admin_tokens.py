"""Admin routes to create, list and revoke admin tokens (scope `admin`)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.cursors import decode_cursor, encode_cursor
from chalicelib.api.http import json_response, limit_param, parse_body, query
from chalicelib.api.routing import api_route
from chalicelib.domain import validation
from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import Invalid, Malformed, NotFound
from chalicelib.store import admin_tokens

bp = Blueprint(__name__)


def _public(item) -> dict:
    return {
        "token_id": item.token_id,
        "name": item.name,
        "scopes": list(item.scopes),
        "created_at": timestamp(item.created_at),
        "revoked_at": timestamp(item.revoked_at),
    }


@api_route(bp, "/v1/admin/tokens", methods=["POST"], authorizer=admin_auth)
def create_token():
    require_scope(bp.current_request, "admin")
    body = parse_body(bp.current_request)
    errors = validation.require_object(body, {"name", "scopes"}, {"name", "scopes"})
    name = validation.text(errors, body, "name", max_len=100, min_len=1)
    scopes = validation.string_list(errors, body, "scopes", max_items=3, max_len=10)
    if any(s not in admin_tokens.SCOPES for s in scopes) or not scopes:
        errors.add("scopes", "must be a non-empty list of read, write, admin")
    errors.raise_if_any()
    token, item = admin_tokens.create(name, scopes)
    return json_response({**_public(item), "token": token}, 201)


@api_route(bp, "/v1/admin/tokens", methods=["GET"], authorizer=admin_auth)
def list_tokens():
    require_scope(bp.current_request, "admin")
    params = query(bp.current_request, {"limit", "next"})
    cursor = decode_cursor(params.get("next"), "admin_tokens")
    if cursor is not None and set(cursor) != {"k"}:
        raise Malformed("The 'next' cursor is not one this API gave out.", fields={"next": "invalid"})
    items, nxt = admin_tokens.list_page(limit_param(params, 100, 500), cursor and cursor["k"])
    return json_response(
        {"tokens": [_public(t) for t in items], "next": encode_cursor({"k": nxt} if nxt else None, "admin_tokens")}
    )


@api_route(bp, "/v1/admin/tokens/{token_id}", methods=["DELETE"], authorizer=admin_auth)
def revoke_token(token_id):
    require_scope(bp.current_request, "admin")
    if not validation.ID_RE.match(token_id):
        raise Invalid("token_id is not valid.", fields={"token_id": "invalid"})
    if not admin_tokens.revoke(token_id):
        raise NotFound("No token has this id.", code="token_not_found")
    return json_response({"token_id": token_id, "revoked": True})
