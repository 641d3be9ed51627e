"""Admin routes for surveys and invitations."""

from __future__ import annotations

from datetime import timedelta

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.cursors import decode_cursor, encode_cursor
from chalicelib.api.http import json_response, limit_param, parse_body, query
from chalicelib.api.routing import api_route
from chalicelib.domain import clock, survey_definition, validation
from chalicelib.domain import invitations as invitation_rules
from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import Invalid, Malformed
from chalicelib.store import surveys as survey_store
from chalicelib.usecases import invitations

bp = Blueprint(__name__)

MAX_INVITES_PER_CALL = 500
MAX_SEND_AHEAD = timedelta(days=90)  # a transactional survey sent some time after its touchpoint


@api_route(bp, "/v1/surveys", methods=["POST"], authorizer=admin_auth)
def create_survey():
    require_scope(bp.current_request, "write")
    fields = survey_definition.survey(parse_body(bp.current_request))
    survey = survey_store.create(fields)
    # The only answer that shows the secret, besides a rotation.
    return json_response(survey_store.to_dict(survey, with_secret=True), 201)


@api_route(bp, "/v1/surveys", methods=["GET"], authorizer=admin_auth)
def list_surveys():
    require_scope(bp.current_request, "read")
    params = query(bp.current_request, {"limit", "next"})
    cursor = decode_cursor(params.get("next"), "surveys")
    if cursor is not None and set(cursor) != {"k"}:
        raise Malformed("The 'next' cursor is not one this API gave out.", fields={"next": "invalid"})
    items, nxt = survey_store.list_page(limit_param(params), cursor and cursor["k"])
    return json_response(
        {
            "surveys": [survey_store.to_dict(s) for s in items],
            "next": encode_cursor({"k": nxt} if nxt else None, "surveys"),
        }
    )


@api_route(bp, "/v1/surveys/{survey_id}", methods=["GET"], authorizer=admin_auth)
def get_survey(survey_id):
    require_scope(bp.current_request, "read")
    return json_response(survey_store.to_dict(survey_store.get(survey_id)))


@api_route(bp, "/v1/surveys/{survey_id}", methods=["PATCH"], authorizer=admin_auth)
def patch_survey(survey_id):
    require_scope(bp.current_request, "write")
    fields = survey_definition.survey(parse_body(bp.current_request), partial=True)
    survey = survey_store.update(survey_id, fields)
    return json_response(survey_store.to_dict(survey))


@api_route(bp, "/v1/surveys/{survey_id}/identity-secret", methods=["POST"], authorizer=admin_auth)
def rotate_identity_secret(survey_id):
    require_scope(bp.current_request, "write")
    request = bp.current_request
    if request.raw_body:  # no body, or an empty object: there is nothing to choose
        validation.require_object(parse_body(request), set(), set()).raise_if_any()
    survey, secret = survey_store.rotate_identity_secret(survey_id, clock.utcnow())
    return json_response(
        {
            "survey_id": survey.survey_id,
            "identity_secret": secret,
            "previous_secret_until": timestamp(survey.previous_secret_until),
        }
    )


@api_route(bp, "/v1/surveys/{survey_id}/invitations", methods=["POST"], authorizer=admin_auth)
def invite(survey_id):
    require_scope(bp.current_request, "write")
    body = parse_body(bp.current_request, limit=1024 * 1024)
    errors = validation.require_object(body, {"contacts", "send", "send_at"}, {"contacts"})
    send = body.get("send", False)
    if not isinstance(send, bool):
        errors.add("send", "must be true or false")
    send_at = None
    if body.get("send_at") is not None:
        send_at = clock.parse_timestamp(body["send_at"])
        now = clock.utcnow()
        if send is not True:
            errors.add("send_at", 'needs "send": true')
        elif send_at is None or not isinstance(body["send_at"], str) or "T" not in body["send_at"]:
            errors.add("send_at", "must be an ISO 8601 date-time such as 2026-12-09T09:00:00Z")
        elif send_at > now + MAX_SEND_AHEAD:
            errors.add("send_at", "must be within 90 days")
    errors.raise_if_any()
    raw = body["contacts"]
    if not isinstance(raw, list) or not raw:
        raise Invalid("contacts must be a non-empty list.", fields={"contacts": "must be a non-empty list"})
    if len(raw) > MAX_INVITES_PER_CALL:
        raise Invalid(f"Invite at most {MAX_INVITES_PER_CALL} contacts per call.", fields={"contacts": "too many"})
    # Validate every contact before writing anything.
    contacts = [invitation_rules.contact(c, i) for i, c in enumerate(raw)]
    survey = survey_store.get(survey_id)
    results = invitations.invite(survey, contacts, clock.utcnow(), send=send is True, send_at=send_at)
    return json_response({"invitations": results}, 201)
