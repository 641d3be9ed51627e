"""Signed links, identity signatures and admin token helpers: pure functions, no AWS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import config
from chalicelib.domain import clock, tokens
from chalicelib.domain.errors import Forbidden, Gone

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
KEYS = {"k2": b"second-test-key", "k1": b"first-test-key"}
CLAIMS = {"invitation_id": "inv_1", "survey_id": "srv_1", "contact_id": "con-1", "account_id": "acc-1"}


def sign(keys=KEYS, key_id="k2", purpose=tokens.PURPOSE_SURVEY, expires_at=NOW + timedelta(days=30), **over):
    return tokens.sign_link(keys, key_id, purpose=purpose, expires_at=expires_at, **{**CLAIMS, **over})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(payload, key=b"second-test-key") -> str:
    """A token with a correct signature over an arbitrary payload (what only a key holder can make)."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return f"{b64(raw)}.{b64(hmac.new(key, raw, hashlib.sha256).digest())}"


def test_round_trip_carries_every_claim():
    token = sign()
    claims = tokens.verify_link(KEYS, token, tokens.PURPOSE_SURVEY, NOW)
    assert claims == tokens.LinkClaims(
        purpose="s",
        invitation_id="inv_1",
        survey_id="srv_1",
        contact_id="con-1",
        account_id="acc-1",
        expires_at=int((NOW + timedelta(days=30)).timestamp()),
        key_id="k2",
    )
    assert all(c.isalnum() or c in "-_." for c in token), "tokens must be URL-safe"


def test_unsubscribe_round_trip():
    token = sign(purpose=tokens.PURPOSE_UNSUBSCRIBE)
    assert tokens.verify_link(KEYS, token, tokens.PURPOSE_UNSUBSCRIBE, NOW).contact_id == "con-1"


def test_tampered_payload_is_refused():
    token = sign()
    body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for field, value in (("i", "inv_other"), ("s", "srv_other"), ("c", "con-2"), ("e", payload["e"] + 86400)):
        changed = {**payload, field: value}
        raw = json.dumps(changed, separators=(",", ":"), sort_keys=True).encode()
        with pytest.raises(Forbidden):
            tokens.verify_link(KEYS, f"{b64(raw)}.{sig}", tokens.PURPOSE_SURVEY, NOW)


def test_tampered_signature_is_refused():
    body, sig = sign().split(".")
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    for bad in (flipped, sig[:-2], sig + "AA", "", b64(b"\0" * 32)):
        with pytest.raises(Forbidden):
            tokens.verify_link(KEYS, f"{body}.{bad}", tokens.PURPOSE_SURVEY, NOW)


def test_expired_link_is_gone_and_boundary_is_exclusive():
    token = sign(expires_at=NOW)
    with pytest.raises(Gone) as info:
        tokens.verify_link(KEYS, token, tokens.PURPOSE_SURVEY, NOW)
    assert info.value.code == "link_expired"
    assert tokens.verify_link(KEYS, token, tokens.PURPOSE_SURVEY, NOW - timedelta(seconds=1)).invitation_id == "inv_1"


def test_tampered_expired_link_is_forbidden_not_gone():
    # The signature is checked before the expiry: an expired forgery learns nothing.
    body, sig = sign(expires_at=NOW - timedelta(days=1)).split(".")
    with pytest.raises(Forbidden):
        tokens.verify_link(KEYS, f"{body}.{sig[::-1]}", tokens.PURPOSE_SURVEY, NOW)


def test_wrong_purpose_is_refused_both_ways():
    with pytest.raises(Forbidden):
        tokens.verify_link(KEYS, sign(purpose=tokens.PURPOSE_UNSUBSCRIBE), tokens.PURPOSE_SURVEY, NOW)
    with pytest.raises(Forbidden):
        tokens.verify_link(KEYS, sign(purpose=tokens.PURPOSE_SURVEY), tokens.PURPOSE_UNSUBSCRIBE, NOW)


def test_unknown_key_id_is_refused():
    foreign = sign(keys={"k9": b"someone-elses-key"}, key_id="k9")
    with pytest.raises(Forbidden):
        tokens.verify_link(KEYS, foreign, tokens.PURPOSE_SURVEY, NOW)


def test_same_key_id_with_a_different_secret_is_refused():
    foreign = sign(keys={"k2": b"not-our-secret"}, key_id="k2")
    with pytest.raises(Forbidden):
        tokens.verify_link(KEYS, foreign, tokens.PURPOSE_SURVEY, NOW)


