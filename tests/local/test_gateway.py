"""The contract gateway: API Gateway's own answers (no token, refused token, no route, failed authorizer) in
the error shape the deployed API's GatewayResponses give them."""

from __future__ import annotations

import json

import pytest

from nps_local import gateway


def error_of(response) -> dict:
    body = json.loads(response.body)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["fields"] == {}
    return body["error"]


def test_no_token_is_401_unauthorized(client):
    r = client.http.get("/v1/surveys")
    assert r.status_code == 401
    assert error_of(r)["code"] == "unauthorized"
    assert r.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_a_refused_token_is_401_unauthorized(client, header):
    r = client.http.get("/v1/surveys", headers={"Authorization": header})
    assert r.status_code == 401
    assert error_of(r)["code"] == "unauthorized"


def test_a_revoked_token_is_refused_at_once(client, admin_token):
    from chalicelib.domain import tokens
    from chalicelib.store import admin_tokens

    headers = {"Authorization": f"Bearer {admin_token}"}
    assert client.http.get("/v1/surveys", headers=headers).status_code == 200
    admin_tokens.revoke(tokens.admin_token_id(admin_token) or tokens.hash_admin_token(admin_token)[:16])
    assert client.http.get("/v1/surveys", headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nope"), ("GET", "/v1/surveys/x/y/z"), ("DELETE", "/v1/health"), ("PUT", "/")]
)
def test_no_route_is_404_not_found_with_or_without_a_token(client, admin_token, method, path):
    for headers in ({}, {"Authorization": f"Bearer {admin_token}"}):
        r = client.http.request(method, path, headers=headers)
        assert r.status_code == 404
        assert error_of(r)["code"] == "not_found"


def test_a_failing_authorizer_is_a_5xx_without_detail(client, monkeypatch):
    from chalicelib.store import admin_tokens

    def broken(token):
        raise RuntimeError("table unavailable: secret detail")

    monkeypatch.setattr(admin_tokens, "resolve", broken)
    r = client.http.get("/v1/surveys", headers={"Authorization": "Bearer anything"})
    assert r.status_code == 500
    assert "secret detail" not in r.body.decode()
    assert error_of(r)["code"]


def test_answers_come_from_the_templates_gateway_responses():
    responses = gateway.gateway_responses()
    for kind in ("UNAUTHORIZED", "ACCESS_DENIED", "MISSING_AUTHENTICATION_TOKEN"):
        assert kind in responses
    assert responses["UNAUTHORIZED"].status == 401
    assert responses["MISSING_AUTHENTICATION_TOKEN"].status == 404


def test_a_kind_the_template_leaves_out_gets_api_gateways_own_body(tmp_path):
    from app import app
    from nps_local import template as cfn

    text = cfn.TEMPLATE_PATH.read_text()
    assert "        DEFAULT_5XX:\n" in text
    path = tmp_path / "template.yaml"
    path.write_text(text.replace("        DEFAULT_5XX:\n", "        QUOTA_EXCEEDED:\n"))
    plain = gateway.ContractGateway(app, _config(), template_path=path)
    answer = plain.gateway_answer("AUTHORIZER_FAILURE")
    assert (answer["statusCode"], json.loads(answer["body"])) == (500, {"message": "Internal server error"})


def test_a_default_4xx_template_gets_api_gateways_message(tmp_path):
    from app import app

    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  RestAPI:\n"
        "    Properties:\n"
        "      GatewayResponses:\n"
        "        DEFAULT_4XX:\n"
        "          ResponseTemplates:\n"
        '            application/json: \'{"error": {"code": "bad_request", '
        '"message": $context.error.messageString, "fields": {}}}\'\n'
    )
    answer = gateway.ContractGateway(app, _config(), template_path=path).gateway_answer("UNAUTHORIZED")
    assert answer["statusCode"] == 401
    assert json.loads(answer["body"])["error"] == {"code": "bad_request", "message": "Unauthorized", "fields": {}}


def _config():
    from chalice.config import Config

    return Config.create()
