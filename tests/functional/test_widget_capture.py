"""Widget and API capture: the survey's CORS allow-list, preflight, identity signatures, Idempotency-Key, and the
widget script itself."""

from __future__ import annotations

import pytest
from support_ddb import all_tables, assert_error

from chalicelib.domain import tokens
from chalicelib.store.models import Response

SHOP = "https://shop.example.com"
APP = "https://app.example.com:8443"


@pytest.fixture
def path(survey):
    return f"/v1/surveys/{survey['survey_id']}/responses"


def preflight(api, path, origin, method="POST", headers="content-type"):
    h = {"Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}
    if origin is not None:
        h["Origin"] = origin
    return api.call("OPTIONS", path, token=None, headers=h)


def post(api, path, body, origin=None, **headers):
    h = {"Origin": origin} if origin else {}
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    return api.post(path, body, token=None, headers=h)


def test_each_allowed_origin_gets_its_own_cors_echo(api, path):
    for origin in (SHOP, APP):
        r = post(api, path, {"score": 9, "page": "/pricing"}, origin)
        assert r.status_code == 201, r.body
        assert r.headers["Access-Control-Allow-Origin"] == origin
        assert "Origin" in r.headers["Vary"]
        assert r.headers.get("Access-Control-Allow-Credentials") in (None, "false")
    items = sorted(Response.scan(), key=lambda i: i.first_submitted_at)
    assert [i.channel for i in items] == ["widget", "widget"]
    assert all(i.contact_id is None and i.account_id is None and i.page == "/pricing" for i in items)


def test_origins_match_after_normalisation(api, path):
    # The browser sends the scheme and host in lower case, and the default port is never written.
    r = post(api, path, {"score": 9}, "https://app.example.com:8443")
    assert r.status_code == 201
    assert post(api, path, {"score": 9}, "https://shop.example.com:443").status_code == 201


def test_preflight_for_allowed_origins(api, path):
    for origin in (SHOP, APP):
        r = preflight(api, path, origin, headers="content-type, idempotency-key")
        assert r.status_code in (200, 204), r.body
        assert r.headers["Access-Control-Allow-Origin"] == origin
        assert "POST" in r.headers["Access-Control-Allow-Methods"]
        allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"content-type", "idempotency-key"} <= allowed
        assert int(r.headers["Access-Control-Max-Age"]) > 0
        assert "Origin" in r.headers["Vary"]
    assert Response.count() == 0


def test_other_origins_are_refused_and_write_nothing(api, path):
    before = all_tables()
    for origin in ["https://evil.example.com", "http://shop.example.com", "https://shop.example.com:8443",
                   "https://app.example.com", "https://shop.example.com.evil.com", "null", "*", "not an origin"]:
        r = preflight(api, path, origin)
        assert_error(r, 403, "origin_not_allowed")
        assert "Access-Control-Allow-Origin" not in r.headers, origin
        r = post(api, path, {"score": 9}, origin)
        assert_error(r, 403, "origin_not_allowed")
        assert "Access-Control-Allow-Origin" not in r.headers, origin
    assert all_tables() == before


def test_preflight_without_an_origin_is_refused(api, path):
    assert_error(preflight(api, path, None), 403, "origin_not_allowed")


def test_a_refused_answer_from_an_allowed_origin_still_carries_cors(api, path):
    # Otherwise the browser hides the error from the widget's script.
    r = post(api, path, {"score": 42}, SHOP)
    assert_error(r, 422, "invalid")
    assert r.headers["Access-Control-Allow-Origin"] == SHOP


def test_without_origin_a_server_may_post_and_the_channel_is_api(api, path):
    r = post(api, path, {"score": 3, "comment": "Slow export", "drivers": ["product"]})
    assert r.status_code == 201
    assert "Access-Control-Allow-Origin" not in r.headers
    item = Response.get(r.json["response_id"])
    assert (item.channel, item.score, item.comment, item.drivers) == ("api", 3, "Slow export", ["product"])
    assert item.contact_id is None and item.invitation_id is None


def test_identity_attributes_the_response_to_the_contact_and_account(api, survey, path):
    identity = tokens.identity_signature(survey["identity_secret"], "con-7", "acc-7")
    r = post(api, path, {"score": 10, "contact_id": "con-7", "account_id": "acc-7", "identity": identity}, SHOP)
    assert r.status_code == 201, r.body
    item = Response.get(r.json["response_id"])
    assert (item.contact_id, item.account_id, item.channel, item.score) == ("con-7", "acc-7", "widget", 10)


def test_without_identity_the_response_is_anonymous(api, path):
    r = post(api, path, {"score": 10, "contact_id": "con-7", "account_id": "acc-7"}, SHOP)
    assert r.status_code == 201
    item = Response.get(r.json["response_id"])
    assert item.contact_id is None and item.account_id is None


def test_a_bad_identity_is_403_and_writes_nothing(api, survey, path):
    right = tokens.identity_signature(survey["identity_secret"], "con-7", None)
    before = all_tables()
    for contact, identity in [
        ("con-8", right),  # someone else's signature
        ("con-7", tokens.identity_signature("another-secret", "con-7", None)),
        ("con-7", right[:-1] + ("0" if right[-1] != "0" else "1")),
        ("con-7", "not-hex"),
        ("con-7", "é" * 64),
        ("con-7", right.upper()),
    ]:
        r = post(api, path, {"score": 9, "contact_id": contact, "identity": identity}, SHOP)
        assert_error(r, 403, "identity_refused")
    assert_error(post(api, path, {"score": 9, "identity": right}, SHOP), 422)
    assert all_tables() == before


def test_idempotency_key_makes_retries_safe(api, path):
    first = post(api, path, {"score": 6, "comment": "ok"}, SHOP, Idempotency_Key="retry-123")
    assert first.status_code == 201
    for _ in range(3):
        again = post(api, path, {"score": 6, "comment": "ok"}, SHOP, Idempotency_Key="retry-123")
        assert again.status_code == 200 and again.json["response_id"] == first.json["response_id"]
        assert again.headers["Access-Control-Allow-Origin"] == SHOP
    assert Response.count() == 1
    other = post(api, path, {"score": 6}, SHOP, Idempotency_Key="retry-456")
    assert other.status_code == 201 and other.json["response_id"] != first.json["response_id"]
    without = [post(api, path, {"score": 6}, SHOP).json["response_id"] for _ in range(2)]
    assert len(set(without)) == 2
    assert Response.count() == 4


def test_idempotency_keys_are_per_survey(api, path):
    other = api.post("/v1/surveys", {"name": "Other", "allowed_origins": [SHOP]}).json["survey_id"]
    a = post(api, path, {"score": 6}, SHOP, Idempotency_Key="k")
    b = post(api, f"/v1/surveys/{other}/responses", {"score": 6}, SHOP, Idempotency_Key="k")
    assert a.status_code == b.status_code == 201 and a.json["response_id"] != b.json["response_id"]


def test_an_overlong_idempotency_key_is_422(api, path):
    assert_error(post(api, path, {"score": 6}, SHOP, Idempotency_Key="k" * 201), 422, "invalid")
    assert Response.count() == 0


def test_widget_script_is_served_as_javascript(api):
    r = api.get("/widget.js", token=None)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/javascript")
    script = r.body.decode()
    assert "/v1/surveys/" in script and "XMLHttpRequest" in script and "Idempotency-Key" in script
    code = script.split("*/", 1)[1] if script.startswith("/*") else script
    assert "http://" not in code and "https://" not in code, "no third-party code or assets"
    assert "createElement('script')" not in code and "import(" not in code and "eval(" not in code
    assert len(script) < 20_000
