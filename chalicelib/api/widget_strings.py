"""The widget's words for its survey, `GET /v1/surveys/{survey_id}/widget-strings`: public, asked by widget.js
before it shows its card. The language is `?lang=` (the widget's `data-lang`, else the host page's), else the
browser's Accept-Language; the words are the survey's own over the built-in ones (domain/widget_text.py).

A browser's request carries an Origin, which must be one of the survey's `allowed_origins`, as for the capture
route (api/capture.py): allowed origins get CORS headers, any other gets 403 `origin_not_allowed`. Without an
Origin (a server, curl) the answer has no CORS headers. Shared caches may keep an answer 5 minutes, apart per
Origin and Accept-Language."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.cors import headers_for as cors_headers_for
from chalicelib.api.http import header, json_response, query
from chalicelib.api.routing import api_route
from chalicelib.domain import languages, widget_text
from chalicelib.domain.errors import DomainError, Forbidden
from chalicelib.store import surveys as survey_store

bp = Blueprint(__name__)

PATH = "/v1/surveys/{survey_id}/widget-strings"
PARAMS = frozenset({"lang"})
CACHE_CONTROL = "public, max-age=300"
# The answer depends on both; a cache must not hand one origin's (or language's) answer to another.
VARY = "Origin, Accept-Language"


def _allowed(request, survey) -> dict[str, str]:
    """The CORS headers for the request's Origin; 403 for an Origin the survey does not allow."""
    origin = header(request, "origin")
    cors = cors_headers_for(survey, origin, "GET, OPTIONS")
    if origin and not cors:
        raise Forbidden("This origin may not show this survey's widget.", code="origin_not_allowed")
    return cors


def requested_languages(request, asked: object) -> list[str] | None:
    """`?lang=` when it is a language tag (anything else is ignored), else the browser's languages."""
    tag = languages.normalize(asked) if isinstance(asked, str) else None
    if tag:
        return [tag]
    return languages.preferred(header(request, "accept-language")) or None


@api_route(bp, PATH, methods=["OPTIONS"])
def widget_strings_preflight(survey_id):
    survey = survey_store.get_cached(survey_id)
    return json_response({}, 200, {**_allowed(bp.current_request, survey), "Vary": VARY})


@api_route(bp, PATH, methods=["GET"])
def widget_strings(survey_id):
    request = bp.current_request
    survey = survey_store.get_cached(survey_id)
    cors = _allowed(request, survey)
    try:
        params = query(request, PARAMS)
    except DomainError as error:
        error.headers = {**cors, "Vary": VARY}  # the widget may read why
        raise
    custom = survey.strings.as_dict() if survey.strings is not None else None
    body = widget_text.widget_strings(
        survey.question, custom, requested_languages(request, params.get("lang")), survey.language
    )
    return json_response(body, 200, {**cors, "Cache-Control": CACHE_CONTROL, "Vary": VARY})
