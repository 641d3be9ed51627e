"""The monthly metrics document (`GET /v1/metrics/{YYYY-MM}`) computed from plain rows, as docs/metrics.md defines it.

Pure Python and standard library only. Inputs are iterated once (by `monthly_inputs`); what is kept is per
account (16 months of revenue, 13 categories) and, while responses are read, each contact's latest response per
calendar month. Revenue per NPS point is `revenue_per_point`, the close-the-loop figures `loop_metrics`, account
health `health`.

Decisions taken here (docs/metrics.md states them for readers):

- Keys for missing values: a response without an account, of an unknown account or of an account without a
  segment is counted under the segment "none"; a response without a touchpoint under the touchpoint "none".
- Responses without `account_id` count in every NPS scope and theme count but rate no account. A response with
  an account but no `contact_id` (anonymous, or erased) is its own contact, keyed by its `response_id`. Contacts
  are per account: the same `contact_id` under two accounts is two contacts.
- "Later response" means later `first_submitted_at` (the time that places a response in its month), ties broken
  by the greater `response_id`. Responses outside the 24 months M-23..M are ignored.
- Revenue that is missing, zero or negative means "not a customer" that month and counts as 0.
- Ratios are fractions rounded to 6 decimals, money to 2, NPS and hours to 2; a ratio with a zero denominator
  is null.
- The running month (computed before it ends) is `partial`: its figures are "so far", and a task counts as
  overdue only once its due time has passed by the computation time. A month that has not begun has no figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import timestamp, utc
from chalicelib.domain.health import DEFAULT_HEALTH_THRESHOLDS, HEALTH
from chalicelib.domain.loop_metrics import loop_figures
from chalicelib.domain.monthly_inputs import EVALUATIONS, MonthResponses, account_states, read_accounts, read_responses
from chalicelib.domain.months import Month
from chalicelib.domain.nps import CATEGORIES
from chalicelib.domain.revenue_per_point import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    POOL_MONTHS,
    PoolSums,
    revenue_per_nps_point,
)
from chalicelib.domain.rounding import money, ratio

GROUPS = (*CATEGORIES, "unrated")
DEFAULT_CURRENCY = "USD"
TOP_THEMES = 10


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """One response as the job needs it: score an int 0-10, first_submitted_at aware (naive is taken as UTC)."""

    response_id: str
    survey_id: str
    account_id: str | None
    contact_id: str | None
    score: int
    first_submitted_at: datetime
    themes: tuple[str, ...] = ()
    touchpoint: str | None = None


@dataclass(frozen=True, slots=True)
class AccountRow:
    """An account's segment and revenue by 'YYYY-MM' (numbers; Decimal from DynamoDB is fine)."""

    account_id: str
    segment: str | None
    revenue: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class TaskRow:
    """A close-the-loop task; kind is recovery (detractor), follow_up (passive) or advocacy (promoter)."""

    task_id: str
    account_id: str | None
    kind: str
    created_at: datetime
    due_at: datetime
    closed_at: datetime | None = None
    escalated_at: datetime | None = None


