"""An account's standing today: its latest score, and its category and health by the monthly job's rules.

The rules are the monthly job's (`category_of_mean` in `domain/nps.py`, `health_of` in `domain/health.py`),
taken "at the end of the running month": the latest response of each of the account's contacts among those
submitted from the start of the month 11 months back up to now. Pure Python, no AWS import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import timestamp
from chalicelib.domain.health import DEFAULT_HEALTH_THRESHOLDS, health_of
from chalicelib.domain.months import Month
from chalicelib.domain.nps import category_of_mean, classify, counts_of

WINDOW_MONTHS = 12


@dataclass(frozen=True)
class Rated:
    """One counted response of the account, as the facts table holds it."""

    response_id: str
    contact_id: str | None
    score: int
    first_submitted_at: datetime


def window_start(now: datetime) -> datetime:
    """The start of the month 11 months before `now`'s month: with the running month, 12 calendar months."""
    return Month.of(now).shift(1 - WINDOW_MONTHS).start()


def standing(
    rated: Iterable[Rated],
    latest: Rated | None,
    now: datetime,
    thresholds: tuple[float, float] = DEFAULT_HEALTH_THRESHOLDS,
) -> dict[str, Any]:
    """The account's latest score and its category, NPS and health over the window ending now.

    `rated` are the responses of the window; `latest` the account's latest response at all (it may be older
    than the window, and then the account is unrated but still has a latest score)."""
    start = window_start(now)
    per_contact: dict[str | tuple[str], Rated] = {}
    for r in rated:
        if not start <= r.first_submitted_at <= now:
            continue
        # An answer without a contact (anonymous, or erased) is its own contact, as in the monthly job.
        key = r.contact_id or (r.response_id,)
        held = per_contact.get(key)
        if held is None or (r.first_submitted_at, r.response_id) > (held.first_submitted_at, held.response_id):
            per_contact[key] = r
    scores = [r.score for r in per_contact.values()]
    n = len(scores)
    promoters, _, detractors = counts_of(scores)
    return {
        "latest_score": latest.score if latest else None,
        "latest_category": classify(latest.score) if latest else None,
        "latest_response_id": latest.response_id if latest else None,
        "latest_submitted_at": timestamp(latest.first_submitted_at) if latest else None,
        "category": category_of_mean(sum(scores), n) if n else "unrated",
        "nps": round(100 * (promoters - detractors) / n, 2) if n else None,
        "rated_contacts": n,
        "health": health_of(promoters, detractors, n, thresholds),
        "since": str(Month.of(start)),
    }
