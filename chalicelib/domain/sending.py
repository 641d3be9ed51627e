"""The rules of emailing an invitation: whether an email may still go, how a send attempt ended, what the
invitation's delivery history records, and the pace that keeps a sender within its share of the SES rate.

An invitation's emails are keyed by kind: `invitation` (the first email), `reminder_1`, `reminder_2`. Each kind
is sent at most once; its state moves `sending` → `sent` | `skipped` | `failed`, or back to `retry` after a
transient error so the queue's next delivery may claim it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.clock import parse_timestamp, timestamp

FIRST = "invitation"
KINDS = (FIRST, "reminder_1", "reminder_2")

# What an invitation's delivery history records, in the order an email can live them.
HISTORY_EVENTS = (
    "queued",
    "sent",
    "retrying",
    "failed",
    "skipped",
    "bounced",
    "soft_bounce",
    "complained",
    "answered",
)

# Why an email was not sent (the history's `reason`), in the order they are checked.
NOT_SENT = ("erased", "complained", "bounced", "unsubscribed", "no_email", "survey_closed", "expired", "answered")

# SES v2 errors after which the same message may succeed later (the queue retries it, then dead-letters it).
TRANSIENT = frozenset(
    {
        "TooManyRequestsException",
        "LimitExceededException",
        "Throttling",
        "ThrottlingException",
        "SendingPausedException",
        "AccountSuspendedException",
        "InternalFailure",
        "InternalServiceError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
    }
)

# A claim older than this is taken to be a sender that died between claiming and recording (the queue's
# visibility timeout is longer than a sender's run, so a live claim is never this old).
STALE_CLAIM = timedelta(minutes=10)


def reason_not_to_send(
    *,
    contact_status: str,
    email: str | None,
    survey_closed: bool,
    expires_at: datetime,
    answered: bool,
    now: datetime,
) -> str | None:
    """None when the email may go now; else the first reason of NOT_SENT that holds."""
    if contact_status in ("erased", "complained", "bounced", "unsubscribed"):
        return contact_status
    if not email:
        return "no_email"
    if survey_closed:
        return "survey_closed"
    if expires_at <= now:
        return "expired"
    if answered:
        return "answered"
    return None


def outcome_of(error_code: str | None) -> str:
    """`sent` without an error, `retry` for a transient SES error, `failed` for any other."""
    if error_code is None:
        return "sent"
    return "retry" if error_code in TRANSIENT else "failed"


def history_entry(event: str, kind: str, now: datetime, **detail: Any) -> dict[str, Any]:
    """One line of an invitation's delivery history: one of HISTORY_EVENTS, with detail such as `message_id`,
    `error` or `reason`."""
    return {"at": timestamp(now), "event": event, "kind": kind, **{k: v for k, v in detail.items() if v is not None}}


@dataclass
class Pace:
    """A sender's pace: at most `rate` emails a second, evenly spaced (SES counts a rolling second, so a burst
    at the top of each second would be refused). `reserve(now)` takes the next slot, given monotonic seconds,
    and answers how long to wait for it; the time spent sending counts inside the slot, not on top of it."""

    rate: float
    next_at: float | None = None

    def reserve(self, now: float) -> float:
        if self.rate <= 0:
            return 0.0
        start = now if self.next_at is None else max(now, self.next_at)
        self.next_at = start + 1.0 / self.rate
        return start - now


def with_answer(history: list[dict[str, Any]], answered_at: datetime | None) -> list[dict[str, Any]]:
    """The stored history with the answer in its place (GET /v1/invitations/{id}): an `answered` line at the
    answer's first submission, naming the email answered (the last one sent before it)."""
    if answered_at is None:
        return list(history)

    def moment(line: dict[str, Any]) -> datetime:
        return parse_timestamp(line.get("at")) or answered_at

    sent_before = [h for h in history if h.get("event") == "sent" and moment(h) <= answered_at]
    line = {
        "at": timestamp(answered_at),
        "event": "answered",
        "kind": sent_before[-1]["kind"] if sent_before else FIRST,
    }
    return sorted([*history, line], key=moment)
