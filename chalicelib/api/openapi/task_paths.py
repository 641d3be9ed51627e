"""The operations on close-the-loop tasks."""

from __future__ import annotations

from chalicelib.api.openapi.fragments import (
    BODY,
    ID,
    JSON,
    LIST,
    PERSON_TEXT_MAX,
    Operations,
    header_param,
    list_page,
    list_params,
    ok_answer,
    query_param,
    ref,
    request_body,
    string,
)
from chalicelib.domain import loop


def add(op: Operations, schemas: dict) -> None:
    # ---- tasks -------------------------------------------------------------------------------------------
    etag = {"ETag": {"schema": string(), "description": "The task's revision, for If-Match."}}
    op(
        "GET",
        "/v1/tasks",
        "List close-the-loop tasks.",
        scope="read",
        ok={200: ok_answer(list_page("tasks", "Task"))},
        errors=LIST,
        params=[
            query_param("status", {"enum": list(loop.STATUSES)}),
            query_param("owner", string(PERSON_TEXT_MAX, 1)),
            query_param("overdue", {"type": "boolean", "default": False}),
            query_param("kind", {"enum": list(loop.TASK_KIND.values())}),
            query_param("survey_id", ID),
            query_param("account_id", ID),
            *list_params("/v1/tasks"),
        ],
        tag="tasks",
    )
    op(
        "GET",
        "/v1/tasks/{task_id}",
        "One task.",
        scope="read",
        ok={200: ok_answer(ref("Task"), headers=etag)},
        path_params=[{"name": "task_id"}],
        tag="tasks",
    )
    op(
        "PATCH",
        "/v1/tasks/{task_id}",
        "Assign, note, change status, resolve with a root cause, or reopen a task.",
        scope="write",
        ok={200: ok_answer(ref("Task"), headers=etag)},
        errors=(*BODY, 409, 503),  # 503 events_not_published: the change is kept; sending it again publishes
        body=request_body({JSON: ref("TaskPatch")}),
        path_params=[{"name": "task_id"}],
        params=[header_param("If-Match", string(), 'The ETag read, such as "3"; a changed task answers 409.')],
        tag="tasks",
    )
