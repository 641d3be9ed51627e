"""The monthly metrics document (`GET /v1/metrics/{YYYY-MM}`) computed from plain rows, as docs/metrics.md defines it.

Pure Python and standard library only. Inputs are iterated once; what is kept is per account (16 months of
revenue, 13 categories) and, while responses are read, each contact's latest response per calendar month.

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

import random
import statistics
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain, islice
from operator import itemgetter
from typing import Any

from chalicelib.domain.clock import timestamp, utc
from chalicelib.domain.months import Month
from chalicelib.domain.nps import CATEGORIES, PASSIVE_MIN, PROMOTER_MIN, category_of_mean, nps_summary

NO_KEY = "none"
GROUPS = (*CATEGORIES, "unrated")
HEALTH = ("safe", "gray_zone", "at_risk", "unrated")
DEFAULT_HEALTH_THRESHOLDS = (-20, 30)
DEFAULT_CURRENCY = "USD"
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20_240_917
MIN_POOL_ACCOUNTS = 10
POOL_MONTHS = 12
EFFECTIVENESS_MONTHS = 3
TOP_THEMES = 10
RECOVERY = "recovery"
ASSOCIATION_NOTE = (
    "An association observed in this customer base (how the revenue of promoter and detractor accounts moved "
    "the following month), not a proof that raising NPS causes revenue. ci95 is the interval of the monthly figure."
)

# Categories are evaluated at the start of 13 months: M-11..M (the 12 cohorts of the pool) and M+1 (end of M).
_EVALS = 13
# Revenue is kept for the months M-12..M+3: the cohorts' previous months, M, and the effectiveness horizon.
_REVENUE_MONTHS = 16


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


@dataclass(frozen=True, slots=True)
class PoolSums:
    """One account's pooled account-months, by its category at the start of each month (revenue in currency)."""

    promoter_base: float = 0.0
    promoter_next: float = 0.0
    detractor_base: float = 0.0
    detractor_next: float = 0.0
    rated_base: float = 0.0


_WORD32 = next(code for code in "IL" if array(code).itemsize == 4)

# A contact is its contact_id, or (response_id,) for a response without one; per contact, the latest response
# of each month offset 0..23 as (first_submitted_at, response_id, score).
_ContactKey = str | tuple[str]
_Latest = dict[str, dict[_ContactKey, dict[int, tuple[datetime, str, int]]]]
# Per account: its category (None when unrated) at each of the _EVALS evaluations, and its health.
_States = dict[str, tuple[tuple[str | None, ...], str]]


# ---- small rules -----------------------------------------------------------------------------------------


def health_of(
    promoters: int, detractors: int, n: int, thresholds: tuple[float, float] = DEFAULT_HEALTH_THRESHOLDS
) -> str:
    """at_risk when account NPS <= low, safe when >= high, gray_zone between, unrated with no responses."""
    if n == 0:
        return "unrated"
    low, high = thresholds
    points = 100 * (promoters - detractors)  # account NPS times n, so the comparison is exact
    if points <= low * n:
        return "at_risk"
    if points >= high * n:
        return "safe"
    return "gray_zone"


def _ratio(numerator: float, denominator: float, digits: int = 6) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


def _money(value: float) -> float:
    return round(value, 2)


# ---- reading the inputs ----------------------------------------------------------------------------------


def _read_accounts(accounts: Iterable[AccountRow], first: int) -> tuple[dict[str, str | None], dict[str, list[float]]]:
    """Segment of every account and its revenue for the months first..first+15 (only accounts with any)."""
    names = [str(Month(first + j)) for j in range(_REVENUE_MONTHS)]
    segments: dict[str, str | None] = {}
    revenue: dict[str, list[float]] = {}
    for account in accounts:
        segments[account.account_id] = account.segment
        by_month = account.revenue or {}
        values = [by_month.get(name) or 0.0 for name in names]
        if any(v > 0 for v in values):
            revenue[account.account_id] = [float(v) if v > 0 else 0.0 for v in values]
    return segments, revenue


class _MonthResponses:
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


