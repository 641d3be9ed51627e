"""Admin routes for monthly metrics and the monthly report."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.http import flag_param, html_response, json_response, query
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
    """Compute a month now and answer its document, or with ?wait=false queue the monthly function and answer 202.

    The API function has 28 seconds; past a few thousand accounts use wait=false (see the README)."""
    require_scope(bp.current_request, "write")
    wait = flag_param(query(bp.current_request, {"wait"}), "wait", True)
    month = _month(month)
    if not wait:
        from chalicelib.events.recompute import start_month

        run_id = start_month(month)
        # Relative (RFC 9110), so that it keeps a stage prefix: .../prod/v1/metrics/{month}/recompute -> ../{month}
        return json_response({"month": month, "status": "started", "run_id": run_id}, 202,
                             headers={"Location": f"../{month}"})
    from chalicelib.events.monthly_job import run_month

    return json_response(run_month(month), 200)


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
