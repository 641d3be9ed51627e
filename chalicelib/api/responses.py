"""Admin routes for responses: the export and one response."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.cursors import decode_cursor, encode_cursor
from chalicelib.api.http import json_response, limit_param, query
from chalicelib.api.routing import api_route
from chalicelib.domain import validation
from chalicelib.domain.errors import Invalid, NotFound
from chalicelib.store import response_export as response_store

bp = Blueprint(__name__)

ID_FILTERS = ("survey_id", "contact_id", "account_id")


def _filters(params: dict) -> dict:
    filters = {"month": validation.month(params["month"]) if params.get("month") else None}
    for name in ID_FILTERS:
        value = params.get(name)
        if value is not None and not validation.ID_RE.match(value):
            raise Invalid(f"{name} is not a valid id.", fields={name: "invalid"})
        filters[name] = value
    if filters["contact_id"] and filters["account_id"]:
        # A contact belongs to one account: the pair would only ever narrow the contact's list, and each
        # comes from a different index, so one of them is asked for at a time.
        raise Invalid(
            "Filter by contact_id or by account_id, not both.",
            fields={"contact_id": "not with account_id", "account_id": "not with contact_id"},
        )
    return filters


def _list_name(filters: dict) -> str:
    # The filters are part of what the cursor signs: a cursor of one filtered list is refused by another.
    return "responses?" + "&".join(f"{k}={v}" for k, v in sorted(filters.items()) if v)


@api_route(bp, "/v1/responses", methods=["GET"], authorizer=admin_auth)
def export_responses():
    require_scope(bp.current_request, "read")
    params = query(bp.current_request, {*ID_FILTERS, "month", "limit", "next"})
    filters = _filters(params)
    list_name = _list_name(filters)
    items, nxt = response_store.export_page(
        filters, limit_param(params, 100, 1000), decode_cursor(params.get("next"), list_name)
    )
    return json_response(
        {"responses": [response_store.to_export(r) for r in items], "next": encode_cursor(nxt, list_name)}
    )


@api_route(bp, "/v1/responses/{response_id}", methods=["GET"], authorizer=admin_auth)
def get_response(response_id):
    require_scope(bp.current_request, "read")
    if not validation.ID_RE.match(response_id):
        raise NotFound("No response has this id.", code="response_not_found")
    return json_response(response_store.to_export(response_store.get(response_id)))
