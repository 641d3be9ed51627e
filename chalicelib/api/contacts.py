"""Admin route to erase a contact (right to erasure)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.http import json_response
from chalicelib.api.routing import api_route
from chalicelib.domain import clock, validation
from chalicelib.domain.errors import Invalid, NotFound
from chalicelib.store import erasure

bp = Blueprint(__name__)


@api_route(bp, "/v1/contacts/{contact_id}", methods=["DELETE"], authorizer=admin_auth)
def erase_contact(contact_id):
    require_scope(bp.current_request, "write")
    if not validation.ID_RE.match(contact_id):
        raise Invalid("contact_id is not valid.", fields={"contact_id": "invalid"})
    result = erasure.erase_contact(contact_id, clock.utcnow())
    if result is None:
        raise NotFound("No contact has this id.", code="contact_not_found")
    return json_response({"contact_id": contact_id, "erased": True, **result})
