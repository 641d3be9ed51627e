"""Admin route of one invitation: who it is for, its link's life, and the delivery history of its emails."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.http import json_response
from chalicelib.api.routing import api_route
from chalicelib.domain import sending, validation
from chalicelib.domain.clock import timestamp
from chalicelib.domain.errors import NotFound
from chalicelib.store import deliveries

bp = Blueprint(__name__)


@api_route(bp, "/v1/invitations/{invitation_id}", methods=["GET"], authorizer=admin_auth)
def get_invitation(invitation_id):
    require_scope(bp.current_request, "read")
    found = deliveries.get(invitation_id) if validation.ID_RE.match(invitation_id) else None
    if found is None:
        raise NotFound("No invitation has this id.", code="invitation_not_found")
    emails = {kind: deliveries.state_of(found, kind) for kind in sending.KINDS}
    answered_at = deliveries.answered_at(found.invitation_id)
    return json_response(
        {
            "invitation_id": found.invitation_id,
            "survey_id": found.survey_id,
            "contact_id": found.contact_id,
            "account_id": found.account_id,
            "created_at": timestamp(found.created_at),
            "expires_at": timestamp(found.expires_at),
            "send_at": timestamp(found.send_at),
            "wave_id": found.wave_id,
            "answered": answered_at is not None,
            "emails": {kind: state for kind, state in emails.items() if state},
            "history": sending.with_answer(list(found.history or []), answered_at),
        }
    )