def _read_responses(
    responses: Iterable[ResponseRow], m: int, segments: dict[str, str | None]
) -> tuple[_MonthResponses, _Latest]:
    """One pass: month M's tallies, and per account and contact the latest response of each month M-23..M.

    The latest responses are kept as {account_id: {contact_key: {offset: (first_submitted_at, response_id,
    score)}}} with offset = month - (M - 23), so a contact holds at most 24 small tuples."""
    first = m - 23
    current = _MonthResponses()
    latest: _Latest = {}
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
        key: _ContactKey = row.contact_id or (row.response_id,)
        months = contacts.get(key)
        if months is None:
            contacts[key] = {offset: (submitted, row.response_id, score)}
            continue
        held = months.get(offset)
        if held is None or (submitted, row.response_id) > (held[0], held[1]):
            months[offset] = (submitted, row.response_id, score)
    return current, latest


def _account_states(latest: _Latest, thresholds: tuple[float, float]) -> _States:
    """Per account: its category at the start of M-11..M+1 (None when unrated) and its health at the end of M.

    Evaluation e (0..12) is the start of month M-11+e; its window is the offsets e..e+11. A contact's latest
    month r in that window is the one whose next response month is past the window, so r serves the evaluations
    max(0, r-11)..min(12, r, next-12)."""
    states: _States = {}
    for account_id, contacts in latest.items():
        count = [0] * _EVALS
        total = [0] * _EVALS
        promoters = [0] * _EVALS
        detractors = [0] * _EVALS
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
        categories = tuple(category_of_mean(total[e], count[e]) if count[e] else None for e in range(_EVALS))
        health = health_of(promoters[-1], detractors[-1], count[-1], thresholds)
        states[account_id] = (categories, health)
    return states


# ---- the figures -----------------------------------------------------------------------------------------


def revenue_per_nps_point(
    pool: Mapping[str, PoolSums],
    *,
    months: int = POOL_MONTHS,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    min_accounts: int = MIN_POOL_ACCOUNTS,
) -> dict[str, Any]:
    """Revenue per NPS point from each account's pooled sums, with a bootstrap percentile interval over accounts.

    The interval is the 2.5th-97.5th percentile (linear interpolation) of the statistic over `resamples`
    resamples of the accounts with a rated account-month, drawn with replacement by random.Random(seed) from
    the accounts sorted by id, so the same inputs give the same interval whatever their order. A resample
    without any promoter or any detractor base has no statistic and is left out. Should the percentile
    interval miss the point estimate (a skewed bootstrap distribution can do that), it is widened to include it.
    Null with a reason when fewer than `min_accounts` accounts are promoters (or detractors) in the pool."""
    promoter_accounts = sum(1 for s in pool.values() if s.promoter_base > 0)
    detractor_accounts = sum(1 for s in pool.values() if s.detractor_base > 0)
    out: dict[str, Any] = {"monthly": None, "annual": None, "ci95": None, "reason": None, "note": ASSOCIATION_NOTE}
    if promoter_accounts < min_accounts or detractor_accounts < min_accounts:
        out["reason"] = (
            f"needs at least {min_accounts} promoter and {min_accounts} detractor accounts in the pooled cohorts "
            f"of the last {months} months; there are {promoter_accounts} promoter and {detractor_accounts} "
            "detractor accounts"
        )
        return out
    totals = [0.0] * 5
    for sums in pool.values():
        totals[0] += sums.promoter_base
        totals[1] += sums.promoter_next
        totals[2] += sums.detractor_base
        totals[3] += sums.detractor_next
        totals[4] += sums.rated_base
    point = _rnpp(totals[0], totals[1], totals[2], totals[3], totals[4], months)
    low, high = _bootstrap(pool, months, resamples, seed)
    low = point if low is None else min(low, point)
    high = point if high is None else max(high, point)
    out.update(monthly=_money(point), annual=_money(12 * point), ci95=[_money(low), _money(high)])
    return out


def _rnpp(
    promoter_base: float,
    promoter_next: float,
    detractor_base: float,
    detractor_next: float,
    rated_base: float,
    months: int,
) -> float:
    nrr_gap = promoter_next / promoter_base - detractor_next / detractor_base
    return (rated_base / months) * nrr_gap / 200