def test_key_rotation_keeps_old_links_while_the_old_key_stays(monkeypatch):
    monkeypatch.setenv("LINK_SIGNING_KEYS", "k1:first-test-key")
    monkeypatch.setenv("LINK_SIGNING_KEY_ID", "k1")
    config.reset()
    before = config.settings()
    old_link = tokens.sign_link(
        before.link_keys, before.active_link_key, purpose="s", expires_at=NOW + timedelta(days=30), **CLAIMS
    )

    monkeypatch.setenv("LINK_SIGNING_KEYS", "k2:second-test-key,k1:first-test-key")
    monkeypatch.setenv("LINK_SIGNING_KEY_ID", "k2")
    config.reset()
    rotated = config.settings()
    assert rotated.active_link_key == "k2"
    new_link = tokens.sign_link(
        rotated.link_keys, rotated.active_link_key, purpose="s", expires_at=NOW + timedelta(days=30), **CLAIMS
    )
    assert tokens.verify_link(rotated.link_keys, old_link, "s", NOW).key_id == "k1"
    assert tokens.verify_link(rotated.link_keys, new_link, "s", NOW).key_id == "k2"

    monkeypatch.setenv("LINK_SIGNING_KEYS", "k2:second-test-key")
    config.reset()
    retired = config.settings()
    with pytest.raises(Forbidden):
        tokens.verify_link(retired.link_keys, old_link, "s", NOW)
    assert tokens.verify_link(retired.link_keys, new_link, "s", NOW).key_id == "k2"
    monkeypatch.undo()
    config.reset()


def test_settings_refuse_an_active_key_that_is_not_configured(monkeypatch):
    monkeypatch.setenv("LINK_SIGNING_KEYS", "k1:first-test-key")
    monkeypatch.setenv("LINK_SIGNING_KEY_ID", "k2")
    config.reset()
    with pytest.raises(RuntimeError):
        config.settings()
    monkeypatch.setenv("LINK_SIGNING_KEYS", "k1")
    with pytest.raises(RuntimeError):
        config.settings()
    monkeypatch.undo()
    config.reset()


GOOD = sign()
GOOD_BODY, GOOD_SIG = GOOD.split(".")
GARBAGE = [
    "",
    ".",
    "..",
    "abc",
    "abc.",
    ".abc",
    GOOD_BODY,
    f"{GOOD}.x",
    f"{GOOD_BODY}.{GOOD_SIG}.{GOOD_SIG}",
    GOOD.replace(".", ""),
    "a" * 5000,
    GOOD + "A" * 2000,
    "%%%.%%%",
    "é.é",
    "\x00.\x00",
    "a.b",
    "ab.cd",
    "abcde.abcde",  # length that is one more than a multiple of four: not base64 at all
    "////.++++",
    f"{b64(b'not json')}.{GOOD_SIG}",
    f"{b64(bytes(range(256)))}.{GOOD_SIG}",
    f"{b64(b'[1,2,3]')}.{GOOD_SIG}",
    f"{b64(b'null')}.{GOOD_SIG}",
    f"{b64(b'{}')}.{GOOD_SIG}",
    f"{b64(b'[' * 700)}.{GOOD_SIG}",
    f"{b64(json.dumps({'k': ['k2']}).encode())}.{GOOD_SIG}",
    f"{b64(json.dumps({'k': {'x': 1}}).encode())}.{GOOD_SIG}",
    f"{b64(json.dumps({'k': 'k2', 'p': 's'}).encode())}.{GOOD_SIG}",
    # Correctly signed but malformed payloads (a leaked key, or our own bug) are refused too, never a crash.
    forge({"k": "k2", "p": "s"}),
    forge({"k": "k2", "p": "s", "i": "x", "s": "y", "c": "z", "a": "w", "e": "soon"}),
    forge({"k": "k2", "p": "s", "i": "x", "s": "y", "c": "z", "a": "w", "e": None}),
    forge({"k": "k2", "p": "s", "i": "x", "s": "y", "c": "z", "a": "w", "e": [1]}),
    forge(b'{"k":"k2","p":"s","i":"x","s":"y","c":"z","a":"w","e":1e999}'),
    forge(b'{"k":"k2","p":"s","i":"x","s":"y","c":"z","a":"w","e":NaN}'),
    forge(b"\xff\xfe"),
]


@pytest.mark.parametrize("token", GARBAGE)
def test_garbage_tokens_are_forbidden_never_an_exception(token):
    with pytest.raises(Forbidden) as info:
        tokens.verify_link(KEYS, token, tokens.PURPOSE_SURVEY, NOW)
    assert info.value.code == "invalid_link"


@pytest.mark.parametrize("token", [None, 42, b"abc.def", ["a.b"]])
def test_non_string_tokens_are_forbidden(token):
    with pytest.raises(Forbidden):
        tokens.verify_link(KEYS, token, tokens.PURPOSE_SURVEY, NOW)


def test_identity_signature_is_hmac_sha256_of_the_contact_and_the_account():
    expected = hmac.new(b"survey-secret", b"con-1\nacc-1", hashlib.sha256).hexdigest()
    assert tokens.identity_signature("survey-secret", "con-1", "acc-1") == expected
    assert tokens.identity_matches("survey-secret", "con-1", "acc-1", expected)
    assert not tokens.identity_matches("survey-secret", "con-2", "acc-1", expected)
    assert not tokens.identity_matches("survey-secret", "con-1", "acc-2", expected), "the account is signed too"
    assert not tokens.identity_matches("survey-secret", "con-1", None, expected)
    assert not tokens.identity_matches("other-secret", "con-1", "acc-1", expected)
    assert not tokens.identity_matches("survey-secret", "con-1", "acc-1", expected.upper())
    assert not tokens.identity_matches("survey-secret", "con-1", "acc-1", "")
    assert not tokens.identity_matches("survey-secret", "con-1", "acc-1", "é" * 64)
    assert not tokens.identity_matches(None, "con-1", "acc-1", expected)
    # Without an account the message is the contact id and a newline: no pair signs what another pair signs.
    alone = hmac.new(b"survey-secret", b"con-1\n", hashlib.sha256).hexdigest()
    assert tokens.identity_signature("survey-secret", "con-1", None) == alone


