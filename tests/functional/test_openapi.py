"""The OpenAPI document (`GET /openapi.json`): valid OpenAPI 3.1, one operation per route the Chalice app
serves (no more, no fewer), and true to the real app: its schemas accept the app's real answers and refusals,
and its limits are the ones the app enforces."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate

from chalicelib.api.openapi import assembler, fragments


@pytest.fixture(scope="module")
def doc():
    return assembler.document()


def check_answer(doc, path: str, method: str, response) -> None:
    """The answer's status is documented for the operation, its content type is one documented for that status,
    and its body validates against the documented schema."""
    status = response.status_code
    responses = doc["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, which the document does not list"
    content = responses[str(status)].get("content")
    ctype = (response.headers.get("Content-Type") or response.headers.get("content-type") or "").split(";")[0]
    if not content:
        assert not response.body, f"{method} {path} {status}: a body the document does not describe"
        return
    assert ctype in content, f"{method} {path} {status}: {ctype} is not among {sorted(content)}"
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    value = json.loads(body) if ctype == "application/json" else body
    schema = {**content[ctype]["schema"], "components": doc["components"]}
    errors = sorted(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(value), key=str)
    assert not errors, f"{method} {path} {status}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_the_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1.")
    validate(doc)  # raises on any departure from the OpenAPI 3.1 schema (refs, parameters, media types...)


def test_the_document_has_exactly_the_routes_of_the_app(doc):
    from app import app

    routed = {(path, method) for path, methods in app.routes.items() for method in methods}
    documented = assembler.operations()
    assert documented - routed == set(), "documented but not routed"
    assert routed - documented == set(), "routed but not documented: add it to a chalicelib/api/openapi/*_paths.py"
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            operation = doc["paths"][path][method.lower()]
            if entry.authorizer is None:
                assert operation["security"] == [], (method, path)
                assert "401" not in operation["responses"], (method, path)
            else:
                [requirement] = operation["security"]
                assert requirement["adminToken"][0] in ("read", "write", "admin"), (method, path)
                assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_the_document_is_served_publicly_as_json_with_the_common_headers(api, doc):
    r = api.get("/openapi.json", token=None)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers.get("X-Correlation-Id")
    assert r.json == json.loads(json.dumps(doc))
    check_answer(doc, "/openapi.json", "GET", r)


def test_the_schemas_accept_the_real_answers(api, doc):
    created = api.post(
        "/v1/surveys",
        {"name": "Doc check", "drivers": ["price"], "allowed_origins": ["https://shop.example.com"]},
    )
    check_answer(doc, "/v1/surveys", "POST", created)
    sid = created.json["survey_id"]
    check_answer(doc, "/v1/surveys", "GET", api.get("/v1/surveys?limit=1"))
    check_answer(doc, "/v1/surveys/{survey_id}", "GET", api.get(f"/v1/surveys/{sid}"))
    check_answer(doc, "/v1/surveys/{survey_id}", "PATCH", api.patch(f"/v1/surveys/{sid}", {"touchpoint": "web"}))
    check_answer(doc, "/v1/surveys/{survey_id}/identity-secret", "POST", api.post(f"/v1/surveys/{sid}/identity-secret"))
    invited = api.post(
        f"/v1/surveys/{sid}/invitations", {"contacts": [{"contact_id": "c-doc", "account_id": "acct-doc"}]}
    )
    check_answer(doc, "/v1/surveys/{survey_id}/invitations", "POST", invited)
    widget = api.post(
        f"/v1/surveys/{sid}/responses",
        {"score": 3, "comment": "slow", "drivers": ["price"]},
        token=None,
        headers={"Origin": "https://shop.example.com"},
    )
    check_answer(doc, "/v1/surveys/{survey_id}/responses", "POST", widget)
    preflight = api.call("OPTIONS", f"/v1/surveys/{sid}/responses", headers={"Origin": "https://shop.example.com"})
    check_answer(doc, "/v1/surveys/{survey_id}/responses", "OPTIONS", preflight)
    listed = api.get(f"/v1/responses?survey_id={sid}")
    check_answer(doc, "/v1/responses", "GET", listed)
    rid = listed.json["responses"][0]["response_id"]
    check_answer(doc, "/v1/responses/{response_id}", "GET", api.get(f"/v1/responses/{rid}"))
    put = api.put("/v1/accounts/acct-doc", {"name": "Doc Inc", "revenue": {"2026-01": 1200}})
    check_answer(doc, "/v1/accounts/{account_id}", "PUT", put)
    check_answer(doc, "/v1/accounts/{account_id}", "GET", api.get("/v1/accounts/acct-doc"))
    check_answer(doc, "/v1/accounts", "GET", api.get("/v1/accounts"))
    check_answer(doc, "/v1/tasks", "GET", api.get("/v1/tasks"))
    imported = api.post("/v1/accounts/import", raw="account_id,name\nacct-doc-2,Two\n", content_type="text/csv")
    check_answer(doc, "/v1/accounts/import", "POST", imported)
    token = api.post("/v1/admin/tokens", {"name": "doc", "scopes": ["read"]})
    check_answer(doc, "/v1/admin/tokens", "POST", token)
    check_answer(doc, "/v1/admin/tokens", "GET", api.get("/v1/admin/tokens"))
    revoked = api.delete(f"/v1/admin/tokens/{token.json['token_id']}")
    check_answer(doc, "/v1/admin/tokens/{token_id}", "DELETE", revoked)
    person = {"account_id": "acct-doc", "email": "doc@example.com", "language": "de", "attributes": {"plan": "pro"}}
    check_answer(doc, "/v1/contacts/{contact_id}", "PUT", api.put("/v1/contacts/c-doc", person))
    check_answer(doc, "/v1/contacts/{contact_id}", "PUT", api.put("/v1/contacts/c-doc", {"account_id": "acct-doc"}))
    check_answer(doc, "/v1/contacts/{contact_id}", "GET", api.get("/v1/contacts/c-doc"))
    check_answer(doc, "/v1/contacts", "GET", api.get("/v1/contacts?account_id=acct-doc"))
    contacts_csv = "contact_id,account_id,email\nc-doc-2,acct-doc,two@example.com\nc-doc-3,,bad\n"
    imported = api.post("/v1/contacts/import", raw=contacts_csv, content_type="text/csv")
    check_answer(doc, "/v1/contacts/import", "POST", imported)
    invitation = api.get(f"/v1/invitations/{invited.json['invitations'][0]['invitation_id']}")
    check_answer(doc, "/v1/invitations/{invitation_id}", "GET", invitation)
    check_answer(doc, "/v1/invitations/{invitation_id}", "GET", api.get("/v1/invitations/inv_none"))
    check_answer(doc, "/v1/contacts/{contact_id}", "DELETE", api.delete("/v1/contacts/c-doc"))
    check_answer(doc, "/v1/contacts/{contact_id}", "GET", api.get("/v1/contacts/c-doc"))
    check_answer(doc, "/v1/contacts/{contact_id}", "PUT", api.put("/v1/contacts/c-doc", person))
    check_answer(doc, "/v1/health", "GET", api.get("/v1/health", token=None))
    check_answer(doc, "/widget.js", "GET", api.get("/widget.js", token=None))
    assert {created.status_code, widget.status_code, put.status_code, token.status_code} == {201}


def test_the_error_envelope_matches_the_real_refusals(api, doc, survey):
    sid = survey["survey_id"]
    refusals = [
        ("POST", "/v1/surveys", "/v1/surveys", {"raw": "{not json"}, 400),
        ("GET", "/v1/surveys/{survey_id}", "/v1/surveys/srv_nobody", {}, 404),
        ("POST", "/v1/surveys", "/v1/surveys", {"body": {"name": "x", "kind": "weekly"}}, 422),
        ("GET", "/v1/surveys", "/v1/surveys?colour=red", {}, 422),
        ("GET", "/v1/surveys", "/v1/surveys?next=forged.cursor", {}, 400),
        ("GET", "/v1/tasks", "/v1/tasks", {"token": None}, 401),
        ("PATCH", "/v1/surveys/{survey_id}", f"/v1/surveys/{sid}", {"raw": "a=b", "content_type": "text/plain"}, 415),
        ("POST", "/v1/surveys/{survey_id}/responses", f"/v1/surveys/{sid}/responses", {"body": {"score": 11}}, 422),
        ("GET", "/v1/metrics/{month}", "/v1/metrics/2026-13", {}, 422),
        ("GET", "/v1/metrics/{month}", "/v1/metrics/2001-01", {}, 404),
        ("POST", "/v1/surveys", "/v1/surveys", {"raw": json.dumps({"name": "x" * 20000})}, 413),
    ]
    for method, template, path, options, status in refusals:
        body = options.pop("body", None)
        r = api.call(method, path, body, **options)
        assert r.status_code == status, (method, path, r.status_code, r.body)
        assert set(r.json["error"]) == {"code", "message", "fields"}
        check_answer(doc, template, method, r)


def _schema(doc, ref: dict) -> dict:
    return doc["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def test_the_documented_survey_limits_are_the_apps(api, doc):
    """Every documented maxLength and maximum of the survey body: the largest value passes, one more is 422."""
    fields = _schema(doc, doc["paths"]["/v1/surveys"]["post"]["requestBody"]["content"]["application/json"]["schema"])
    checked = 0
    for field, schema in fields["properties"].items():
        schema = next((s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), schema)
        if "maxLength" in schema and "pattern" not in schema:
            largest, over = "a" * schema["maxLength"], "a" * (schema["maxLength"] + 1)
        elif schema.get("type") == "integer":
            largest, over = schema["maximum"], schema["maximum"] + 1
        elif schema.get("type") == "array" and "maxItems" in schema:
            size = schema["items"].get("maxLength", 10)
            largest = [f"{i:0{size}d}" for i in range(schema["maxItems"])]
            over = [*largest, "x"]
            if field == "allowed_origins":
                largest = [f"https://h{i}.example.com" for i in range(schema["maxItems"])]
                over = [*largest, "https://one-more.example.com"]
        else:
            continue
        base = {"name": "limits"} if field != "name" else {}
        ok = api.post("/v1/surveys", {**base, field: largest})
        assert ok.status_code == 201, (field, ok.json)
        refused = api.post("/v1/surveys", {**base, field: over})
        assert refused.status_code == 422 and field in refused.json["error"]["fields"], (field, refused.json)
        checked += 1
    assert checked >= 6


@pytest.mark.parametrize("path", sorted(fragments.LIST_LIMITS))
def test_the_documented_list_limits_are_the_apps(api, doc, survey, path):
    [limit] = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == "limit"]
    largest = limit["schema"]["maximum"]
    url = path.replace("{survey_id}", survey["survey_id"])
    ok = api.get(f"{url}?limit={largest}")
    assert ok.status_code == 200, ok.json
    check_answer(doc, path, "GET", ok)
    refused = api.get(f"{url}?limit={largest + 1}")
    assert refused.status_code == 422 and "limit" in refused.json["error"]["fields"]
    check_answer(doc, path, "GET", refused)


def test_year_0000_is_refused_not_a_500(api, doc):
    """Found by the schemathesis run: POST /v1/metrics/0000-01/recompute answered 500 (datetime has no year 0)."""
    for method, template in (("POST", "/v1/metrics/{month}/recompute"), ("GET", "/v1/metrics/{month}")):
        r = api.call(method, template.replace("{month}", "0000-01"))
        assert r.status_code == 422 and r.json["error"]["fields"] == {"month": "must be YYYY-MM"}, r.body
        check_answer(doc, template, method, r)
