"""The one cursor codec of every paginated list: `next` values are opaque strings the API gave out.

A cursor is ``base64url(json) + "." + base64url(hmac_sha256(cursor_key, list_name + "\\x1f" + json))``. The
signature makes a forged, truncated or edited cursor fail before it reaches the store (where DynamoDB would
answer a bad start key with a 500), and the list name inside the MAC makes a cursor of one list useless on
another. The key is derived from the link signing keys, so the service has no separate secret to manage:
cursors are signed with the active key and verified with every configured one, so they survive a rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re

from chalicelib import config
from chalicelib.domain.errors import Malformed

MAX_CURSOR = 4096
# Unpadded base64url only: one spelling per cursor, so a re-padded copy is refused like any other edit.
_PART = re.compile(r"^[A-Za-z0-9_-]+\Z")


def _refused() -> Malformed:
    return Malformed("The 'next' cursor is not one this API gave out.", fields={"next": "invalid"})


def _keys() -> list[bytes]:
    s = config.settings()
    ordered = [s.link_keys[s.active_link_key]] + [k for kid, k in s.link_keys.items() if kid != s.active_link_key]
    # A key of its own, derived so that a cursor MAC can never be replayed as a link signature.
    return [hmac.new(k, b"nps-cursor-v1", hashlib.sha256).digest() for k in ordered]


def _mac(key: bytes, list_name: str | None, raw: bytes) -> bytes:
    return hmac.new(key, (list_name or "").encode() + b"\x1f" + raw, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    if not _PART.match(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # non-canonical trailing bits
        raise ValueError("not canonical")
    return data


def encode_cursor(value: dict | None, list_name: str | None = None) -> str | None:
    """The opaque `next` for a list's continuation state, or None at the end of the list."""
    if not value:
        return None
    raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(raw)}.{_b64(_mac(_keys()[0], list_name, raw))}"


def decode_cursor(text: str | None, list_name: str | None = None) -> dict | None:
    """The state `encode_cursor` put in a cursor of this list; 400 `malformed` for anything else."""
    if text is None or text == "":
        return None
    if not isinstance(text, str) or len(text) > MAX_CURSOR or text.count(".") != 1:
        raise _refused()
    body, sig = text.split(".")
    try:
        raw, given = _unb64(body), _unb64(sig)
    except (ValueError, binascii.Error):
        raise _refused() from None
    # Every configured key is checked, each in constant time, so no timing tells which one nearly matched.
    matched = False
    for key in _keys():
        matched |= hmac.compare_digest(_mac(key, list_name, raw), given)
    if not matched:
        raise _refused()
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _refused() from None
    if not isinstance(value, dict) or not value:
        raise _refused()
    return value
