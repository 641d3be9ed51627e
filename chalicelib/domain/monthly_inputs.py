"""Reading the monthly job's inputs in one pass: each account's segment and revenue, month M's NPS tallies and
detractor themes, each contact's latest answer per month, and from those each account's category at the start
of every month of the pool and its health at the end of M."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import utc
from chalicelib.domain.health import health_of
from chalicelib.domain.months import Month
from chalicelib.domain.nps import PASSIVE_MIN, PROMOTER_MIN, category_of_mean, nps_summary

if TYPE_CHECKING:
    from chalicelib.domain.monthly import AccountRow, ResponseRow

NO_KEY = "none"
# Categories are evaluated at the start of 13 months: M-11..M (the 12 cohorts of the pool) and M+1 (end of M).
EVALUATIONS = 13
# Revenue is kept for the months M-12..M+3: the cohorts' previous months, M, and the effectiveness horizon.
REVENUE_MONTHS = 16

# A contact is its contact_id, or (response_id,) for a response without one; per contact, the latest response
# of each month offset 0..23 as (first_submitted_at, response_id, score).
ContactKey = str | tuple[str]
Latest = dict[str, dict[ContactKey, dict[int, tuple[datetime, str, int]]]]
# Per account: its category (None when unrated) at each of the EVALUATIONS evaluations, and its health.
States = dict[str, tuple[tuple[str | None, ...], str]]


def read_accounts(accounts: Iterable[AccountRow], first: int) -> tuple[dict[str, str | None], dict[str, list[float]]]:
    """Segment of every account and its revenue for the months first..first+15 (only accounts with any)."""
    names = [str(Month(first + j)) for j in range(REVENUE_MONTHS)]
    segments: dict[str, str | None] = {}
    revenue: dict[str, list[float]] = {}
    for account in accounts:
        segments[account.account_id] = account.segment
        by_month = account.revenue or {}
        values = [by_month.get(name) or 0.0 for name in names]
        if any(v > 0 for v in values):
            revenue[account.account_id] = [float(v) if v > 0 else 0.0 for v in values]
    return segments, revenue


class MonthResponses:
    """NPS tallies and detractor themes of the responses of month M."""

    def __init__(self) -> None:
        self.all = [0, 0, 0]
        self.by_survey: dict[str, list[int]] = {}
        self.by_segment: dict[str, list[int]] = {}
        self.by_touchpoint: dict[str, list[int]] = {}
        self.theme_counts: Counter[str] = Counter()
        self.theme_accounts: dict[str, set[str]] = {}

    def add(self, row: ResponseRow, segment: str | None) -> None:
        score = row.score
        slot = 0 if score >= PROMOTER_MIN else 1 if score >= PASSIVE_MIN else 2
        self.all[slot] += 1
        for scope, key in (
            (self.by_survey, row.survey_id),
            (self.by_segment, segment or NO_KEY),
            (self.by_touchpoint, row.touchpoint or NO_KEY),
        ):
            tally = scope.get(key)
            if tally is None:
                tally = scope[key] = [0, 0, 0]
            tally[slot] += 1
        if slot == 2 and row.themes:
            for theme in set(row.themes):
                self.theme_counts[theme] += 1
                if row.account_id is not None:
                    self.theme_accounts.setdefault(theme, set()).add(row.account_id)

    def nps(self) -> dict[str, Any]:
        def scope(tallies: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
            return {key: nps_summary(*tallies[key]) for key in sorted(tallies)}

        return {
            "all": nps_summary(*self.all),
            "by_survey": scope(self.by_survey),
            "by_segment": scope(self.by_segment),
            "by_touchpoint": scope(self.by_touchpoint),
        }


def read_responses(
    responses: Iterable[ResponseRow], m: int, segments: dict[str, str | None]
) -> tuple[MonthResponses, Latest]:
    """One pass: month M's tallies, and per account and contact the latest response of each month M-23..M.

    The latest responses are kept as {account_id: {contact_key: {offset: (first_submitted_at, response_id,
    score)}}} with offset = month - (M - 23), so a contact holds at most 24 small tuples."""
    first = m - 23
    current = MonthResponses()
    latest: Latest = {}
    for row in responses:
        score = row.score
        if type(score) is not int or not 0 <= score <= 10:  # True is an int, but not a score
            raise ValueError(f"response {row.response_id} has a score that is not an integer from 0 to 10")
        submitted = row.first_submitted_at
        if submitted.tzinfo is not UTC:
            submitted = utc(submitted)
        offset = submitted.year * 12 + submitted.month - 1 - first
        if not 0 <= offset <= 23:
            continue
        account_id = row.account_id
        if offset == 23:
            current.add(row, segments.get(account_id) if account_id is not None else None)
        if account_id is None:
            continue
        contacts = latest.get(account_id)
        if contacts is None:
            contacts = latest[account_id] = {}
        # A tuple never equals a string, so a response-keyed contact cannot collide with a real contact id.
        key: ContactKey = row.contact_id or (row.response_id,)
        months = contacts.get(key)
        if months is None:
            contacts[key] = {offset: (submitted, row.response_id, score)}
            continue
        held = months.get(offset)
        if held is None or (submitted, row.response_id) > (held[0], held[1]):
            months[offset] = (submitted, row.response_id, score)
    return current, latest


def account_states(latest: Latest, thresholds: tuple[float, float]) -> States:
    """Per account: its category at the start of M-11..M+1 (None when unrated) and its health at the end of M.

    Evaluation e (0..12) is the start of month M-11+e; its window is the offsets e..e+11. A contact's latest
    month r in that window is the one whose next response month is past the window, so r serves the evaluations
    max(0, r-11)..min(12, r, next-12)."""
    states: States = {}
    for account_id, contacts in latest.items():
        count = [0] * EVALUATIONS
        total = [0] * EVALUATIONS
        promoters = [0] * EVALUATIONS
        detractors = [0] * EVALUATIONS
        for months in contacts.values():
            offsets = sorted(months)
            last = len(offsets) - 1
            for i, r in enumerate(offsets):
                lo = r - 11 if r > 11 else 0
                hi = min(12, r)
                if i < last and offsets[i + 1] - 12 < hi:
                    hi = offsets[i + 1] - 12
                if lo > hi:
                    continue
                score = months[r][2]
                for e in range(lo, hi + 1):
                    count[e] += 1
                    total[e] += score
                    if score >= PROMOTER_MIN:
                        promoters[e] += 1
                    elif score < PASSIVE_MIN:
                        detractors[e] += 1
        categories = tuple(category_of_mean(total[e], count[e]) if count[e] else None for e in range(EVALUATIONS))
        health = health_of(promoters[-1], detractors[-1], count[-1], thresholds)
        states[account_id] = (categories, health)
    return states
