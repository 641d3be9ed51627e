"""Public capture routes: the survey page behind an email link, its POST, the widget/API endpoint with its
CORS preflight, the widget script, unsubscribe. None of them needs an admin token."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib import config
from chalicelib.api import pages
from chalicelib.api.cors import headers_for as cors_headers_for
from chalicelib.api.http import header, html_response, json_response, parse_body, status_of
from chalicelib.api.routing import api_route
from chalicelib.domain import answers, clock, presence, tokens
from chalicelib.domain.errors import DomainError, Forbidden, Gone, Invalid, NotFound
from chalicelib.store import responses as response_store
from chalicelib.store import surveys as survey_store
from chalicelib.usecases import unsubscribe as unsubscribing

bp = Blueprint(__name__)


def _claims(token: str, purpose: str) -> tokens.LinkClaims:
    s = config.settings()
    return tokens.verify_link(s.link_keys, token, purpose, clock.utcnow())


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


def _page(request, html: str, status: int = 200, csp: str | None = None):
    """An HTML answer; HEAD gets the same status and headers without the body."""
    headers = {"Content-Security-Policy": csp or pages.PAGE_CSP}
    if request.method == "HEAD":
        return html_response("", status, headers)
    return html_response(html, status, headers)


def _languages(request, survey, asked: object) -> list[str] | None:
    """The languages to show the page in, best first: the link's `lang` (the emails the service sends carry
    the contact's language there, so the page needs no read), else, for a survey without a language of its
    own, the browser's (Accept-Language). A `lang` that is not a language tag is ignored."""
    from chalicelib.domain import languages

    tag = languages.normalize(asked) if isinstance(asked, str) and len(asked) <= 35 else None
    if tag:
        return [tag]
    if getattr(survey, "language", None):
        return None
    return languages.preferred(header(request, "accept-language")) or None


@api_route(bp, "/s/{token}", methods=["GET", "HEAD"])
def survey_page(token):
    # Safe by design: mail scanners fetch every link in an email, so showing the page records nothing. The
    # page's script records a chosen score only after a person's gesture, or after the page stayed visible
    # (domain/presence.py).
    request = bp.current_request
    try:
        claims = _claims(token, tokens.PURPOSE_SURVEY)
        survey = _open_survey(claims.survey_id)
    except DomainError as error:
        return _page(request, pages.error_page(error.message), status_of(error))
    params = request.query_params or {}
    chosen = _chosen_score(params.get("score"))
    html = pages.survey_page(
        survey,
        token,
        chosen,
        submission=clock.new_id("sub"),
        dwell_seconds=config.settings().dwell_seconds,
        requested=_languages(request, survey, params.get("lang")),
    )
    return _page(request, html, csp=pages.SURVEY_CSP)


@api_route(bp, "/s/{token}", methods=["POST"])
def answer_invitation(token):
    request = bp.current_request
    form_post = (header(request, "content-type") or "").startswith("application/x-www-form-urlencoded")
    survey = None
    try:
        claims = _claims(token, tokens.PURPOSE_SURVEY)
        survey = _open_survey(claims.survey_id)
        body = parse_body(request, allow_form=True)
        answer = answers.link_answer(body, list(survey.drivers or []), form=form_post)
        recorded = response_store.answer_by_link(
            response_id=clock.stable_id("rsp", claims.invitation_id),
            survey_id=survey.survey_id,
            answer={k: answer[k] for k in ("score", "comment", "drivers") if k in answer},
            now=clock.utcnow(),
            touchpoint=survey.touchpoint,
            invitation_id=claims.invitation_id,
            contact_id=claims.contact_id,
            account_id=claims.account_id,
            signal=answer["signal"],
            view=answer["view"],
            submission=answer["submission"],
        )
    except DomainError as error:
        if form_post:
            return html_response(
                pages.error_page(error.message, survey=survey, token=token, error=error),
                status_of(error),
                {"Content-Security-Policy": pages.PAGE_CSP},
            )
        raise
    status = 201 if recorded.created else 200
    if form_post:
        return html_response(
            pages.thanks_page(survey, token, recorded.score), status, {"Content-Security-Policy": pages.PAGE_CSP}
        )
    body = {
        "response_id": recorded.response_id,
        "score": recorded.score,
        "created": recorded.created,
        "status": recorded.status,
    }
    if recorded.replayed:
        body["replayed"] = True
    return json_response(body, status)


def _cors_headers(survey, origin: str | None) -> dict:
    return cors_headers_for(survey, origin, "POST, OPTIONS", "Content-Type, Idempotency-Key")


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
        answer = answers.widget_answer(body, list(survey.drivers or []))
        now = clock.utcnow()
        contact_id = account_id = None
        status, excluded_reason = presence.COUNTED, None
        if answer["identity"]:
            if not tokens.identity_verifies(
                survey, answer["contact_id"], answer["account_id"], answer["identity"], now
            ):
                raise Forbidden(
                    "The identity signature does not match contact_id and account_id.", code="identity_refused"
                )
            contact_id, account_id = answer["contact_id"], answer["account_id"]
        else:
            policy = survey.anonymous_answers or "counted"
            if policy == "refused":
                raise Forbidden("This survey takes answers only with a signed identity.", code="identity_required")
            if policy == "excluded":
                status, excluded_reason = presence.EXCLUDED, "anonymous"
        key = header(request, "idempotency-key")
        if key is not None and not (0 < len(key) <= 200):
            raise Invalid("Idempotency-Key must have 1 to 200 characters.", fields={"Idempotency-Key": "invalid"})
        response_id = clock.stable_id("rsp", survey.survey_id, key) if key else clock.new_id("rsp")
        written = response_store.create_once(
            response_id=response_id,
            survey_id=survey.survey_id,
            channel="widget" if origin else "api",
            answer=answer,
            now=now,
            touchpoint=survey.touchpoint,
            contact_id=contact_id,
            account_id=account_id,
            page=answer["page"],
            status=status,
            excluded_reason=excluded_reason,
        )
    except DomainError as error:
        error.headers = cors
        raise
    # throttle_days tells the widget how long not to ask this browser again.
    result = {"response_id": response_id, "created": written.created, "throttle_days": int(survey.throttle_days)}
    if written.updated:
        result["updated"] = True
    return json_response(result, 201 if written.created else 200, cors)


@api_route(bp, "/widget.js", methods=["GET"])
def widget_script():
    return Response(
        body=pages.widget_js(),
        status_code=200,
        headers={
            "Content-Type": "application/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
        },
    )


@api_route(bp, "/u/{token}", methods=["GET", "HEAD"])
def unsubscribe_page(token):
    request = bp.current_request
    try:
        _claims(token, tokens.PURPOSE_UNSUBSCRIBE)
    except DomainError as error:
        return _page(request, pages.error_page(error.message), status_of(error))
    return _page(request, pages.unsubscribe_page(token, done=False))


@api_route(bp, "/u/{token}", methods=["POST"])
def unsubscribe(token):
    try:
        claims = _claims(token, tokens.PURPOSE_UNSUBSCRIBE)
    except Gone:
        raise NotFound("This link is not valid.") from None
    unsubscribing.unsubscribe(claims, clock.utcnow())
    if "json" in (header(bp.current_request, "accept") or ""):
        return json_response({"unsubscribed": True})
    return html_response(pages.unsubscribe_page(token, done=True), 200, {"Content-Security-Policy": pages.PAGE_CSP})


@api_route(bp, "/v1/health", methods=["GET"])
def health():
    from chalicelib.store.models import Survey

    if not Survey.exists():
        return json_response({"status": "starting"}, 503)
    return json_response({"status": "ok"})
