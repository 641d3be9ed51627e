"""Short-lived signed links to one month's report, so a browser can open it without an admin token in its URL.

A token is ``base64url(payload) + "." + base64url(hmac_sha256(key[kid], payload))`` with the payload
``{"p": "report", "m": "YYYY-MM", "e": <expiry, epoch seconds>, "k": kid}``, signed with the same rotating link
keys as invitation links. The purpose is inside the signed payload, so an invitation token is never a report
link and a report token never opens a survey. One spelling per token: base64 without padding, canonical bits.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.errors import Forbidden, Gone
from chalicelib.domain.months import MONTH_RE

PURPOSE = "report"
MAX_TOKEN = 512
_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ReportClaims:
    month: str
    expires_at: int
    key_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:  # unused trailing bits set: another spelling of the same bytes
        raise ValueError("not the canonical spelling")
    return data


def sign(keys: dict[str, bytes], key_id: str, month: str, expires_at: datetime) -> str:
    """A report link token for `month`, valid until `expires_at`."""
    payload = {"p": PURPOSE, "m": month, "e": int(expires_at.timestamp()), "k": key_id}
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(raw)}.{_b64(hmac.new(keys[key_id], raw, hashlib.sha256).digest())}"


def verify(keys: dict[str, bytes], token: str, now: datetime) -> ReportClaims:
    """The claims of a valid token; Forbidden (403) for anything not signed by us as a report link, Gone (410)
    once it has expired. The signature is compared in constant time before anything in the payload is trusted."""
    refused = Forbidden("This report link is not valid.", code="invalid_link")
    if not isinstance(token, str) or len(token) > MAX_TOKEN or not _SHAPE.fullmatch(token):
        raise refused
    body, sig = token.split(".")
    try:
        raw, given = _unb64(body), _unb64(sig)
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError, binascii.Error):
        raise refused from None
    if not isinstance(payload, dict) or not isinstance(payload.get("k"), str):
        raise refused
    key = keys.get(payload["k"])
    if key is None or not hmac.compare_digest(hmac.new(key, raw, hashlib.sha256).digest(), given):
        raise refused
    month, expires = payload.get("m"), payload.get("e")
    if (
        payload.get("p") != PURPOSE
        or not isinstance(month, str)
        or not MONTH_RE.fullmatch(month)
        or type(expires) is not int
    ):
        raise refused
    if now.timestamp() >= expires:
        raise Gone("This report link has expired; ask for a new one.", code="link_expired")
    return ReportClaims(month=month, expires_at=expires, key_id=payload["k"])
