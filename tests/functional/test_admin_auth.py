"""Admin authentication: bearer tokens that are random, stored only as hashes, scoped and revocable, checked by
the same Chalice authorizer that runs in API Gateway."""

from __future__ import annotations

import json

from support_ddb import assert_error

from chalicelib.store import admin_tokens
from chalicelib.store.models import AdminToken

ADMIN_ROUTES = [
    ("GET", "/v1/surveys"),
    ("POST", "/v1/surveys"),
    ("GET", "/v1/surveys/srv_x"),
    ("PATCH", "/v1/surveys/srv_x"),
    ("POST", "/v1/surveys/srv_x/invitations"),
    ("GET", "/v1/responses"),
    ("PUT", "/v1/accounts/acc-1"),
    ("GET", "/v1/admin/tokens"),
    ("POST", "/v1/admin/tokens"),
    ("DELETE", "/v1/admin/tokens/0123456789abcdef"),
]


def test_no_token_is_401(api):
    for method, path in ADMIN_ROUTES:
        body = {"name": "x"} if method in ("POST", "PATCH", "PUT") else None
        assert_error(api.call(method, path, body, token=None), 401, "unauthorized")


def test_bad_tokens_are_401(api):
    for authorization in [
        "Bearer",
        "Bearer ",
        "Bearer garbage",
        "Basic dXNlcjpwYXNz",
        "npsa_0123456789abcdef.secret",
        "Bearer npsa_0123456789abcdef.secret",
        "Bearer npsa_zzzz.secret",
        "Bearer " + "x" * 5000,
        "Bearer é",
    ]:
        r = api.get("/v1/surveys", token=None, headers={"Authorization": authorization})
        assert_error(r, 401, "unauthorized")


def test_a_token_with_a_real_id_but_the_wrong_secret_is_401(api, admin_token):
    token_id = admin_token.split("_", 1)[1].split(".", 1)[0]
    assert_error(api.get("/v1/surveys", token=f"npsa_{token_id}.not-the-secret"), 401)
    assert_error(api.get("/v1/surveys", token=admin_token + "x"), 401)
    assert api.get("/v1/surveys").status_code == 200


def test_the_bearer_scheme_is_case_insensitive(api, admin_token):
    assert api.get("/v1/surveys", token=None, headers={"Authorization": f"bearer {admin_token}"}).status_code == 200


def test_scopes(api):
    read, _ = admin_tokens.create("reader", ["read"])
    write, _ = admin_tokens.create("writer", ["write"])
    sid = api.post("/v1/surveys", {"name": "S"}).json["survey_id"]

    assert api.get("/v1/surveys", token=read).status_code == 200
    assert api.get(f"/v1/surveys/{sid}", token=read).status_code == 200
    assert api.get("/v1/responses", token=read).status_code == 200
    assert_error(api.post("/v1/surveys", {"name": "S2"}, token=read), 403, "insufficient_scope")
    assert_error(api.patch(f"/v1/surveys/{sid}", {"name": "S3"}, token=read), 403, "insufficient_scope")
    assert_error(
        api.post(f"/v1/surveys/{sid}/invitations", {"contacts": [{"contact_id": "c", "account_id": "a"}]}, token=read),
        403,
        "insufficient_scope",
    )
    assert_error(api.put("/v1/accounts/acc-1", {"name": "A"}, token=read), 403, "insufficient_scope")
    assert survey_names(api) == ["S"]

    assert api.post("/v1/surveys", {"name": "S2"}, token=write).status_code == 201
    assert api.get("/v1/surveys", token=write).status_code == 200
    assert_error(api.get("/v1/admin/tokens", token=write), 403, "insufficient_scope")
    assert_error(api.post("/v1/admin/tokens", {"name": "n", "scopes": ["admin"]}, token=write), 403)
    assert_error(api.post("/v1/admin/tokens", {"name": "n", "scopes": ["admin"]}, token=read), 403)


def survey_names(api):
    return sorted(s["name"] for s in api.get("/v1/surveys").json["surveys"])


def test_token_routes_create_list_revoke(api, admin_token):
    r = api.post("/v1/admin/tokens", {"name": "ci reader", "scopes": ["read"]})
    assert r.status_code == 201, r.body
    created = r.json
    assert created["token"].startswith("npsa_") and created["scopes"] == ["read"] and created["revoked_at"] is None
    assert api.get("/v1/surveys", token=created["token"]).status_code == 200

    listed = api.get("/v1/admin/tokens").json
    assert listed["next"] is None
    by_id = {t["token_id"]: t for t in listed["tokens"]}
    assert set(by_id) == {created["token_id"], admin_token.split("_", 1)[1].split(".")[0]}
    assert all("token" not in t and "token_hash" not in t for t in listed["tokens"])
    assert created["token"] not in json.dumps(listed)

    r = api.delete(f"/v1/admin/tokens/{created['token_id']}")
    assert r.status_code == 200 and r.json == {"token_id": created["token_id"], "revoked": True}
    assert_error(api.get("/v1/surveys", token=created["token"]), 401, "unauthorized")
    revoked = {t["token_id"]: t for t in api.get("/v1/admin/tokens").json["tokens"]}[created["token_id"]]
    assert revoked["revoked_at"] is not None
    # Revoking again is harmless; an unknown id is 404.
    assert api.delete(f"/v1/admin/tokens/{created['token_id']}").status_code == 200
    assert_error(api.delete("/v1/admin/tokens/ffffffffffffffff"), 404, "token_not_found")


def test_a_token_can_revoke_itself_and_is_refused_at_once(api, admin_token):
    token_id = admin_token.split("_", 1)[1].split(".")[0]
    assert api.delete(f"/v1/admin/tokens/{token_id}").status_code == 200
    assert_error(api.get("/v1/surveys"), 401, "unauthorized")


def test_token_create_validates(api):
    for body, fields in [
        ({"name": "x", "scopes": ["root"]}, {"scopes"}),
        ({"name": "x", "scopes": []}, {"scopes"}),
        ({"name": "x", "scopes": "admin"}, {"scopes"}),
        ({"scopes": ["read"]}, {"name"}),
        ({"name": "x", "scopes": ["read"], "token": "npsa_mine.mine"}, {"token"}),
    ]:
        error = assert_error(api.post("/v1/admin/tokens", body), 422, "invalid")
        assert set(error["fields"]) == fields, body
    assert len(list(AdminToken.scan())) == 1


def test_tokens_are_stored_only_as_hashes(api, admin_token):
    made = [api.post("/v1/admin/tokens", {"name": f"t{i}", "scopes": ["read"]}).json["token"] for i in range(3)]
    plaintexts = [admin_token, *made]
    secrets = [t.split(".", 1)[1] for t in plaintexts]
    raw = json.dumps([item.to_dynamodb_dict() for item in AdminToken.scan()])
    for token, secret in zip(plaintexts, secrets, strict=True):
        assert token not in raw and secret not in raw
    items = list(AdminToken.scan())
    assert len(items) == 4 and all(len(i.token_hash) == 64 for i in items)
    assert len({i.token_hash for i in items}) == 4
