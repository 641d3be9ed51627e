"""Signed invitation links, widget identity signatures and admin token hashing.

A link token is ``base64url(payload) + "." + base64url(hmac_sha256(key[kid], payload))``. The payload names
the key id, so keys can be rotated: new links use the active key, old links verify with the key they name
for as long as it stays configured.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# Re-exported: their home is clock, and callers move there in time.
from chalicelib.domain.errors import Forbidden, Gone

PURPOSE_SURVEY = "s"
PURPOSE_UNSUBSCRIBE = "u"


@dataclass(frozen=True)
class LinkClaims:
    purpose: str
    invitation_id: str
    survey_id: str
    contact_id: str
    account_id: str
    expires_at: int
    key_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# Unpadded base64url. A length of 1 mod 4 is no encoding at all.
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*\Z")


def _unb64(text: str) -> bytes:
    """Decode unpadded base64url, refusing every spelling but the one `_b64` writes: padding, other
    alphabets, and trailing bits that are not zero (which decode to the same bytes) are all refused."""
    if not B64URL_RE.match(text) or len(text) % 4 == 1:
        raise ValueError("not canonical base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def sign_link(
    keys: dict[str, bytes],
    key_id: str,
    *,
    purpose: str,
    invitation_id: str,
    survey_id: str,
    contact_id: str,
    account_id: str,
    expires_at: datetime,
) -> str:
    """Return a URL-safe token for an invitation; nothing in it is secret, all of it is signed."""
    payload = {
        "p": purpose,
        "i": invitation_id,
        "s": survey_id,
        "c": contact_id,
        "a": account_id,
        "e": int(expires_at.timestamp()),
        "k": key_id,
    }
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    sig = hmac.new(keys[key_id], raw, hashlib.sha256).digest()
    return f"{_b64(raw)}.{_b64(sig)}"


def verify_link(keys: dict[str, bytes], token: str, purpose: str, now: datetime) -> LinkClaims:
    """Check a token's signature, purpose and expiry; raise Forbidden (403) or Gone (410)."""
    refused = Forbidden("This link is not valid.", code="invalid_link")
    if not isinstance(token, str) or len(token) > 1024 or token.count(".") != 1:
        raise refused
    body, sig = token.split(".")
    try:
        raw = _unb64(body)
        given = _unb64(sig)
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise refused from None
    if not isinstance(payload, dict):
        raise refused
    key_id = payload.get("k")
    key = keys.get(key_id) if isinstance(key_id, str) else None
    if key is None:
        raise refused
    if not hmac.compare_digest(hmac.new(key, raw, hashlib.sha256).digest(), given):
        raise refused
    if payload.get("p") != purpose:
        raise refused
    try:
        claims = LinkClaims(
            purpose=payload["p"],
            invitation_id=str(payload["i"]),
            survey_id=str(payload["s"]),
            contact_id=str(payload["c"]),
            account_id=str(payload["a"]),
            expires_at=int(payload["e"]),
            key_id=payload["k"],
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        raise refused from None
    if now.timestamp() >= claims.expires_at:
        raise Gone("This link has expired.", code="link_expired")
    return claims


def identity_signature(secret: str, contact_id: str, account_id: str | None) -> str:
    """The widget's ``identity``: hex HMAC-SHA256 of ``contact_id + "\n" + account_id`` (an empty account
    when there is none) under the survey's identity secret. Both are signed because both are attributed; ids
    cannot contain a newline, so no two pairs sign the same text."""
    message = f"{contact_id}\n{account_id or ''}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def identity_matches(secret: str | None, contact_id: str, account_id: str | None, given: str) -> bool:
    if not secret:
        return False
    # Bytes, not str: compare_digest refuses non-ASCII text, and `given` comes from outside.
    expected = identity_signature(secret, contact_id, account_id).encode()
    return hmac.compare_digest(expected, str(given).encode())


class IdentitySecrets(Protocol):
    """What identity_verifies reads of a survey: its identity secret (the one replaced, and until when it is still
    accepted, are read when the survey has them)."""

    @property
    def identity_secret(self) -> str | None: ...


def identity_verifies(
    survey: IdentitySecrets, contact_id: str, account_id: str | None, given: str, now: datetime
) -> bool:
    """Checked against the survey's identity secret, or the one it replaced while its grace period runs."""
    if identity_matches(survey.identity_secret, contact_id, account_id, given):
        return True
    until = getattr(survey, "previous_secret_until", None)
    previous = getattr(survey, "previous_identity_secret", None)
    return bool(previous and until and now < until and identity_matches(previous, contact_id, account_id, given))


def new_admin_token() -> tuple[str, str]:
    """A fresh admin token and its public id; the token is shown once and stored only as a hash."""
    token_id = secrets.token_hex(8)
    return token_id, f"npsa_{token_id}.{secrets.token_urlsafe(32)}"


def admin_token_id(token: str) -> str | None:
    if not isinstance(token, str) or not token.startswith("npsa_") or "." not in token or len(token) > 200:
        return None
    token_id = token[5:].split(".", 1)[0]
    return token_id if len(token_id) == 16 and all(c in "0123456789abcdef" for c in token_id) else None


def hash_admin_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)
