"""Admin routes of relationship waves: start one now, list a survey's waves, read one."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.cursors import decode_cursor, encode_cursor
from chalicelib.api.http import json_response, limit_param, parse_body, query
from chalicelib.api.routing import api_route
from chalicelib.domain import clock, validation, waves
from chalicelib.domain.errors import Invalid, Malformed, NotFound
from chalicelib.events import wave_runs
from chalicelib.store import surveys as survey_store
from chalicelib.store import waves as wave_store
from chalicelib.usecases import waves as wave_cases

bp = Blueprint(__name__)


@api_route(bp, "/v1/surveys/{survey_id}/waves", methods=["POST"], authorizer=admin_auth)
def start_wave(survey_id):
    """Start a wave now (202): its first run is queued at once; `GET .../waves/{wave_id}` follows it."""
    require_scope(bp.current_request, "write")
    request = bp.current_request
    body = parse_body(request) if request.raw_body else None
    survey = survey_store.get(survey_id)
    schedule = survey.schedule.as_dict() if survey.schedule is not None else None
    rules, problems = waves.checked_wave(body, schedule)
    if problems:
        raise Invalid("The wave's settings are invalid.", fields=problems)
    wave = wave_cases.start(survey, rules, clock.utcnow())
    wave_runs.queue(survey.survey_id, wave.wave_id)
    stored = wave_store.get(survey.survey_id, wave.wave_id) or wave
    return json_response(wave_store.to_dict(stored), 202)


@api_route(bp, "/v1/surveys/{survey_id}/waves", methods=["GET"], authorizer=admin_auth)
def list_waves(survey_id):
    require_scope(bp.current_request, "read")
    params = query(bp.current_request, {"limit", "next"})
    cursor = decode_cursor(params.get("next"), f"waves:{survey_id}")
    if cursor is not None and not isinstance(cursor.get("w"), str):
        raise Malformed("The 'next' cursor is not one this API gave out.", fields={"next": "invalid"})
    survey = survey_store.get(survey_id)
    items, last = wave_store.page(survey.survey_id, limit_param(params), cursor and cursor["w"])
    return json_response(
        {
            "waves": [wave_store.to_dict(w) for w in items],
            "next": encode_cursor({"w": last} if last else None, f"waves:{survey_id}"),
        }
    )


@api_route(bp, "/v1/surveys/{survey_id}/waves/{wave_id}", methods=["GET"], authorizer=admin_auth)
def get_wave(survey_id, wave_id):
    require_scope(bp.current_request, "read")
    survey = survey_store.get(survey_id)
    wave = wave_store.get(survey.survey_id, wave_id) if validation.ID_RE.match(wave_id) else None
    if wave is None:
        raise NotFound("This survey has no wave with this id.", code="wave_not_found")
    return json_response(wave_store.to_dict(wave))
