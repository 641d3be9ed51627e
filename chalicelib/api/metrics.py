"""Admin routes for monthly metrics and the monthly report, and the public signed report link (`/r/{token}`)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.http import flag_param, html_response, json_response, query
from chalicelib.api.routing import api_route
from chalicelib.domain import clock
from chalicelib.domain import months as month_list
from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import Invalid, NotFound
from chalicelib.domain.months import MONTH_RE

bp = Blueprint(__name__)

# A report link carries a token in its URL: it must not leak through a Referer, be cached or be indexed.
REPORT_LINK_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _month(value: str) -> str:
    if not isinstance(value, str) or not MONTH_RE.fullmatch(value):
        raise Invalid("Months are written YYYY-MM.", fields={"month": "must be YYYY-MM"})
    return value


def _not_computed(month: str) -> NotFound:
    return NotFound(
        f"Metrics for {month} were never computed; POST /v1/metrics/{month}/recompute.", code="metrics_not_computed"
    )


def _running(answer: dict):
    # Relative (RFC 9110), so that it keeps a stage prefix: .../prod/v1/metrics/{month}/recompute -> ../{month}
    return json_response(answer, 202, headers={"Location": f"../{answer['month']}"})


@api_route(bp, "/v1/metrics/{month}", methods=["GET"], authorizer=admin_auth)
def get_metrics(month):
    require_scope(bp.current_request, "read")
    from chalicelib.store import metrics_inputs

    month = _month(month)
    found = metrics_inputs.load([month])
    if month not in found:
        raise _not_computed(month)
    return json_response(found[month])


@api_route(bp, "/v1/metrics/{month}/recompute", methods=["POST"], authorizer=admin_auth)
def recompute_metrics(month):
    """Queue the monthly function for a month and wait (up to recompute.WAIT_SECONDS) for its document, or with
    ?wait=false answer 202 at once. While a run of the month is going, starts nothing and waits for that run
    (or answers 202 with it). A run not done in time answers 202 as wait=false does. Nothing is computed here."""
    require_scope(bp.current_request, "write")
    wait = flag_param(query(bp.current_request, {"wait"}), "wait", True)
    month = _month(month)
    from chalicelib.domain.months import Month

    if Month.parse(month).is_future(clock.utcnow()):
        raise Invalid(
            f"{month} has not begun yet; a month can be computed from its first day (the running month "
            "gives partial figures).",
            fields={"month": "in the future"},
            code="future_month",
        )
    from chalicelib.events import recompute

    answer, document = recompute.recompute(month, wait=wait)
    return json_response(document, 200) if document is not None else _running(answer)


def _report_html(month: str) -> str:
    from chalicelib import config
    from chalicelib.store import metrics_inputs

    months = month_list.ending(month, 12)
    found = metrics_inputs.load(months)
    if month not in found:
        raise _not_computed(month)
    from chalicelib.reports.monthly_report import render_report
    from chalicelib.store import surveys

    current = found[month]
    survey_ids = {*(current.get("nps", {}).get("by_survey") or {}), *(current.get("response_rate") or {})}
    return render_report(
        month,
        current,
        [found[m] for m in months if m in found],
        surveys.names(survey_ids),
        currency=current.get("currency") or config.settings().currency,
    )


@api_route(bp, "/v1/reports/{month}", methods=["GET"], authorizer=admin_auth)
def monthly_report(month):
    require_scope(bp.current_request, "read")
    return html_response(_report_html(_month(month)))


@api_route(bp, "/v1/reports/{month}/link", methods=["POST"], authorizer=admin_auth)
def report_link(month):
    """A link to the month's report that a browser opens without the admin token, valid report_link_seconds."""
    require_scope(bp.current_request, "read")
    query(bp.current_request, set())
    month = _month(month)
    from datetime import timedelta

    from chalicelib import config
    from chalicelib.domain import report_links
    from chalicelib.store import metrics_inputs

    if month not in metrics_inputs.load([month]):
        raise _not_computed(month)
    settings = config.settings()
    expires = clock.utcnow().replace(microsecond=0) + timedelta(seconds=settings.report_link_seconds)
    token = report_links.sign(settings.link_keys, settings.active_link_key, month, expires)
    return json_response(
        {
            "month": month,
            "url": f"{settings.public_base_url}/r/{token}",
            "expires_at": timestamp(expires),
        }
    )


@api_route(bp, "/r/{token}", methods=["GET", "HEAD"])
def signed_report(token):
    """The report a signed link names (public: the signature is the permission); HEAD answers as GET does,
    without the body."""
    from chalicelib import config
    from chalicelib.domain import report_links
    from chalicelib.domain.errors import DomainError

    try:
        claims = report_links.verify(config.settings().link_keys, token, clock.utcnow())
        html = _report_html(claims.month)
        return html_response("" if bp.current_request.method == "HEAD" else html, headers=REPORT_LINK_HEADERS)
    except DomainError as error:
        error.headers = REPORT_LINK_HEADERS
        raise