def test_the_previous_identity_secret_verifies_only_during_its_grace_period():
    class Survey:
        identity_secret = "new-secret"
        previous_identity_secret = "old-secret"
        previous_secret_until = NOW + timedelta(days=7)

    old = tokens.identity_signature("old-secret", "con-1", "acc-1")
    new = tokens.identity_signature("new-secret", "con-1", "acc-1")
    assert tokens.identity_verifies(Survey, "con-1", "acc-1", new, NOW)
    assert tokens.identity_verifies(Survey, "con-1", "acc-1", old, NOW + timedelta(days=6))
    assert not tokens.identity_verifies(Survey, "con-1", "acc-1", old, NOW + timedelta(days=7))
    assert not tokens.identity_verifies(Survey, "con-1", "acc-2", old, NOW)
    Survey.previous_secret_until = None
    assert not tokens.identity_verifies(Survey, "con-1", "acc-1", old, NOW)


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def twin(text: str) -> str:
    """The same bytes spelled with the unused low bits of the last character set (base64 decoders accept it)."""
    spare = {2: 0b1111, 3: 0b11}[len(text) % 4]
    return text[:-1] + B64URL[B64URL.index(text[-1]) | spare]


def test_a_link_token_has_exactly_one_valid_spelling():
    good = sign()
    assert tokens.verify_link(KEYS, good, tokens.PURPOSE_SURVEY, NOW).invitation_id == "inv_1"
    body, sig = good.split(".")
    assert len(sig) % 4 == 3  # 32 bytes: 43 characters, two spare bits
    assert base64.urlsafe_b64decode(twin(sig) + "=") == base64.urlsafe_b64decode(sig + "=")
    spellings = [
        f"{body}=.{sig}",
        f"{body}.{sig}=",
        f"{body}==.{sig}",
        f"{body}.{sig}==",  # padding
        f"{body}.{twin(sig)}",  # non-canonical trailing bits in the signature
        f"{body}.{sig.replace('-', '+').replace('_', '/')}" if ("-" in sig or "_" in sig) else f"{body}.+{sig[1:]}",
        f" {body}.{sig}",
        f"{body}.{sig}\n",
        f"{body}.{sig}A",
        f"{body}.{sig}AAAA",
    ]
    if len(body) % 4:
        spellings.append(f"{twin(body)}.{sig}")
    for spelling in spellings:
        assert spelling != good
        with pytest.raises(Forbidden):
            tokens.verify_link(KEYS, spelling, tokens.PURPOSE_SURVEY, NOW)


def test_admin_tokens_are_random_and_carry_their_id():
    seen = set()
    for _ in range(20):
        token_id, token = tokens.new_admin_token()
        assert tokens.admin_token_id(token) == token_id
        assert len(token) > 40 and token not in seen
        seen.add(token)
    assert len({tokens.admin_token_id(t) for t in seen}) == 20


def test_admin_token_hash_is_sha256_hex_and_not_the_token():
    _, token = tokens.new_admin_token()
    digest = tokens.hash_admin_token(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in digest and len(digest) == 64
    assert tokens.hash_admin_token(token + "x") != digest


@pytest.mark.parametrize(
    "token",
    [
        "",
        "npsa_",
        "npsa_0123456789abcdef",  # no secret part
        "npsa_0123456789ABCDEF.secret",  # upper case is not an id we issue
        "npsa_0123456789abcde.secret",
        "npsa_0123456789abcdef0.secret",
        "npsb_0123456789abcdef.secret",
        "npsa_0123456789abcdeg.secret",
        "npsa_" + "0" * 16 + "." + "x" * 300,
        None,
        42,
    ],
)
def test_admin_token_id_refuses_other_shapes(token):
    assert tokens.admin_token_id(token) is None


def test_admin_token_id_parses_ours():
    assert tokens.admin_token_id("npsa_0123456789abcdef.anything-here") == "0123456789abcdef"


def test_stable_ids_are_deterministic_and_separate_their_parts():
    assert clock.stable_id("rsp", "inv_1") == clock.stable_id("rsp", "inv_1")
    assert clock.stable_id("rsp", "inv_1") != clock.stable_id("rsp", "inv_2")
    assert clock.stable_id("rsp", "ab", "c") != clock.stable_id("rsp", "a", "bc")
    assert clock.stable_id("rsp", "x").startswith("rsp_")
    assert clock.new_id("inv") != clock.new_id("inv")
