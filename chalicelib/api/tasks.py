"""Admin routes for close-the-loop tasks."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.cursors import decode_cursor, encode_cursor
from chalicelib.api.http import flag_param, json_response, limit_param, parse_body, query
from chalicelib.api.routing import api_route
from chalicelib.domain import loop, tokens
from chalicelib.errors import Invalid
from chalicelib.store import tasks as task_store

bp = Blueprint(__name__)

FILTERS = {"status", "owner", "overdue", "limit", "next"}


@api_route(bp, "/v1/tasks", methods=["GET"], authorizer=admin_auth)
def list_tasks():
    require_scope(bp.current_request, "read")
    params = query(bp.current_request, FILTERS)
    status = params.get("status")
    if status is not None and status not in loop.STATUSES:
        raise Invalid("Unknown status.", fields={"status": "must be one of " + ", ".join(loop.STATUSES)})
    overdue = flag_param(params, "overdue", False)
    owner = params.get("owner")
    if owner is not None and not 0 < len(owner) <= 200:
        raise Invalid("owner is not valid.", fields={"owner": "invalid"})
    now = tokens.utcnow()
    items, nxt = task_store.list_page(
        {"status": status, "owner": owner, "overdue": overdue},
        limit_param(params),
        decode_cursor(params.get("next")),
        now,
    )
    return json_response({"tasks": [task_store.to_dict(t, now) for t in items], "next": encode_cursor(nxt)})


@api_route(bp, "/v1/tasks/{task_id}", methods=["GET"], authorizer=admin_auth)
def get_task(task_id):
    require_scope(bp.current_request, "read")
    return json_response(task_store.to_dict(task_store.get(task_id)))


@api_route(bp, "/v1/tasks/{task_id}", methods=["PATCH"], authorizer=admin_auth)
def patch_task(task_id):
    actor = require_scope(bp.current_request, "write")
    change = loop.task_patch(parse_body(bp.current_request))
    now = tokens.utcnow()
    task = task_store.patch(task_id, change, f"token:{actor}", now)
    return json_response(task_store.to_dict(task_store.get(task.task_id), now))
