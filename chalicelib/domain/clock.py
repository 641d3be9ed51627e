"""What the outside world gives the code: the time and fresh randomness. The clock, the one timestamp format
of the API ("2026-10-31T09:15:00Z", UTC with a Z; fractions of a second only when the moment has them), and
the ids of the service's items."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive time is taken as UTC."""
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def timestamp(moment: datetime | None) -> str | None:
    """The API's form of a moment: ISO 8601 in UTC ending in Z. None stays None."""
    if moment is None:
        return None
    return utc(moment).isoformat().replace("+00:00", "Z")


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 date-time with a zone (or Z) as an aware UTC datetime; naive times are taken as UTC.
    None for anything that is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return utc(parsed)


def new_id(prefix: str) -> str:
    """A fresh random id, `<prefix>_<24 hex digits>`."""
    return f"{prefix}_{secrets.token_hex(12)}"


def stable_id(prefix: str, *parts: str) -> str:
    """A deterministic id from its parts, so a retried write lands on the same item."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
    return f"{prefix}_{digest}"
