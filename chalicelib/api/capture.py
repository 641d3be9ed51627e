"""Public capture routes: the survey page behind an email link, its POST, the widget/API endpoint with its
CORS preflight, the widget script, unsubscribe. None of them needs an admin token."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import config
from chalicelib.api import pages
from chalicelib.api.http import header, html_response, json_response, parse_body
from chalicelib.api.routing import api_route
from chalicelib.domain import tokens, validation
from chalicelib.errors import ApiError, Forbidden, Gone, Invalid, NotFound
from chalicelib.store import invitations as invitation_store
from chalicelib.store import responses as response_store
from chalicelib.store import surveys as survey_store

bp = Blueprint(__name__)


def _claims(token: str, purpose: str) -> tokens.LinkClaims:
    s = config.settings()
    return tokens.verify_link(s.link_keys, token, purpose, tokens.utcnow())


def _open_survey(survey_id: str):
    survey = survey_store.get_cached(survey_id)
    if survey.status != "active":
        raise Gone("This survey is closed.", code="survey_closed")
    return survey


def _chosen_score(raw) -> int | None:
    if raw is None:
        return None
    # ASCII digits only: str.isdigit() also accepts characters such as "²" that int() refuses.
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 2 and 0 <= int(raw) <= 10 else None


@api_route(bp, "/s/{token}", methods=["GET"])
def survey_page(token):
    # Safe by design: mail scanners fetch every link in an email, so showing the page records nothing.
    try:
        claims = _claims(token, tokens.PURPOSE_SURVEY)
        survey = _open_survey(claims.survey_id)
    except ApiError as error:
        return html_response(pages.error_page(error.message), error.status)
    params = bp.current_request.query_params or {}
    chosen = _chosen_score(params.get("score"))
    return html_response(pages.survey_page(survey, token, chosen))


@api_route(bp, "/s/{token}", methods=["POST"])
def answer_invitation(token):
    request = bp.current_request
    form_post = (header(request, "content-type") or "").startswith("application/x-www-form-urlencoded")
    try:
        claims = _claims(token, tokens.PURPOSE_SURVEY)
        survey = _open_survey(claims.survey_id)
        body = parse_body(request, allow_form=True)
        answer, errors = validation.answer(body, list(survey.drivers or []), form=form_post)
        errors.raise_if_any()
        now = tokens.utcnow()
        response, created = response_store.record_answer(
            response_id=tokens.stable_id("rsp", claims.invitation_id),
            survey_id=survey.survey_id,
            channel="email",
            answer=answer,
            now=now,
            touchpoint=survey.touchpoint,
            invitation_id=claims.invitation_id,
            contact_id=claims.contact_id,
            account_id=claims.account_id,
        )
    except ApiError as error:
        if form_post:
            return html_response(pages.error_page(error.message), error.status)
        raise
    if form_post:
        return html_response(pages.thanks_page(survey, token, answer), 201 if created else 200)
    return json_response(
        {"response_id": response.response_id, "score": answer["score"], "created": created},
        201 if created else 200,
    )


def _cors_headers(survey, origin: str | None) -> dict:
    if not origin:
        return {}
    if validation.origin(origin) not in (survey.allowed_origins or []):
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key",
        "Access-Control-Max-Age": str(config.settings().cors_max_age),
        "Vary": "Origin",
    }


@api_route(bp, "/v1/surveys/{survey_id}/responses", methods=["OPTIONS"])
def widget_preflight(survey_id):
    request = bp.current_request
    origin = header(request, "origin")
    survey = survey_store.get_cached(survey_id)
    cors = _cors_headers(survey, origin)
    if not cors:
        raise Forbidden("This origin may not post to this survey.", code="origin_not_allowed")
    return json_response({}, 200, cors)


@api_route(bp, "/v1/surveys/{survey_id}/responses", methods=["POST"])
def widget_answer(survey_id):
    request = bp.current_request
    origin = header(request, "origin")
    survey = survey_store.get_cached(survey_id)
    cors = _cors_headers(survey, origin)
    try:
        if origin and not cors:
            raise Forbidden("This origin may not post to this survey.", code="origin_not_allowed")
        if survey.status != "active":
            raise Gone("This survey is closed.", code="survey_closed")
        body = parse_body(request)
        answer = validation.widget_answer(body, list(survey.drivers or []))
        contact_id = account_id = None
        if answer["identity"]:
            if not tokens.identity_matches(survey.identity_secret, answer["contact_id"], answer["identity"]):
                raise Forbidden("The identity signature does not match contact_id.", code="identity_refused")
            contact_id, account_id = answer["contact_id"], answer["account_id"]
        key = header(request, "idempotency-key")
        if key is not None and not (0 < len(key) <= 200):
            raise Invalid("Idempotency-Key must have 1 to 200 characters.", fields={"Idempotency-Key": "invalid"})
        response_id = tokens.stable_id("rsp", survey.survey_id, key) if key else tokens.new_id("rsp")
        created = response_store.create_once(
            response_id=response_id,
            survey_id=survey.survey_id,
            channel="widget" if origin else "api",
            answer=answer,
            now=tokens.utcnow(),
            touchpoint=survey.touchpoint,
            contact_id=contact_id,
            account_id=account_id,
            page=answer["page"],
        )
    except ApiError as error:
        error.headers = cors
        raise
    return json_response({"response_id": response_id, "created": created}, 201 if created else 200, cors)


@api_route(bp, "/widget.js", methods=["GET"])
def widget_script():
    return Response(
        body=pages.widget_js(),
        status_code=200,
        headers={"Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "public, max-age=300"},
    )


@api_route(bp, "/u/{token}", methods=["GET"])
def unsubscribe_page(token):
    try:
        _claims(token, tokens.PURPOSE_UNSUBSCRIBE)
    except ApiError as error:
        return html_response(pages.error_page(error.message), error.status)
    return html_response(pages.unsubscribe_page(token, done=False))


@api_route(bp, "/u/{token}", methods=["POST"])
def unsubscribe(token):
    try:
        claims = _claims(token, tokens.PURPOSE_UNSUBSCRIBE)
    except Gone:
        raise NotFound("This link is not valid.") from None
    invitation_store.unsubscribe(claims.contact_id, tokens.utcnow())
    if "json" in (header(bp.current_request, "accept") or ""):
        return json_response({"unsubscribed": True})
    return html_response(pages.unsubscribe_page(token, done=True))


@api_route(bp, "/v1/health", methods=["GET"])
def health():
    from chalicelib.store.models import Survey, bind

    bind()
    if not Survey.exists():
        return json_response({"status": "starting"}, 503)
    return json_response({"status": "ok"})