def _retention(cohort: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    out = {}
    for group in GROUPS:
        accounts, retained, base, kept, current = cohort[group]
        out[group] = {
            "accounts": accounts,
            "base": money(base),
            "logo_retention": ratio(retained, accounts),
            "grr": ratio(kept, base),
            "nrr": ratio(current, base),
        }
    return out


def _themes(current: MonthResponses, revenue: dict[str, list[float]]) -> dict[str, Any]:
    """Top themes of month M's detractor comments: by how many comments, and by R(a, M) of the distinct
    accounts behind them (an account counts once per theme; themes whose accounts have no revenue are left
    out of by_revenue). Ties are ordered by theme name."""
    by_count = sorted(current.theme_counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_THEMES]
    revenue_of = {}
    for theme, accounts in current.theme_accounts.items():
        total = sum(revenue[a][12] for a in accounts if a in revenue)
        if total > 0:
            revenue_of[theme] = total
    by_revenue = sorted(revenue_of.items(), key=lambda item: (-item[1], item[0]))[:TOP_THEMES]
    return {
        "by_count": [{"theme": t, "count": c} for t, c in by_count],
        "by_revenue": [{"theme": t, "revenue": money(r)} for t, r in by_revenue],
    }


def compute_month(
    month: str,
    *,
    responses: Iterable[ResponseRow],
    accounts: Iterable[AccountRow],
    invitations: Mapping[str, tuple[int, int]],
    tasks: Iterable[TaskRow],
    computed_at: datetime,
    currency: str = DEFAULT_CURRENCY,
    health_thresholds: tuple[float, float] = DEFAULT_HEALTH_THRESHOLDS,
    bootstrap_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """The metrics document of `month` (docs/metrics.md). `responses` are those first submitted in M-23..M,
    revenue comes from `accounts` (months M-12..M+3 are read), `invitations` maps survey_id to (invited,
    responded) for invitations sent in M, `tasks` are the loop tasks (those created in M are used); every money
    figure is in `currency` (ISO 4217). `partial` is true when `computed_at` falls inside the month. Raises
    ValueError for a month that has not begun at `computed_at`. See the module docstring for the choices."""
    m = Month.parse(month).index
    now = utc(computed_at)
    if now < Month(m).start():
        raise ValueError(f"{month} has not begun at {now.isoformat()}: a future month has no figures")
    segments, revenue = read_accounts(accounts, m - 12)
    current, latest = read_responses(responses, m, segments)
    states = account_states(latest, health_thresholds)
    del latest

    # Cohort of month M-11+e: customers in M-12+e (revenue index e), by category at evaluation e.
    cohort = {group: [0, 0, 0.0, 0.0, 0.0] for group in GROUPS}
    pool: dict[str, PoolSums] = {}
    health = dict.fromkeys(HEALTH, 0)
    at_risk_revenue, at_risk_accounts = 0.0, 0
    unrated = (None,) * EVALUATIONS
    for account_id, rev in revenue.items():
        categories, account_health = states.get(account_id, (unrated, "unrated"))
        sums = [0.0] * 5
        for e in range(POOL_MONTHS):
            base = rev[e]
            if base <= 0:
                continue
            nxt = rev[e + 1]
            category = categories[e]
            if category == "promoter":
                sums[0] += base
                sums[1] += nxt
            elif category == "detractor":
                sums[2] += base
                sums[3] += nxt
            if category is not None:
                sums[4] += base
            if e == POOL_MONTHS - 1:
                group = cohort[category or "unrated"]
                group[0] += 1
                group[1] += nxt > 0
                group[2] += base
                group[3] += min(nxt, base)
                group[4] += nxt
        if sums[4] > 0:
            pool[account_id] = PoolSums(*sums)
        if rev[12] > 0:
            health[account_health] += 1
            if account_health == "at_risk":
                at_risk_revenue += rev[12]
                at_risk_accounts += 1

    return {
        "month": str(Month(m)),
        "computed_at": timestamp(now),
        "partial": Month(m).is_running(now),
        "currency": currency,
        "nps": current.nps(),
        "response_rate": {
            survey_id: {"invited": invited, "responded": responded, "rate": ratio(responded, invited)}
            for survey_id, (invited, responded) in sorted(invitations.items())
        },
        "retention": _retention(cohort),
        "revenue_per_nps_point": revenue_per_nps_point(pool, resamples=bootstrap_resamples, seed=seed),
        "revenue_at_risk": {
            "monthly": money(at_risk_revenue),
            "annual": money(12 * at_risk_revenue),
            "accounts": at_risk_accounts,
        },
        "health": health,
        "loop": loop_figures(tasks, m, revenue, now),
        "themes": _themes(current, revenue),
    }
