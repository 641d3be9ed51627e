"""The operations on admin tokens."""

from __future__ import annotations

from chalicelib.api.openapi.fragments import (
    BODY,
    ID,
    JSON,
    LIST,
    TOKEN_NAME_MAX,
    Operations,
    list_page,
    list_params,
    object_schema,
    ok_answer,
    request_body,
    string,
)


def add(op: Operations, schemas: dict) -> None:
    # ---- admin tokens ------------------------------------------------------------------------------------
    from chalicelib.store.admin_tokens import SCOPES

    op(
        "POST",
        "/v1/admin/tokens",
        "Create an admin token; the token is shown only here.",
        scope="admin",
        ok={
            201: ok_answer(
                {
                    **schemas["AdminToken"],
                    "properties": {**schemas["AdminToken"]["properties"], "token": string()},
                    "required": sorted({*schemas["AdminToken"]["required"], "token"}),
                }
            )
        },
        errors=BODY,
        body=request_body(
            {
                JSON: object_schema(
                    {
                        "name": string(TOKEN_NAME_MAX, 1),
                        "scopes": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": len(SCOPES),
                            "items": {"enum": list(SCOPES)},
                        },
                    },
                    {"name", "scopes"},
                )
            }
        ),
        tag="admin tokens",
    )
    op(
        "GET",
        "/v1/admin/tokens",
        "List admin tokens (never their secrets).",
        scope="admin",
        ok={200: ok_answer(list_page("tokens", "AdminToken"))},
        errors=LIST,
        params=list_params("/v1/admin/tokens"),
        tag="admin tokens",
    )
    op(
        "DELETE",
        "/v1/admin/tokens/{token_id}",
        "Revoke an admin token, at once.",
        scope="admin",
        ok={200: ok_answer(object_schema({"token_id": string(), "revoked": {"const": True}}, {"token_id", "revoked"}))},
        errors=(422,),
        path_params=[{"name": "token_id", "schema": ID}],
        tag="admin tokens",
    )
