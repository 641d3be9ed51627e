"""Widget and API capture: the survey's CORS allow-list, preflight, identity signatures, Idempotency-Key, and the
widget script itself."""

from __future__ import annotations

import pytest
from support_ddb import all_tables, assert_error

from chalicelib.domain import clock, tokens
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
    for origin in [
        "https://evil.example.com",
        "http://shop.example.com",
        "https://shop.example.com:8443",
        "https://app.example.com",
        "https://shop.example.com.evil.com",
        "null",
        "*",
        "not an origin",
    ]:
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


# ---- identity covers the account, erased people, anonymous answers (issue 11) ------------------------------


def identity_for(survey, contact="con-7", account="acc-7"):
    return tokens.identity_signature(survey["identity_secret"], contact, account)


def test_a_visitors_valid_identity_cannot_attribute_to_another_account(api, survey, path):
    mine = identity_for(survey, "con-7", "acc-7")
    before = all_tables()
    for account in ("acc-8", "", None):
        body = {"score": 0, "contact_id": "con-7", "identity": mine}
        if account is not None:
            body["account_id"] = account
        r = post(api, path, body, SHOP)
        assert r.status_code in (403, 422), (account, r.body)
    assert_error(
        post(api, path, {"score": 0, "contact_id": "con-7", "account_id": "acc-8", "identity": mine}, SHOP),
        403,
        "identity_refused",
    )
    assert all_tables() == before
    r = post(api, path, {"score": 0, "contact_id": "con-7", "account_id": "acc-7", "identity": mine}, SHOP)
    assert r.status_code == 201
    assert Response.get(r.json["response_id"]).account_id == "acc-7"


def test_an_identity_without_an_account_signs_the_contact_alone(api, survey, path):
    identity = identity_for(survey, "con-7", None)
    r = post(api, path, {"score": 8, "contact_id": "con-7", "identity": identity}, SHOP)
    assert r.status_code == 201, r.body
    item = Response.get(r.json["response_id"])
    assert (item.contact_id, item.account_id) == ("con-7", None)


def test_the_previous_secret_signs_during_its_grace_period_only(api, survey, path):
    from datetime import timedelta

    from chalicelib.store import surveys
    from chalicelib.store.models import Survey

    old = identity_for(survey)
    stored = Survey.get(survey["survey_id"])
    stored.update(
        actions=[
            Survey.previous_identity_secret.set(survey["identity_secret"]),
            Survey.identity_secret.set("a-brand-new-secret"),
            Survey.previous_secret_until.set(clock.utcnow() + timedelta(days=7)),
        ]
    )
    surveys.clear_cache()
    body = {"score": 9, "contact_id": "con-7", "account_id": "acc-7"}
    assert post(api, path, {**body, "identity": old}, SHOP).status_code == 201
    new = tokens.identity_signature("a-brand-new-secret", "con-7", "acc-7")
    assert post(api, path, {**body, "identity": new}, SHOP).status_code == 201
    stored.update(actions=[Survey.previous_secret_until.set(clock.utcnow() - timedelta(seconds=1))])
    surveys.clear_cache()
    assert_error(post(api, path, {**body, "identity": old}, SHOP), 403, "identity_refused")


def test_an_erased_persons_identity_creates_nothing(api, survey, path):
    from chalicelib.store.models import Contact

    Contact("con-7", erased_at=clock.utcnow()).save()
    before = all_tables()
    body = {
        "score": 2,
        "comment": "hello",
        "contact_id": "con-7",
        "account_id": "acc-7",
        "identity": identity_for(survey),
    }
    assert_error(post(api, path, body, SHOP), 410, "contact_erased")
    assert_error(post(api, path, body, SHOP, Idempotency_Key="erased-1"), 410, "contact_erased")
    assert all_tables() == before
    # A known contact who was not erased, and one the directory does not know, both pass.
    Contact("con-9", account_id="acc-9").save()
    ok = post(
        api,
        path,
        {"score": 2, "contact_id": "con-9", "account_id": "acc-9", "identity": identity_for(survey, "con-9", "acc-9")},
        SHOP,
    )
    assert ok.status_code == 201


def test_an_identity_answer_is_one_write_request(api, survey, path):
    from support_ddb import count_dynamodb_calls

    post(api, path, {"score": 1}, SHOP)  # warms the survey cache
    with count_dynamodb_calls() as calls:
        r = post(
            api,
            path,
            {"score": 2, "contact_id": "con-7", "account_id": "acc-7", "identity": identity_for(survey)},
            SHOP,
        )
        assert r.status_code == 201
    assert calls == {"TransactWriteItems": 1} and calls.reads == 0


