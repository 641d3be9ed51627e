"""Admin import routes: accounts with revenue, and response history from other tools."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.http import content_type, json_response, raw_body
from chalicelib.api.routing import api_route
from chalicelib.domain import clock, importing
from chalicelib.usecases import imports

bp = Blueprint(__name__)

# API Gateway and Lambda cap a request near 6 MB; larger files go through the CLI, which sends pages.
MAX_IMPORT_BODY = 5 * 1024 * 1024


def _rows():
    request = bp.current_request
    ctype = importing.check_content_type(content_type(request))
    text = importing.decode(raw_body(request, MAX_IMPORT_BODY))
    return importing.rows(text, ctype)


@api_route(bp, "/v1/accounts/import", methods=["POST"], authorizer=admin_auth)
def import_accounts():
    require_scope(bp.current_request, "write")
    report = imports.import_accounts(_rows(), clock.utcnow())
    return json_response(report.as_dict())


@api_route(bp, "/v1/responses/import", methods=["POST"], authorizer=admin_auth)
def import_responses():
    require_scope(bp.current_request, "write")
    report = imports.import_responses(_rows(), clock.utcnow())
    return json_response(report.as_dict())
