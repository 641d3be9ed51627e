"""The one cursor codec of every paginated list: `next` values are opaque strings the API gave out."""

from __future__ import annotations

import base64
import json

from chalicelib.errors import Malformed


def encode_cursor(value: dict | None) -> str | None:
    if not value:
        return None
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> dict | None:
    if not text:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Malformed("The 'next' cursor is not one this API gave out.", fields={"next": "invalid"}) from None
    if not isinstance(value, dict):
        raise Malformed("The 'next' cursor is not one this API gave out.", fields={"next": "invalid"})
    return value
