"""Admin routes for responses: the export."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.cursors import decode_cursor, encode_cursor
from chalicelib.api.http import json_response, limit_param, query
from chalicelib.api.routing import api_route
from chalicelib.domain import validation
from chalicelib.errors import Invalid
from chalicelib.store import response_export as response_store

bp = Blueprint(__name__)


@api_route(bp, "/v1/responses", methods=["GET"], authorizer=admin_auth)
def export_responses():
    require_scope(bp.current_request, "read")
    params = query(bp.current_request, {"survey_id", "month", "limit", "next"})
    month = validation.month(params["month"]) if params.get("month") else None
    survey_id = params.get("survey_id")
    if survey_id is not None and not validation.ID_RE.match(survey_id):
        raise Invalid("survey_id is not a survey id.", fields={"survey_id": "invalid"})
    items, nxt = response_store.export_page(survey_id, month, limit_param(params, 100, 1000),
                                            decode_cursor(params.get("next")))
    return json_response(
        {"responses": [response_store.to_export(r) for r in items], "next": encode_cursor(nxt)}
    )