def _bootstrap(
    pool: Mapping[str, PoolSums], months: int, resamples: int, seed: int
) -> tuple[float | None, float | None]:
    """Percentile bounds of the statistic over resamples; (None, None) when no resample has one.

    Each account's five sums, in integer cents, are packed into one integer with fields wide enough that a
    sum of n accounts never carries from one field into the next: a resample is then one sum() over sampled
    integers, and drawing and gathering run at C speed (see _uniform_indices), which keeps 1,000 resamples of
    50,000 accounts to seconds in pure Python."""
    rows = [
        tuple(
            round(v * 100) for v in (s.promoter_base, s.promoter_next, s.detractor_base, s.detractor_next, s.rated_base)
        )
        for _, s in sorted(pool.items())
        if s.rated_base > 0
    ]
    if not rows or resamples <= 0:
        return None, None
    n = len(rows)
    width = (max(max(r) for r in rows) * n).bit_length() + 1
    mask = (1 << width) - 1
    packed = [sum(v << (width * i) for i, v in enumerate(r)) for r in rows]
    draws = _uniform_indices(random.Random(seed), n)
    values: list[float] = []
    for _ in range(resamples):
        # itemgetter gathers in one C call; with a single index it returns the item rather than a tuple.
        picked = itemgetter(*islice(draws, n))(packed)
        s = sum(picked) if n > 1 else picked
        pb, pn, db, dn, rb = ((s >> (width * i)) & mask for i in range(5))
        if pb and db:
            values.append(_rnpp(pb, pn, db, dn, rb / 100, months))
    if not values:
        return None, None
    values.sort()
    return _percentile(values, 0.025), _percentile(values, 0.975)


def _uniform_indices(rng: random.Random, n: int) -> Iterator[int]:
    """An endless, exactly uniform stream of indices in range(n), determined by the seed on any platform.

    32-bit words come from rng.randbytes (little-endian); words at or past the largest multiple of n below 2**32
    are rejected so that the remainder mod n is unbiased. Filtering and reducing use C-level callables, so no
    Python bytecode runs per draw (random.choices runs a Python loop and is several times slower)."""
    limit = (1 << 32) // n * n

    def batches() -> Iterator[Iterator[int]]:
        while True:
            words = array(_WORD32)
            words.frombytes(rng.randbytes(4 * n))
            if sys.byteorder == "big":
                words.byteswap()
            yield map(n.__rmod__, filter(limit.__gt__, words))

    return chain.from_iterable(batches())


