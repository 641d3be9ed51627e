"""The survey's identity secret by scope: shown when created and when rotated, never in a read; a rotated
secret keeps verifying for the grace period, then stops."""

from __future__ import annotations

import json
from datetime import timedelta

from support_ddb import assert_error

from chalicelib.domain import clock, tokens
from chalicelib.store import admin_tokens, surveys
from chalicelib.store.models import Survey

SHOP = "https://shop.example.com"


def _token(scopes):
    token, _ = admin_tokens.create("t", scopes)
    return token


def _answer(api, survey_id, secret, contact="con-7", account="acc-7"):
    identity = tokens.identity_signature(secret, contact, account)
    return api.post(
        f"/v1/surveys/{survey_id}/responses",
        {"score": 9, "contact_id": contact, "account_id": account, "identity": identity},
        token=None,
        headers={"Origin": SHOP},
    )


def test_a_read_token_sees_no_secret_anywhere(api, survey):
    secret = survey["identity_secret"]
    read = _token(["read"])
    sid = survey["survey_id"]
    answers = [
        api.get(f"/v1/surveys/{sid}", token=read),
        api.get("/v1/surveys", token=read),
        api.get("/v1/surveys?limit=1", token=read),
    ]
    for r in answers:
        assert r.status_code == 200, r.body
        text = r.body.decode() if isinstance(r.body, bytes) else r.body
        assert secret not in text and "identity_secret" not in text
    assert answers[0].json["survey_id"] == sid
    # A write token's PATCH answer does not show it either, and a read token cannot rotate it.
    patched = api.patch(f"/v1/surveys/{sid}", {"name": "Renamed"}, token=_token(["write"]))
    assert patched.status_code == 200 and "identity_secret" not in patched.json and secret not in str(patched.json)
    assert_error(api.post(f"/v1/surveys/{sid}/identity-secret", token=read), 403, "insufficient_scope")
    assert Survey.get(sid).identity_secret == secret


def test_rotation_shows_the_new_secret_once_and_the_old_one_works_for_the_grace_period(api, survey):
    sid, old = survey["survey_id"], survey["identity_secret"]
    assert _answer(api, sid, old).status_code == 201  # warms the survey cache of this process
    r = api.post(f"/v1/surveys/{sid}/identity-secret", token=_token(["write"]))
    assert r.status_code == 200, r.body
    new = r.json["identity_secret"]
    assert new != old and len(new) >= 32 and set(r.json) == {"survey_id", "identity_secret", "previous_secret_until"}
    stored = Survey.get(sid)
    assert stored.identity_secret == new and stored.previous_identity_secret == old
    grace = stored.previous_secret_until - clock.utcnow()
    assert timedelta(days=6, hours=23) < grace <= timedelta(days=7)
    assert new not in json.dumps(api.get(f"/v1/surveys/{sid}").json)
    # The cache entry was dropped: the new secret verifies at once, and the old one still does.
    assert _answer(api, sid, new, contact="con-8", account="acc-8").status_code == 201
    assert _answer(api, sid, old, contact="con-9", account="acc-9").status_code == 201
    # Once the grace period is over the old secret is refused.
    stored.update(actions=[Survey.previous_secret_until.set(clock.utcnow() - timedelta(seconds=1))])
    surveys.clear_cache()
    assert_error(_answer(api, sid, old, contact="con-10", account="acc-10"), 403, "identity_refused")
    assert _answer(api, sid, new, contact="con-10", account="acc-10").status_code == 201


def test_rotating_again_keeps_only_the_secret_just_replaced(api, survey):
    sid, first = survey["survey_id"], survey["identity_secret"]
    second = api.post(f"/v1/surveys/{sid}/identity-secret").json["identity_secret"]
    third = api.post(f"/v1/surveys/{sid}/identity-secret", {}).json["identity_secret"]
    assert len({first, second, third}) == 3
    assert _answer(api, sid, third).status_code == 201
    assert _answer(api, sid, second, contact="con-2", account="acc-2").status_code == 201
    assert_error(_answer(api, sid, first, contact="con-3", account="acc-3"), 403, "identity_refused")


def test_rotation_refuses_a_body_with_fields_and_unknown_surveys(api, survey):
    sid = survey["survey_id"]
    assert_error(api.post(f"/v1/surveys/{sid}/identity-secret", {"identity_secret": "mine"}), 422, "invalid")
    assert_error(api.post("/v1/surveys/srv_nope/identity-secret"), 404, "survey_not_found")
    assert_error(api.post(f"/v1/surveys/{sid}/identity-secret", token=None), 401)
    assert Survey.get(sid).identity_secret == survey["identity_secret"]
