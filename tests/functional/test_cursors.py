"""One signed cursor codec for every list: a `next` the API did not give out is 400 `malformed`, before any
read, on every list and every filter; a cursor of one list is refused by another; the real ones page through."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from support_ddb import assert_error

from chalicelib.api.cursors import decode_cursor, encode_cursor
from chalicelib.domain.errors import Malformed


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(value: dict) -> str:
    """A cursor in the format the API used before cursors were signed (what a forger writes)."""
    return _b64(json.dumps(value).encode())


def signed_with(key: bytes, value: dict, list_name: str = "") -> str:
    raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(key, list_name.encode() + b"\x1f" + raw, hashlib.sha256).digest()
    return f"{_b64(raw)}.{_b64(mac)}"


def forgeries(real: str | None, key_name: str) -> list[str]:
    key = {key_name: {"S": "zzz"}}
    out = [
        "!!!",
        unsigned({"k": key}),
        unsigned({"x": 1}),  # a cursor without its key: used to restart silently at page 1
        unsigned({"p": 7, "k": {"task_id": {"S": "x"}}}),
        unsigned({"p": "x", "k": {"status": {"N": "1"}}}),
        signed_with(b"not the service's key", {"k": key}, "surveys"),
        "W" * 5000,
        "a.b.c",
    ]
    if real:
        body, sig = real.split(".")
        tampered = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        tampered["k"] = key
        out += [
            real[:-3],  # truncated
            real[: len(body)],  # no signature at all
            real + "=",  # re-padded signature
            body + "==." + sig,  # re-padded payload
            f"{_b64(json.dumps(tampered, separators=(',', ':'), sort_keys=True).encode())}.{sig}",  # edited
        ]
    return out


def first_cursor(api, path: str) -> str:
    r = api.get(path)
    assert r.status_code == 200, r.body
    assert r.json["next"], r.json
    return r.json["next"]


@pytest.fixture
def lists(api):
    """Two of each listable thing, and a real second-page cursor of each list (limit=1)."""
    for i in range(2):
        assert api.post("/v1/surveys", {"name": f"S{i}"}).status_code == 201
        assert api.put(f"/v1/accounts/acc-{i}", {"name": f"A{i}", "segment": "smb"}).status_code == 201
        assert api.post("/v1/admin/tokens", {"name": f"t{i}", "scopes": ["read"]}).status_code == 201
    survey_id = api.get("/v1/surveys").json["surveys"][0]["survey_id"]
    rows = "".join(
        json.dumps(
            {
                "external_id": f"e{i}",
                "survey_id": survey_id,
                "score": 3,
                "contact_id": "c-1",
                "submitted_at": "2026-11-02T10:00:00Z",
            }
        )
        + "\n"
        for i in range(3)
    )
    assert api.post("/v1/responses/import", raw=rows, content_type="application/x-ndjson").json["accepted"] == 3
    paths = {
        "/v1/surveys?limit=1": "survey_id",
        "/v1/accounts?limit=1": "account_id",
        "/v1/accounts?limit=1&segment=smb": "account_id",
        "/v1/admin/tokens?limit=1": "token_id",
        "/v1/responses?limit=1": "response_id",
        f"/v1/responses?limit=1&survey_id={survey_id}": "response_id",
        "/v1/responses?limit=1&month=2026-11": "response_id",
        "/v1/responses?limit=1&contact_id=c-1": "response_id",
    }
    return {path: (key_name, first_cursor(api, path)) for path, key_name in paths.items()}


def test_real_cursors_continue_their_list(api, lists):
    for path, (_, cursor) in lists.items():
        r = api.get(f"{path}&next={cursor}")
        assert r.status_code == 200, (path, r.body)


def test_forged_truncated_repadded_and_edited_cursors_are_400_on_every_list(api, lists):
    for path, (key_name, real) in lists.items():
        for cursor in forgeries(real, key_name):
            assert_error(api.get(f"{path}&next={cursor}"), 400, "malformed")


def test_a_cursor_of_one_list_is_refused_by_every_other(api, lists):
    for path, (_, cursor) in lists.items():
        for other in lists:
            if other != path:
                assert_error(api.get(f"{other}&next={cursor}"), 400, "malformed")
        for tasks in ("/v1/tasks?limit=1", "/v1/tasks?status=open", "/v1/tasks?owner=a@example.com&overdue=true"):
            assert_error(api.get(f"{tasks}&next={cursor}"), 400, "malformed")


@pytest.mark.parametrize(
    "filters",
    [
        "",
        "status=open",
        "owner=o@example.com",
        "overdue=true",
        "status=open&overdue=true",
        "owner=o@example.com&status=in_progress",
    ],
)
def test_a_forged_task_cursor_is_400_with_any_filter(api, filters):
    for cursor in forgeries(None, "task_id"):
        assert_error(api.get(f"/v1/tasks?{filters}&next={cursor}"), 400, "malformed")


def test_the_codec_round_trips_and_names_its_list(aws):
    value = {"k": {"survey_id": {"S": "srv_1"}}, "p": 2}
    text = encode_cursor(value, "surveys")
    assert decode_cursor(text, "surveys") == value
    assert "=" not in text and text.count(".") == 1
    for other in (None, "accounts", "surveys "):
        with pytest.raises(Malformed):
            decode_cursor(text, other)
    assert encode_cursor(None) is None and encode_cursor({}) is None and decode_cursor(None) is None


def test_a_cursor_survives_a_key_rotation(aws, monkeypatch):
    from chalicelib import config

    text = encode_cursor({"k": {"survey_id": {"S": "srv_1"}}}, "surveys")  # signed with k2, the active key
    monkeypatch.setenv("LINK_SIGNING_KEYS", "k3:third-test-key,k2:second-test-key")
    monkeypatch.setenv("LINK_SIGNING_KEY_ID", "k3")
    config.reset()
    try:
        assert decode_cursor(text, "surveys") == {"k": {"survey_id": {"S": "srv_1"}}}
        assert encode_cursor({"k": 1}, "surveys") != text
        monkeypatch.setenv("LINK_SIGNING_KEYS", "k3:third-test-key")
        config.reset()
        with pytest.raises(Malformed):
            decode_cursor(text, "surveys")
    finally:
        monkeypatch.undo()
        config.reset()