def _percentile(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _retention(cohort: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    out = {}
    for group in GROUPS:
        accounts, retained, base, kept, current = cohort[group]
        out[group] = {
            "accounts": accounts,
            "base": _money(base),
            "logo_retention": _ratio(retained, accounts),
            "grr": _ratio(kept, base),
            "nrr": _ratio(current, base),
        }
    return out


def _task_stats(tasks: list[TaskRow], end: datetime, now: datetime) -> dict[str, Any]:
    """Opened, closed, median hours to close, share within SLA, overdue at `end` (or at `now`, when the month is
    still running), escalated.

    `within_sla` is the share closed by their due time among the tasks whose outcome is known at `now`: closed,
    or still open past due. A task still open and not yet due is left out of that share, and is never overdue:
    nothing is late before its due time."""
    end = min(end, now)
    closed = [(t, closed_at) for t in tasks if (closed_at := t.closed_at) is not None]
    hours = [(utc(closed_at) - utc(t.created_at)).total_seconds() / 3600 for t, closed_at in closed]
    in_time = sum(1 for t, closed_at in closed if utc(closed_at) <= utc(t.due_at))
    decided = len(closed) + sum(1 for t in tasks if t.closed_at is None and utc(t.due_at) < now)
    overdue = sum(1 for t in tasks if utc(t.due_at) < end and (t.closed_at is None or utc(t.closed_at) > end))
    return {
        "opened": len(tasks),
        "closed": len(closed),
        "median_hours_to_close": round(statistics.median(hours), 2) if hours else None,
        "within_sla": _ratio(in_time, decided),
        "overdue": overdue,
        "escalated": sum(1 for t in tasks if t.escalated_at is not None),
    }


def _loop(tasks: Iterable[TaskRow], m: int, revenue: dict[str, list[float]], now: datetime) -> dict[str, Any]:
    """Close-the-loop figures for the tasks created in M, overall and by kind, and the loop's effectiveness.

    Effectiveness: the accounts with a recovery task (opened by a detractor answer) created in M that are
    customers in M. An account is `within_sla` when every such task of it closed by its due time, `late`
    otherwise (a task still open counts as late). Its logo is retained when it is a customer in M+3
    (R(a, M+3) > 0; leaving and coming back within the three months counts as retained). Revenue of M+3 is
    taken as known only once M+3 has ended (computed_at at or after the start of M+4): before that
    `logo_retention` is null for both groups, the counts are provisional, and `pending_until` says when to
    recompute. Missing revenue for M+3 after that is, as everywhere, "not a customer"."""
    start, end = Month(m).start(), Month(m + 1).start()
    created: list[TaskRow] = [t for t in tasks if start <= utc(t.created_at) < end]
    out = _task_stats(created, end, now)
    kinds: dict[str, list[TaskRow]] = {}
    for task in created:
        kinds.setdefault(task.kind, []).append(task)
    out["by_kind"] = {kind: _task_stats(kinds[kind], end, now) for kind in sorted(kinds)}

    on_time: dict[str, bool] = {}
    for task in kinds.get(RECOVERY, ()):
        account_id = task.account_id
        if account_id is None:
            continue
        rev = revenue.get(account_id)
        if rev is None or rev[12] <= 0:
            continue
        ok = task.closed_at is not None and utc(task.closed_at) <= utc(task.due_at)
        on_time[account_id] = on_time.get(account_id, True) and ok
    horizon = m + EFFECTIVENESS_MONTHS
    known = now >= Month(horizon + 1).start()
    groups = {"within_sla": [0, 0], "late": [0, 0]}
    for account_id, ok in on_time.items():
        group = groups["within_sla" if ok else "late"]
        group[0] += 1
        group[1] += revenue[account_id][12 + EFFECTIVENESS_MONTHS] > 0
    effectiveness: dict[str, Any] = {
        name: {"accounts": accounts, "logo_retention": _ratio(retained, accounts) if known else None}
        for name, (accounts, retained) in groups.items()
    }
    effectiveness["horizon"] = str(Month(horizon))
    effectiveness["pending_until"] = None if known else timestamp(Month(horizon + 1).start())
    out["effectiveness"] = effectiveness
    return out


def _themes(current: _MonthResponses, revenue: dict[str, list[float]]) -> dict[str, Any]:
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
        "by_revenue": [{"theme": t, "revenue": _money(r)} for t, r in by_revenue],
    }


# ---- the document ----------------------------------------------------------------------------------------


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
    segments, revenue = _read_accounts(accounts, m - 12)
    current, latest = _read_responses(responses, m, segments)
    states = _account_states(latest, health_thresholds)
    del latest

    # Cohort of month M-11+e: customers in M-12+e (revenue index e), by category at evaluation e.
    cohort = {group: [0, 0, 0.0, 0.0, 0.0] for group in GROUPS}
    pool: dict[str, PoolSums] = {}
    health = dict.fromkeys(HEALTH, 0)
    at_risk_revenue, at_risk_accounts = 0.0, 0
    unrated = (None,) * _EVALS
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
            survey_id: {"invited": invited, "responded": responded, "rate": _ratio(responded, invited)}
            for survey_id, (invited, responded) in sorted(invitations.items())
        },
        "retention": _retention(cohort),
        "revenue_per_nps_point": revenue_per_nps_point(pool, resamples=bootstrap_resamples, seed=seed),
        "revenue_at_risk": {
            "monthly": _money(at_risk_revenue),
            "annual": _money(12 * at_risk_revenue),
            "accounts": at_risk_accounts,
        },
        "health": health,
        "loop": _loop(tasks, m, revenue, now),
        "themes": _themes(current, revenue),
    }
