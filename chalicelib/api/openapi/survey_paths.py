"""The operations on surveys, their invitations and their responses, and the imports."""

from __future__ import annotations

from chalicelib.api.openapi.fragments import (
    BODY,
    ID,
    INVITATIONS_BODY,
    JSON,
    LIST,
    MONTH,
    SURVEY_ID,
    TIMESTAMP,
    Operations,
    import_operation,
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
    from chalicelib.api.surveys import MAX_INVITES_PER_CALL

    # ---- surveys -----------------------------------------------------------------------------------------
    op(
        "POST",
        "/v1/surveys",
        "Create a survey.",
        scope="write",
        ok={201: ok_answer(ref("SurveyCreated"), "Created; the identity secret is shown only here.")},
        errors=BODY,
        body=request_body({JSON: ref("SurveyInput")}),
        tag="surveys",
    )
    op(
        "GET",
        "/v1/surveys",
        "List surveys.",
        scope="read",
        ok={200: ok_answer(list_page("surveys", "Survey"))},
        errors=LIST,
        params=list_params("/v1/surveys"),
        tag="surveys",
    )
    op(
        "GET",
        "/v1/surveys/{survey_id}",
        "One survey.",
        scope="read",
        ok={200: ok_answer(ref("Survey"))},
        path_params=[SURVEY_ID],
        tag="surveys",
    )
    op(
        "PATCH",
        "/v1/surveys/{survey_id}",
        "Change some of a survey's fields.",
        scope="write",
        ok={200: ok_answer(ref("Survey"))},
        errors=BODY,
        body=request_body({JSON: ref("SurveyPatch")}),
        path_params=[SURVEY_ID],
        tag="surveys",
    )
    op(
        "POST",
        "/v1/surveys/{survey_id}/identity-secret",
        "Rotate the survey's identity secret (the previous one keeps working for a while).",
        scope="write",
        ok={
            200: ok_answer(
                object_schema(
                    {"survey_id": string(), "identity_secret": string(), "previous_secret_until": TIMESTAMP},
                    {"survey_id", "identity_secret", "previous_secret_until"},
                )
            )
        },
        errors=(*BODY, 409),
        body=request_body({JSON: object_schema({})}, required=False),
        path_params=[SURVEY_ID],
        tag="surveys",
    )
    invitation = {
        "type": "object",
        "required": ["contact_id"],
        "properties": {
            "contact_id": string(),
            "invitation_id": string(),
            "link": string(),
            "unsubscribe_link": string(),
            "skipped": {"enum": ["unsubscribed", "bounced", "complained", "throttled"]},
            "email": {"enum": ["queued", "scheduled"], "description": 'With "send": true.'},
            "send_at": string(format="date-time"),
        },
    }
    op(
        "POST",
        "/v1/surveys/{survey_id}/invitations",
        "Invite contacts: each gets a signed link (or is skipped: unsubscribed, throttled).",
        scope="write",
        ok={201: ok_answer(object_schema({"invitations": {"type": "array", "items": invitation}}, {"invitations"}))},
        errors=(*BODY, 410),
        body=request_body(
            {
                JSON: object_schema(
                    {
                        "contacts": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_INVITES_PER_CALL,
                            "items": ref("Contact"),
                        },
                        "send": {"type": "boolean", "default": False, "description": "The service emails them."},
                        "send_at": {
                            **string(format="date-time"),
                            "description": 'With "send": true: when to send (at most 90 days on; past means now).',
                        },
                    },
                    {"contacts"},
                )
            },
            INVITATIONS_BODY,
        ),
        path_params=[SURVEY_ID],
        tag="surveys",
    )
    # ---- responses, accounts, contacts, imports ----------------------------------------------------------
    op(
        "GET",
        "/v1/responses",
        "Export responses, filtered by survey, contact or account (not both) and month.",
        scope="read",
        ok={200: ok_answer(list_page("responses", "Response"))},
        errors=LIST,
        params=[
            query_param("survey_id", ID),
            query_param("contact_id", ID),
            query_param("account_id", ID, "Not with contact_id."),
            query_param("month", MONTH),
            *list_params("/v1/responses"),
        ],
        tag="responses",
    )
    op(
        "GET",
        "/v1/responses/{response_id}",
        "One response.",
        scope="read",
        ok={200: ok_answer(ref("Response"))},
        errors=(410,),
        path_params=[{"name": "response_id"}],
        tag="responses",
    )
    for path, what in (("/v1/accounts/import", "accounts with revenue"), ("/v1/responses/import", "responses")):
        import_operation(
            op,
            path,
            f"Import {what} from CSV (with a header row) or NDJSON; each row is accepted or rejected.",
            "imports",
        )
