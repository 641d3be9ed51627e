"""Admin routes for monthly metrics and the monthly report."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.http import html_response, json_response
from chalicelib.api.routing import api_route
from chalicelib.domain import validation
from chalicelib.errors import NotFound

bp = Blueprint(__name__)


def _month(value: str) -> str:
    return validation.month(value)


@api_route(bp, "/v1/metrics/{month}", methods=["GET"], authorizer=admin_auth)
def get_metrics(month):
    require_scope(bp.current_request, "read")
    from chalicelib.store import metrics_inputs

    found = metrics_inputs.load([_month(month)])
    if month not in found:
        raise NotFound(f"Metrics for {month} were never computed; POST /v1/metrics/{month}/recompute.",
                       code="metrics_not_computed")
    return json_response(found[month])


@api_route(bp, "/v1/metrics/{month}/recompute", methods=["POST"], authorizer=admin_auth)
def recompute_metrics(month):
    require_scope(bp.current_request, "write")
    from chalicelib.events.monthly_job import run_month

    return json_response(run_month(_month(month)), 200)


@api_route(bp, "/v1/reports/{month}", methods=["GET"], authorizer=admin_auth)
def monthly_report(month):
    require_scope(bp.current_request, "read")
    from chalicelib.store import metrics_inputs

    months = metrics_inputs.months_back(_month(month), 12)
    found = metrics_inputs.load(months)
    if month not in found:
        raise NotFound(f"Metrics for {month} were never computed; POST /v1/metrics/{month}/recompute.",
                       code="metrics_not_computed")
    from chalicelib.reports.monthly_report import render_report
    from chalicelib.store import surveys

    current = found[month]
    survey_ids = {*(current.get("nps", {}).get("by_survey") or {}), *(current.get("response_rate") or {})}
    return html_response(render_report(month, current, [found[m] for m in months if m in found],
                                       surveys.names(survey_ids)))