@pytest.mark.parametrize(
    ("policy", "status", "reason"),
    [
        (None, "counted", None),
        ("counted", "counted", None),
        ("excluded", "excluded", "anonymous"),
    ],
)
def test_anonymous_answers_follow_the_survey_setting(api, survey, path, policy, status, reason):
    from chalicelib.store import surveys

    if policy:
        assert api.patch(f"/v1/surveys/{survey['survey_id']}", {"anonymous_answers": policy}).status_code == 200
        surveys.clear_cache()
    anonymous = post(api, path, {"score": 10}, SHOP)
    assert anonymous.status_code == 201
    item = Response.get(anonymous.json["response_id"])
    assert (item.status, item.excluded_reason) == (status, reason)
    signed = post(
        api, path, {"score": 10, "contact_id": "con-7", "account_id": "acc-7", "identity": identity_for(survey)}, SHOP
    )
    assert Response.get(signed.json["response_id"]).status == "counted"


def test_a_survey_can_refuse_anonymous_answers(api, survey, path):
    from chalicelib.store import surveys

    assert api.patch(f"/v1/surveys/{survey['survey_id']}", {"anonymous_answers": "refused"}).status_code == 200
    surveys.clear_cache()
    before = all_tables()
    r = post(api, path, {"score": 10}, SHOP)
    assert_error(r, 403, "identity_required")
    assert r.headers["Access-Control-Allow-Origin"] == SHOP, "the widget can read why"
    assert_error(post(api, path, {"score": 10, "contact_id": "con-7"}), 403, "identity_required")
    assert all_tables() == before
    signed = post(
        api, path, {"score": 10, "contact_id": "con-7", "account_id": "acc-7", "identity": identity_for(survey)}, SHOP
    )
    assert signed.status_code == 201


# ---- the answer, the widget's comment follow-up, canonical origins ------------------------------------------


def test_the_answer_carries_the_surveys_throttle(api, survey, path):
    r = post(api, path, {"score": 9}, SHOP, Idempotency_Key="t-1")
    assert r.status_code == 201 and r.json["throttle_days"] == survey["throttle_days"] == 90
    again = post(api, path, {"score": 9}, SHOP, Idempotency_Key="t-1")
    assert again.status_code == 200 and again.json == {
        "response_id": r.json["response_id"],
        "created": False,
        "throttle_days": 90,
    }


def test_the_widgets_comment_after_its_score_is_added_once(api, path):
    first = post(api, path, {"score": 4}, SHOP, Idempotency_Key="view-1")
    assert first.status_code == 201
    rid = first.json["response_id"]
    follow = post(api, path, {"score": 4, "comment": "Too slow"}, SHOP, Idempotency_Key="view-1")
    assert follow.status_code == 200
    assert follow.json == {"response_id": rid, "created": False, "updated": True, "throttle_days": 90}
    item = Response.get(rid)
    assert (item.score, item.comment, item.version) == (4, "Too slow", 2)
    before = all_tables()
    for body in ({"score": 4, "comment": "Changed my mind"}, {"score": 9, "comment": "x"}, {"score": 4}):
        r = post(api, path, body, SHOP, Idempotency_Key="view-1")
        assert r.status_code == 200 and "updated" not in r.json, body
    assert all_tables() == before


def test_a_follow_up_with_another_score_changes_nothing(api, path):
    rid = post(api, path, {"score": 4}, SHOP, Idempotency_Key="view-2").json["response_id"]
    r = post(api, path, {"score": 5, "comment": "Not mine"}, SHOP, Idempotency_Key="view-2")
    assert r.status_code == 200 and "updated" not in r.json
    assert Response.get(rid).comment is None


def test_a_follow_up_may_add_drivers(api, survey, path):
    rid = post(
        api,
        path,
        {"score": 4, "contact_id": "con-7", "account_id": "acc-7", "identity": identity_for(survey)},
        SHOP,
        Idempotency_Key="view-3",
    ).json["response_id"]
    r = post(
        api,
        path,
        {
            "score": 4,
            "drivers": ["price"],
            "contact_id": "con-7",
            "account_id": "acc-7",
            "identity": identity_for(survey),
        },
        SHOP,
        Idempotency_Key="view-3",
    )
    assert r.status_code == 200 and r.json["updated"] is True
    assert Response.get(rid).drivers == ["price"]


def test_cors_echoes_the_canonical_origin(api, path):
    for sent in ("HTTPS://SHOP.EXAMPLE.COM", "https://shop.example.com:443", "https://Shop.Example.com"):
        r = post(api, path, {"score": 9}, sent)
        assert r.status_code == 201, sent
        assert r.headers["Access-Control-Allow-Origin"] == SHOP
        r = preflight(api, path, sent)
        assert r.headers["Access-Control-Allow-Origin"] == SHOP


def test_widget_script_is_not_sniffed(api):
    assert api.get("/widget.js", token=None).headers["X-Content-Type-Options"] == "nosniff"


def test_an_origin_that_does_not_parse_is_refused_not_a_crash(api, path):
    for origin in ("https://[not-v6]", "http://[::1", "https://shop.example.com:99999"):
        assert_error(post(api, path, {"score": 9}, origin), 403, "origin_not_allowed")
        assert_error(preflight(api, path, origin), 403, "origin_not_allowed")
