"""The operations on accounts and contacts."""

from __future__ import annotations

from chalicelib.api.openapi.fragments import (
    ACCOUNT_BODY,
    BODY,
    ID,
    JSON,
    LIST,
    PERSON_TEXT_MAX,
    Operations,
    list_page,
    list_params,
    object_schema,
    ok_answer,
    query_param,
    ref,
    request_body,
    string,
)


def add(op: Operations, schemas: dict) -> None:
    op(
        "PUT",
        "/v1/accounts/{account_id}",
        "Create or replace an account.",
        scope="write",
        ok={201: ok_answer(ref("Account"), "Created."), 200: ok_answer(ref("Account"), "Replaced.")},
        errors=BODY,
        body=request_body({JSON: ref("AccountInput")}, ACCOUNT_BODY),
        path_params=[{"name": "account_id", "schema": ID}],
        tag="accounts",
    )
    op(
        "GET",
        "/v1/accounts",
        "List accounts with their standing, by segment or owner.",
        scope="read",
        ok={200: ok_answer(list_page("accounts", "AccountWithStanding"))},
        errors=LIST,
        params=[
            query_param("segment", string(PERSON_TEXT_MAX, 1)),
            query_param("owner", string(PERSON_TEXT_MAX, 1)),
            *list_params("/v1/accounts"),
        ],
        tag="accounts",
    )
    op(
        "GET",
        "/v1/accounts/{account_id}",
        "One account with its standing.",
        scope="read",
        ok={200: ok_answer(ref("AccountWithStanding"))},
        path_params=[{"name": "account_id"}],
        tag="accounts",
    )
    op(
        "DELETE",
        "/v1/contacts/{contact_id}",
        "Erase a contact: their comments, tasks' texts, invitations and links.",
        scope="write",
        ok={
            200: ok_answer(
                object_schema(
                    {
                        "contact_id": string(),
                        "erased": {"const": True},
                        "contact_found": {"type": "boolean"},
                        "responses_erased": {"type": "integer"},
                        "tasks_scrubbed": {"type": "integer"},
                        "invitations_deleted": {"type": "integer"},
                        "links_closed": {"type": "integer"},
                    },
                    {"contact_id", "erased"},
                )
            )
        },
        errors=(409, 422),
        path_params=[{"name": "contact_id", "schema": ID}],
        tag="contacts",
    )
