"""Admin routes for close-the-loop tasks."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.auth import admin_auth, require_scope
from chalicelib.api.cursors import decode_cursor, encode_cursor
from chalicelib.api.http import flag_param, header, json_response, limit_param, parse_body, query
from chalicelib.api.routing import api_route
from chalicelib.domain import clock, loop
from chalicelib.domain.errors import Invalid
from chalicelib.domain.validation import ID_RE
from chalicelib.store import tasks as task_store
from chalicelib.usecases import task_changes

bp = Blueprint(__name__)

FILTERS = {"status", "owner", "overdue", "kind", "survey_id", "account_id", "limit", "next"}
KINDS = tuple(loop.TASK_KIND.values())
CURSOR_LIST = "tasks"


def _etag(task) -> dict:
    return {"ETag": f'"{task_store.revision_of(task)}"'}


def _id_filter(params: dict, name: str) -> str | None:
    value = params.get(name)
    if value is not None and not ID_RE.match(value):
        raise Invalid(f"{name} is not valid.", fields={name: "invalid"})
    return value


@api_route(bp, "/v1/tasks", methods=["GET"], authorizer=admin_auth)
def list_tasks():
    require_scope(bp.current_request, "read")
    params = query(bp.current_request, FILTERS)
    status = params.get("status")
    if status is not None and status not in loop.STATUSES:
        raise Invalid("Unknown status.", fields={"status": "must be one of " + ", ".join(loop.STATUSES)})
    kind = params.get("kind")
    if kind is not None and kind not in KINDS:
        raise Invalid("Unknown kind.", fields={"kind": "must be one of " + ", ".join(KINDS)})
    overdue = flag_param(params, "overdue", False)
    owner = params.get("owner")
    if owner is not None and not 0 < len(owner) <= 200:
        raise Invalid("owner is not valid.", fields={"owner": "invalid"})
    filters = {
        "status": status,
        "owner": owner,
        "overdue": overdue,
        "kind": kind,
        "survey_id": _id_filter(params, "survey_id"),
        "account_id": _id_filter(params, "account_id"),
    }
    limit = limit_param(params)
    now = clock.utcnow()
    items, nxt = task_store.list_page(filters, limit, decode_cursor(params.get("next"), CURSOR_LIST), now)
    return json_response(
        {"tasks": [task_store.to_dict(t, now) for t in items], "next": encode_cursor(nxt, CURSOR_LIST)}
    )


@api_route(bp, "/v1/tasks/{task_id}", methods=["GET"], authorizer=admin_auth)
def get_task(task_id):
    require_scope(bp.current_request, "read")
    task = task_store.get(task_id)
    return json_response(task_store.to_dict(task), headers=_etag(task))


@api_route(bp, "/v1/tasks/{task_id}", methods=["PATCH"], authorizer=admin_auth)
def patch_task(task_id):
    actor = require_scope(bp.current_request, "write")
    if_match = loop.if_match_revisions(header(bp.current_request, "If-Match"))
    change = loop.task_patch(parse_body(bp.current_request))
    now = clock.utcnow()
    task = task_changes.change_task(task_id, change, f"token:{actor}", now, if_match=if_match)
    return json_response(task_store.to_dict(task, now), headers=_etag(task))
