"""Invitation rules: who is not invited again (the unsubscribed, and anyone invited to the survey within its
throttle window, or earlier in the same call)."""

from __future__ import annotations

from datetime import datetime, timedelta


def skip_reason(
    *, unsubscribed: bool, earlier_in_call: bool, last_invited: datetime | None, throttle_days: int, now: datetime
) -> str | None:
    """Why this contact gets no invitation now ("unsubscribed" or "throttled"), or None to invite them."""
    if unsubscribed:
        return "unsubscribed"
    window = timedelta(days=throttle_days)
    if earlier_in_call or (last_invited is not None and window and now - last_invited < window):
        return "throttled"
    return None
