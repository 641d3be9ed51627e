"""Admin routes of the contact directory, and erasure (the right to be forgotten)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.cursors import decode_cursor, encode_cursor
from chalicelib.api.http import content_type, json_response, limit_param, parse_body, query, raw_body
from chalicelib.api.routing import api_route
from chalicelib.domain import clock, importing, validation
from chalicelib.domain import contacts as rules
from chalicelib.domain.errors import Invalid, Malformed, NotFound
from chalicelib.store import contacts as contact_store
from chalicelib.usecases import contact_directory, erasure

bp = Blueprint(__name__)

# As for the other imports: API Gateway and Lambda cap a request near 6 MB; the CLI sends larger files in pages.
MAX_IMPORT_BODY = 5 * 1024 * 1024


@api_route(bp, "/v1/contacts/{contact_id}", methods=["PUT"], authorizer=admin_auth)
def put_contact(contact_id):
    require_scope(bp.current_request, "write")
    body = parse_body(bp.current_request, limit=64 * 1024)
    item, created = contact_directory.put_contact(contact_id, body, clock.utcnow())
    return json_response(contact_store.to_dict(item), 201 if created else 200)


@api_route(bp, "/v1/contacts/{contact_id}", methods=["GET"], authorizer=admin_auth)
def get_contact(contact_id):
    require_scope(bp.current_request, "read")
    if not validation.ID_RE.match(contact_id):
        raise NotFound("No contact has this id.", code="contact_not_found")
    return json_response(contact_store.to_dict(contact_store.get(contact_id)))


@api_route(bp, "/v1/contacts", methods=["GET"], authorizer=admin_auth)
def list_contacts():
    require_scope(bp.current_request, "read")
    params = query(bp.current_request, {"account_id", "limit", "next"})
    account_id = params.get("account_id")
    if account_id is not None and not validation.ID_RE.match(account_id):
        raise Invalid("account_id is not valid.", fields={"account_id": "invalid"})
    limit = limit_param(params, 100, 1000)
    list_name = f"contacts:{account_id or ''}"
    cursor = decode_cursor(params.get("next"), list_name)
    if cursor is not None and set(cursor) != {"k"}:
        raise Malformed("The 'next' cursor is not one this API gave out.", fields={"next": "invalid"})
    key = cursor and cursor["k"]
    if account_id:
        items, nxt = contact_store.page_of_account(account_id, limit, key)
    else:
        items, nxt = contact_store.page(limit, key)
    return json_response(
        {
            "contacts": [contact_store.to_dict(c) for c in items],
            "next": encode_cursor({"k": nxt} if nxt else None, list_name),
        }
    )


@api_route(bp, "/v1/contacts/import", methods=["POST"], authorizer=admin_auth)
def import_contacts():
    request = bp.current_request
    require_scope(request, "write")
    ctype = importing.check_content_type(content_type(request))
    rows = importing.rows(importing.decode(raw_body(request, MAX_IMPORT_BODY)), ctype)
    return json_response(contact_directory.import_contacts(rows, clock.utcnow()).as_dict())


@api_route(bp, "/v1/contacts/{contact_id}", methods=["DELETE"], authorizer=admin_auth)
def erase_contact(contact_id):
    require_scope(bp.current_request, "write")
    rules.check_id(contact_id)
    result = erasure.erase_contact(contact_id, clock.utcnow())
    if result is None:
        raise NotFound("No contact has this id.", code="contact_not_found")
    return json_response({"contact_id": contact_id, "erased": True, **result})
