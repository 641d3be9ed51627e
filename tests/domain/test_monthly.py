"""The monthly metrics document: hand-worked examples of every figure, and property tests against a deliberately
simple re-implementation written here straight from docs/metrics.md."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.monthly import AccountRow, ResponseRow, TaskRow, compute_month
from chalicelib.domain.revenue_per_point import PoolSums, revenue_per_nps_point

M = "2026-10"


def shift(month: str, k: int) -> str:
    year, mon = int(month[:4]), int(month[5:])
    year, mon0 = divmod(year * 12 + mon - 1 + k, 12)
    return f"{year:04d}-{mon0 + 1:02d}"


def start(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:]), 1, tzinfo=UTC)


def at(month: str, day: int = 15, hour: int = 12) -> datetime:
    return start(month).replace(day=day, hour=hour)


def resp(rid, account, contact, score, month=M, *, when=None, survey="s1", themes=(), touchpoint=None):
    return ResponseRow(rid, survey, account, contact, score, when or at(month), tuple(themes), touchpoint)


def flat(value: float, first: int, last: int) -> dict[str, float]:
    """Revenue `value` in the months M+first..M+last."""
    return {shift(M, k): value for k in range(first, last + 1)}


def run(responses=(), accounts=(), *, invitations=None, tasks=(), computed_at=None, **kw) -> dict:
    return compute_month(
        M,
        responses=list(responses),
        accounts=list(accounts),
        invitations=invitations or {},
        tasks=list(tasks),
        computed_at=computed_at or (start(shift(M, 1)) + timedelta(hours=3)),
        **kw,
    )


def counts(summary: dict) -> tuple:
    return summary["n"], summary["promoters"], summary["passives"], summary["detractors"], summary["nps"]


def test_document_shape_with_no_data():
    doc = run()
    assert doc["month"] == M
    assert doc["computed_at"] == "2026-11-01T03:00:00Z"
    assert set(doc) == {
        "month",
        "computed_at",
        "partial",
        "currency",
        "nps",
        "response_rate",
        "retention",
        "revenue_per_nps_point",
        "revenue_at_risk",
        "health",
        "loop",
        "themes",
    }
    assert doc["partial"] is False and doc["currency"] == "USD"
    assert doc["nps"]["all"]["nps"] is None and doc["nps"]["all"]["n"] == 0
    assert doc["nps"]["by_survey"] == {} == doc["nps"]["by_segment"] == doc["nps"]["by_touchpoint"]
    assert set(doc["retention"]) == {"promoter", "passive", "detractor", "unrated"}
    assert doc["retention"]["unrated"] == {"accounts": 0, "base": 0.0, "logo_retention": None, "grr": None, "nrr": None}
    rnpp = doc["revenue_per_nps_point"]
    assert rnpp["monthly"] is None and rnpp["ci95"] is None and "0 promoter" in rnpp["reason"]
    assert "not a proof" in rnpp["note"]
    assert doc["revenue_at_risk"] == {"monthly": 0.0, "annual": 0.0, "accounts": 0}
    assert doc["health"] == {"safe": 0, "gray_zone": 0, "at_risk": 0, "unrated": 0}
    assert doc["loop"]["opened"] == 0 and doc["loop"]["median_hours_to_close"] is None
    assert doc["themes"] == {"by_count": [], "by_revenue": []}


# ---- NPS scopes and response rate ------------------------------------------------------------------------


def test_nps_scopes_of_the_month():
    accounts = [AccountRow("A", "smb", {}), AccountRow("B", None, {})]
    responses = [
        resp("r1", "A", "c1", 10, touchpoint="onboarding"),
        resp("r2", "A", "c2", 6),
        resp("r3", "B", "c3", 8, survey="s2", touchpoint="support"),
        resp("r4", None, None, 9, survey="s2", touchpoint="support"),
        resp("r5", "A", "c1", 0, shift(M, -1)),
        resp("r6", "A", "c1", 0, shift(M, 1)),
        # 01:00 at +02:00 on the 1st is still September in UTC
        resp("r7", "A", "c9", 0, when=datetime(2026, 10, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))),
    ]
    nps = run(responses, accounts)["nps"]
    assert counts(nps["all"]) == (4, 2, 1, 1, 25.0)
    assert nps["all"]["moe95"] == 81.26  # v = 0.75 - 0.0625 = 0.6875; 196 * sqrt(0.6875 / 4)
    assert nps["all"]["low_sample"] is True
    assert {k: counts(v) for k, v in nps["by_survey"].items()} == {"s1": (2, 1, 0, 1, 0.0), "s2": (2, 1, 1, 0, 50.0)}
    assert {k: counts(v) for k, v in nps["by_segment"].items()} == {
        "smb": (2, 1, 0, 1, 0.0),
        "none": (2, 1, 1, 0, 50.0),
    }
    assert {k: counts(v) for k, v in nps["by_touchpoint"].items()} == {
        "onboarding": (1, 1, 0, 0, 100.0),
        "none": (1, 0, 0, 1, -100.0),
        "support": (2, 1, 1, 0, 50.0),
    }


def test_response_rate_per_survey():
    doc = run(invitations={"s1": (10, 4), "s2": (0, 0), "s3": (3, 3)})
    assert doc["response_rate"] == {
        "s1": {"invited": 10, "responded": 4, "rate": 0.4},
        "s2": {"invited": 0, "responded": 0, "rate": None},
        "s3": {"invited": 3, "responded": 3, "rate": 1.0},
    }


def test_a_score_that_is_not_one_is_refused():
    with pytest.raises(ValueError):
        run([resp("r1", "A", "c1", 11)])


# ---- account category and retention ---------------------------------------------------------------------


def test_retention_by_category_at_the_start_of_the_month():
    prev, cur = shift(M, -1), M
    accounts = [
        AccountRow("A", None, {prev: 100, cur: 120}),  # promoter, expands
        AccountRow("B", None, {prev: 200, cur: 0}),  # passive, churns (0 = not a customer)
        AccountRow("C", None, {prev: 50, cur: 40}),  # detractor, contracts
        AccountRow("D", None, {prev: 80, cur: 80}),  # unrated: its only answer is 14 months old
        AccountRow("E", None, {prev: 300, cur: 330}),  # passive from two anonymous answers (10 and 6)
        AccountRow("F", None, {cur: 500}),  # new in M: not in the cohort
        AccountRow("G", None, {prev: 100, cur: 100}),  # mean 6.5: detractor
        AccountRow("H", None, {prev: 100}),  # mean exactly 9: promoter; missing revenue in M: churned
    ]
    responses = [
        resp("a1", "A", "c1", 3, shift(M, -5)),
        resp("a2", "A", "c1", 10, shift(M, -2)),  # replaces a1
        resp("a3", "A", "c2", 9, when=start(shift(M, -12))),  # first instant of the window
        resp("b1", "B", "c1", 10, shift(M, -13)),  # before the window
        resp("b2", "B", "c1", 8, when=start(M) - timedelta(seconds=1)),  # last instant of the window
        resp("b3", "B", "c1", 0, M),  # in M: not yet counted at the start of M
        resp("c-a", "C", "c1", 10, when=at(shift(M, -3))),
        resp("c-b", "C", "c1", 2, when=at(shift(M, -3))),  # same instant: the later response_id wins
        resp("d1", "D", "c1", 10, shift(M, -14)),
        resp("e1", "E", None, 10, shift(M, -4)),
        resp("e2", "E", None, 6, shift(M, -4)),
        resp("f1", "F", "c1", 10, shift(M, -1)),
        resp("g1", "G", "c1", 6, shift(M, -6)),
        resp("g2", "G", "c2", 7, shift(M, -6)),
        resp("h1", "H", "c1", 8, shift(M, -1)),
        resp("h2", "H", "c2", 10, shift(M, -1)),
    ]
    retention = run(responses, accounts)["retention"]
    assert retention == {
        "promoter": {"accounts": 2, "base": 200.0, "logo_retention": 0.5, "grr": 0.5, "nrr": 0.6},
        "passive": {"accounts": 2, "base": 500.0, "logo_retention": 0.5, "grr": 0.6, "nrr": 0.66},
        "detractor": {"accounts": 2, "base": 150.0, "logo_retention": 1.0, "grr": 0.933333, "nrr": 0.933333},
        "unrated": {"accounts": 1, "base": 80.0, "logo_retention": 1.0, "grr": 1.0, "nrr": 1.0},
    }


def test_a_contact_under_another_account_is_another_contact():
    accounts = [AccountRow("A", None, flat(100, -1, 0)), AccountRow("B", None, flat(100, -1, 0))]
    responses = [resp("r1", "A", "c1", 0, shift(M, -3)), resp("r2", "B", "c1", 10, shift(M, -2))]
    retention = run(responses, accounts)["retention"]
    assert retention["detractor"]["accounts"] == 1 and retention["promoter"]["accounts"] == 1


# ---- health and revenue at risk --------------------------------------------------------------------------


def health_world():
    cur = M
    accounts = [
        AccountRow("A1", None, {cur: 1000}),
        AccountRow("A2", None, {cur: 500}),
        AccountRow("A3", None, {cur: 200}),
        AccountRow("A4", None, {cur: 50}),
        AccountRow("A5", None, {shift(M, -1): 100}),
        AccountRow("A6", None, {cur: 250.5}),
        AccountRow("A7", None, {cur: 10}),
    ]
    responses = []
    for i, score in enumerate((10, 0, 0, 7, 8)):  # NPS 100 * (1 - 2) / 5 = -20: at risk
        responses.append(resp(f"a1-{i}", "A1", f"c{i}", score))
    for i, score in enumerate((10, 9, 9, 10, 7, 8, 7, 8, 8, 0)):  # NPS 100 * (4 - 1) / 10 = 30: safe
        responses.append(resp(f"a2-{i}", "A2", f"c{i}", score, shift(M, -i)))
    responses += [resp("a3-1", "A3", "c1", 10), resp("a3-2", "A3", "c2", 0), resp("a3-3", "A3", "c3", 8)]
    responses.append(resp("a4-1", "A4", "c1", 0, shift(M, -12)))  # outside the 12 months before M+1
    responses.append(resp("a5-1", "A5", "c1", 0))  # at risk, but not a customer in M
    responses.append(resp("a6-1", "A6", "c1", 3, when=start(shift(M, -11))))
    responses += [resp("a7-1", "A7", "c1", 0, shift(M, -3)), resp("a7-2", "A7", "c1", 10)]
    return accounts, responses


def test_health_at_the_end_of_the_month_and_revenue_at_risk():
    accounts, responses = health_world()
    doc = run(responses, accounts)
    assert doc["health"] == {"safe": 2, "gray_zone": 1, "at_risk": 2, "unrated": 1}
    assert doc["revenue_at_risk"] == {"monthly": 1250.5, "annual": 15006.0, "accounts": 2}


def test_health_thresholds_are_settings():
    accounts, responses = health_world()
    doc = run(responses, accounts, health_thresholds=(-25, 25))
    assert doc["health"] == {"safe": 2, "gray_zone": 2, "at_risk": 1, "unrated": 1}
    assert doc["revenue_at_risk"] == {"monthly": 250.5, "annual": 3006.0, "accounts": 1}


# ---- revenue per NPS point -------------------------------------------------------------------------------


def rnpp_world(promoters=10, detractors=10):
    """Promoters keep 100 a month; detractors pay 100 until M-7 and leave (one returns in M); passives 200.

    nrr_promoter = 1; each detractor has 6 pooled months (cohorts M-11..M-6), base 600, next 500: nrr = 5/6.
    B = (10 * 1200 + 10 * 600 + 5 * 2400) / 12 = 2500; monthly = 2500 * (1 - 5/6) / 200 = 2.0833."""
    anchor = shift(M, -12)  # an answer here rates its account for all 12 cohorts M-11..M
    accounts, responses = [], []
    for i in range(promoters):
        accounts.append(AccountRow(f"P{i}", "smb", flat(100, -12, 0)))
        responses.append(resp(f"p{i}", f"P{i}", "c1", 10, anchor))
    for i in range(detractors):
        revenue = flat(100, -12, -7)
        if i == 0:
            revenue[M] = 100  # comes back in M: no pooled month more (its M-1 revenue is 0)
        accounts.append(AccountRow(f"D{i}", "smb", revenue))
        responses.append(resp(f"d{i}", f"D{i}", "c1", 0, anchor))
    for i in range(5):
        accounts.append(AccountRow(f"Q{i}", "ent", flat(200, -12, 0)))
        responses.append(resp(f"q{i}", f"Q{i}", "c1", 8, anchor))
    accounts.append(AccountRow("U", "ent", flat(1000, -12, 0)))  # unrated: outside the statistic
    return accounts, responses


def test_revenue_per_nps_point_hand_worked():
    accounts, responses = rnpp_world()
    rnpp = run(responses, accounts)["revenue_per_nps_point"]
    assert rnpp["monthly"] == 2.08
    assert rnpp["annual"] == 25.0
    assert rnpp["reason"] is None
    low, high = rnpp["ci95"]
    assert low <= rnpp["monthly"] <= high
    assert low < high  # the mix of account kinds varies between resamples
    assert "association" in rnpp["note"]


def test_bootstrap_is_reproducible_whatever_the_input_order():
    accounts, responses = rnpp_world()
    first = run(responses, accounts)["revenue_per_nps_point"]
    again = run(responses, accounts)["revenue_per_nps_point"]
    shuffled_accounts, shuffled_responses = accounts[:], responses[:]
    random.Random(3).shuffle(shuffled_accounts)
    random.Random(4).shuffle(shuffled_responses)
    shuffled = run(shuffled_responses, shuffled_accounts)["revenue_per_nps_point"]
    assert first == again == shuffled


def test_revenue_per_nps_point_needs_ten_accounts_in_each_category():
    accounts, responses = rnpp_world(promoters=9)
    rnpp = run(responses, accounts)["revenue_per_nps_point"]
    assert rnpp["monthly"] is None and rnpp["annual"] is None and rnpp["ci95"] is None
    assert "9 promoter and 10 detractor" in rnpp["reason"]


def test_interval_is_widened_to_hold_the_point():
    # Promoters alone vary. With 10 accounts, 9 at nrr 1 and one that quintuples, most resamples are below the
    # point estimate; whatever the draws, the reported interval holds it.
    pool = {f"p{i}": PoolSums(promoter_base=100, promoter_next=100, rated_base=100) for i in range(9)}
    pool["p9"] = PoolSums(promoter_base=100, promoter_next=500, rated_base=100)
    pool.update({f"d{i}": PoolSums(detractor_base=100, detractor_next=90, rated_base=100) for i in range(10)})
    for seed in range(20):
        out = revenue_per_nps_point(pool, resamples=40, seed=seed)
        assert out["ci95"][0] <= out["monthly"] <= out["ci95"][1]


def test_bootstrap_without_resamples_gives_the_point():
    pool = {f"p{i}": PoolSums(promoter_base=10, promoter_next=11, rated_base=10) for i in range(10)}
    pool.update({f"d{i}": PoolSums(detractor_base=10, detractor_next=9, rated_base=10) for i in range(10)})
    out = revenue_per_nps_point(pool, resamples=0)
    # B = 200 / 12; monthly = B * (1.1 - 0.9) / 200 = 1/60
    assert out["monthly"] == 0.02 and out["ci95"] == [0.02, 0.02] and out["annual"] == 0.2


# ---- close-the-loop --------------------------------------------------------------------------------------


def task(tid, account, kind, created, hours_due, closed_after=None, escalated=False):
    closed = created + timedelta(hours=closed_after) if closed_after is not None else None
    return TaskRow(
        tid,
        account,
        kind,
        created,
        created + timedelta(hours=hours_due),
        closed,
        created + timedelta(hours=1) if escalated else None,
    )


def loop_world():
    oct_ = lambda day, hour=0: datetime(2026, 10, day, hour, tzinfo=UTC)  # noqa: E731
    tasks = [
        task("t1", "A", "recovery", oct_(2), 48, 24),
        task("t2", "B", "recovery", oct_(5), 48, 72),
        task("t3", "C", "advocacy", oct_(10), 48, None, escalated=True),
        task("t4", "D", "recovery", oct_(31, 12), 48, 18),  # open at the end of M but not yet due
        task("t5", None, "follow_up", oct_(20), 48, 120, escalated=True),
        task("t6", "A", "recovery", datetime(2026, 9, 30, tzinfo=UTC), 48, 1000),  # September's
        task("t7", "E", "recovery", oct_(15), 48, 504),  # closed in November, overdue at the end of October
        task("t8", "D", "recovery", oct_(20), 48, 24),
        task("t9", "F", "recovery", oct_(3), 48, 24),  # F is no customer in M
    ]
    accounts = [
        AccountRow("A", None, flat(100, 0, 3)),  # within SLA, retained
        AccountRow("B", None, {M: 100, shift(M, 3): 50}),  # late, leaves and comes back by M+3: retained
        AccountRow("D", None, {M: 100}),  # within SLA, gone by M+3
        AccountRow("E", None, flat(100, 0, 3)),  # late, retained
        AccountRow("F", None, {shift(M, -1): 100}),
    ]
    return tasks, accounts


def test_loop_figures_of_the_tasks_created_in_the_month():
    tasks, accounts = loop_world()
    loop = run(accounts=accounts, tasks=tasks, computed_at=datetime(2027, 3, 1, tzinfo=UTC))["loop"]
    # closed hours: 24, 72, 18, 120, 504, 24, 24 -> median 24; within SLA t1 t4 t8 t9 of 7 closed + t3 past due
    assert {k: v for k, v in loop.items() if k not in ("by_kind", "effectiveness")} == {
        "opened": 8,
        "closed": 7,
        "median_hours_to_close": 24.0,
        "within_sla": 0.5,
        "overdue": 2,
        "escalated": 2,
    }
    assert loop["by_kind"] == {
        "advocacy": {
            "opened": 1,
            "closed": 0,
            "median_hours_to_close": None,
            "within_sla": 0.0,
            "overdue": 1,
            "escalated": 1,
        },
        "follow_up": {
            "opened": 1,
            "closed": 1,
            "median_hours_to_close": 120.0,
            "within_sla": 0.0,
            "overdue": 0,
            "escalated": 1,
        },
        "recovery": {
            "opened": 6,
            "closed": 6,
            "median_hours_to_close": 24.0,
            "within_sla": 0.666667,
            "overdue": 1,
            "escalated": 0,
        },
    }
    assert loop["effectiveness"] == {
        "within_sla": {"accounts": 2, "logo_retention": 0.5},
        "late": {"accounts": 2, "logo_retention": 1.0},
        "horizon": "2027-01",
        "pending_until": None,
    }


def test_loop_median_of_an_even_count_and_undecided_tasks():
    created = datetime(2026, 10, 31, tzinfo=UTC)
    tasks = [
        task("a", "A", "recovery", created, 48, 10),
        task("b", "A", "recovery", created, 48, 20),
        task("c", "A", "recovery", created, 48),
    ]  # open, due 2 November: undecided on the 1st
    loop = run(tasks=tasks)["loop"]
    assert loop["median_hours_to_close"] == 15.0
    assert loop["within_sla"] == 1.0  # 2 of the 2 decided
    assert loop["overdue"] == 0


def test_effectiveness_waits_for_the_third_month_to_end():
    tasks, accounts = loop_world()
    pending = run(accounts=accounts, tasks=tasks)["loop"]["effectiveness"]
    assert pending == {
        "within_sla": {"accounts": 2, "logo_retention": None},
        "late": {"accounts": 2, "logo_retention": None},
        "horizon": "2027-01",
        "pending_until": "2027-02-01T00:00:00Z",
    }
    known = run(accounts=accounts, tasks=tasks, computed_at=datetime(2027, 2, 1, tzinfo=UTC))
    assert known["loop"]["effectiveness"]["within_sla"]["logo_retention"] == 0.5


# ---- themes ----------------------------------------------------------------------------------------------


def test_top_themes_of_detractor_comments():
    accounts = [AccountRow("A", None, {M: 1000}), AccountRow("B", None, {M: 200}), AccountRow("C", None, {})]
    responses = [
        resp("r1", "A", "c1", 3, themes=("price", "support")),
        resp("r2", "A", "c2", 5, themes=("price",)),  # A counts once for price's revenue
        resp("r3", "B", "c1", 0, themes=("support", "billing")),
        resp("r4", None, None, 2, themes=("billing",)),  # counts, brings no revenue
        resp("r5", "C", "c1", 6, themes=("usability",)),  # C is no customer: no revenue
        resp("r6", "B", "c2", 9, themes=("features",)),  # a promoter
        resp("r7", "A", "c1", 4, shift(M, -1), themes=("reliability",)),  # last month
    ]
    themes = run(responses, accounts)["themes"]
    assert themes == {
        "by_count": [
            {"theme": "billing", "count": 2},
            {"theme": "price", "count": 2},
            {"theme": "support", "count": 2},
            {"theme": "usability", "count": 1},
        ],
        "by_revenue": [
            {"theme": "support", "revenue": 1200.0},
            {"theme": "price", "revenue": 1000.0},
            {"theme": "billing", "revenue": 200.0},
        ],
    }


def test_only_the_top_ten_themes():
    accounts = [AccountRow(f"A{i}", None, {M: 100 * (i + 1)}) for i in range(12)]
    responses = [resp(f"r{i}-{j}", f"A{i}", f"c{j}", 0, themes=(f"t{i:02d}",)) for i in range(12) for j in range(i + 1)]
    themes = run(responses, accounts)["themes"]
    assert [t["theme"] for t in themes["by_count"]] == [f"t{i:02d}" for i in range(11, 1, -1)]
    assert themes["by_count"][0]["count"] == 12
    assert [t["revenue"] for t in themes["by_revenue"]] == [100.0 * i for i in range(12, 2, -1)]


# ---- property tests against a brute-force reading of docs/metrics.md ------------------------------------

CONTACTS = ["c1", "c2", "c3", None]
THEME_NAMES = ["price", "support", "billing"]


def ref_revenue(accounts: dict, account_id, month: str) -> float:
    account = accounts.get(account_id)
    value = account.revenue.get(month, 0) if account else 0
    return max(0, value)


def ref_latest_scores(responses, account_id, month: str) -> list[int]:
    """Latest score of each contact among the account's responses from the start of M-12 to the start of M."""
    lo, hi = start(shift(month, -12)), start(month)
    latest = {}
    for r in responses:
        if r.account_id != account_id or not lo <= r.first_submitted_at < hi:
            continue
        key = r.contact_id or "response:" + r.response_id
        if key not in latest or (r.first_submitted_at, r.response_id) > latest[key][0]:
            latest[key] = ((r.first_submitted_at, r.response_id), r.score)
    return [score for _, score in latest.values()]


def ref_category(scores):
    if not scores:
        return "unrated"
    mean = sum(scores) / len(scores)
    return "promoter" if mean >= 9 else "passive" if mean >= 7 else "detractor"


def ref_health(scores, low=-20, high=30):
    if not scores:
        return "unrated"
    nps = 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)
    return "at_risk" if nps <= low else "safe" if nps >= high else "gray_zone"


def ref_nps(scores):
    n = len(scores)
    return n, sum(s >= 9 for s in scores), sum(7 <= s <= 8 for s in scores), sum(s <= 6 for s in scores)


def ref_ratio(a, b):
    return a / b if b else None


def reference(responses, accounts_list, invitations, tasks, computed_at):
    accounts = {a.account_id: a for a in accounts_list}
    R = lambda a, month: ref_revenue(accounts, a, month)  # noqa: E731
    category = lambda a, month: ref_category(ref_latest_scores(responses, a, month))  # noqa: E731
    month_rows = [r for r in responses if start(M) <= r.first_submitted_at < start(shift(M, 1))]
    out = {}

    def scope(key_of):
        groups = {}
        for r in month_rows:
            groups.setdefault(key_of(r), []).append(r.score)
        return {k: ref_nps(v) for k, v in groups.items()}

    def segment_of(r):
        account = accounts.get(r.account_id)
        return (account.segment if account else None) or "none"

    out["nps"] = {
        "all": ref_nps([r.score for r in month_rows]),
        "by_survey": scope(lambda r: r.survey_id),
        "by_segment": scope(segment_of),
        "by_touchpoint": scope(lambda r: r.touchpoint or "none"),
    }
    out["response_rate"] = {s: (i, d, ref_ratio(d, i)) for s, (i, d) in invitations.items()}

    retention = {}
    for group in ("promoter", "passive", "detractor", "unrated"):
        cohort = [a for a in accounts if R(a, shift(M, -1)) > 0 and category(a, M) == group]
        base = sum(R(a, shift(M, -1)) for a in cohort)
        retention[group] = (
            len(cohort),
            base,
            ref_ratio(sum(R(a, M) > 0 for a in cohort), len(cohort)),
            ref_ratio(sum(min(R(a, M), R(a, shift(M, -1))) for a in cohort), base),
            ref_ratio(sum(R(a, M) for a in cohort), base),
        )
    out["retention"] = retention

    sums = {"promoter": [0, 0], "detractor": [0, 0]}
    members = {"promoter": set(), "detractor": set()}
    rated_base = 0
    for k in range(-11, 1):
        month = shift(M, k)
        for a in accounts:
            if R(a, shift(month, -1)) <= 0:
                continue
            c = category(a, month)
            if c != "unrated":
                rated_base += R(a, shift(month, -1))
            if c in sums:
                sums[c][0] += R(a, shift(month, -1))
                sums[c][1] += R(a, month)
                members[c].add(a)
    if len(members["promoter"]) < 10 or len(members["detractor"]) < 10:
        out["rnpp"] = None
    else:
        gap = sums["promoter"][1] / sums["promoter"][0] - sums["detractor"][1] / sums["detractor"][0]
        out["rnpp"] = rated_base / 12 * gap / 200

    health = {"safe": 0, "gray_zone": 0, "at_risk": 0, "unrated": 0}
    at_risk = []
    for a in accounts:
        if R(a, M) > 0:
            h = ref_health(ref_latest_scores(responses, a, shift(M, 1)))
            health[h] += 1
            if h == "at_risk":
                at_risk.append(R(a, M))
    out["health"] = health
    out["revenue_at_risk"] = (sum(at_risk), len(at_risk))

    end = start(shift(M, 1))
    mine = [t for t in tasks if start(M) <= t.created_at < end]

    def stats(ts):
        closed = [t for t in ts if t.closed_at is not None]
        hours = sorted((t.closed_at - t.created_at).total_seconds() / 3600 for t in closed)
        median = None
        if hours:
            mid = len(hours) // 2
            median = hours[mid] if len(hours) % 2 else (hours[mid - 1] + hours[mid]) / 2
        decided = [t for t in ts if t.closed_at is not None or t.due_at < computed_at]
        return (
            len(ts),
            len(closed),
            median,
            ref_ratio(sum(t.closed_at is not None and t.closed_at <= t.due_at for t in decided), len(decided)),
            sum(t.due_at < end and (t.closed_at is None or t.closed_at > end) for t in ts),
            sum(t.escalated_at is not None for t in ts),
        )

    out["loop"] = stats(mine)
    out["by_kind"] = {kind: stats([t for t in mine if t.kind == kind]) for kind in {t.kind for t in mine}}
    known = computed_at >= start(shift(M, 4))
    eff = {"within_sla": [0, 0], "late": [0, 0]}
    recovery_accounts = {t.account_id for t in mine if t.kind == "recovery" and t.account_id and R(t.account_id, M)}
    for a in recovery_accounts:
        on_time = all(
            t.closed_at is not None and t.closed_at <= t.due_at
            for t in mine
            if t.kind == "recovery" and t.account_id == a
        )
        group = eff["within_sla" if on_time else "late"]
        group[0] += 1
        group[1] += R(a, shift(M, 3)) > 0
    out["effectiveness"] = {k: (n, ref_ratio(kept, n) if known else None) for k, (n, kept) in eff.items()}

    detractor_rows = [r for r in month_rows if r.score <= 6]
    by_count, behind = {}, {}
    for r in detractor_rows:
        for theme in set(r.themes):
            by_count[theme] = by_count.get(theme, 0) + 1
            if r.account_id is not None:
                behind.setdefault(theme, set()).add(r.account_id)
    by_revenue = {t: sum(R(a, M) for a in accs) for t, accs in behind.items()}
    out["themes_count"] = sorted(by_count.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    out["themes_revenue"] = sorted(((t, v) for t, v in by_revenue.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))[
        :10
    ]
    return out


def close(a, b, tol=0.011):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol


def check_against_reference(doc, responses, accounts, invitations, tasks, computed_at):
    ref = reference(responses, accounts, invitations, tasks, computed_at)

    def check_nps(summary, expected):
        n, p, pa, d = expected
        assert (summary["n"], summary["promoters"], summary["passives"], summary["detractors"]) == (n, p, pa, d)
        assert close(summary["nps"], 100 * (p - d) / n if n else None)
        assert summary["low_sample"] == (n < 30)

    check_nps(doc["nps"]["all"], ref["nps"]["all"])
    for scope in ("by_survey", "by_segment", "by_touchpoint"):
        assert set(doc["nps"][scope]) == set(ref["nps"][scope])
        for key, expected in ref["nps"][scope].items():
            check_nps(doc["nps"][scope][key], expected)

    assert {s: (v["invited"], v["responded"]) for s, v in doc["response_rate"].items()} == {
        s: v[:2] for s, v in ref["response_rate"].items()
    }
    for s, v in ref["response_rate"].items():
        assert close(doc["response_rate"][s]["rate"], v[2], 1e-6)

    for group, (n, base, logo, grr, nrr) in ref["retention"].items():
        got = doc["retention"][group]
        assert got["accounts"] == n
        assert close(got["base"], base, 0.006)
        assert close(got["logo_retention"], logo, 1e-6)
        assert close(got["grr"], grr, 1e-6)
        assert close(got["nrr"], nrr, 1e-6)

    rnpp = doc["revenue_per_nps_point"]
    if ref["rnpp"] is None:
        assert rnpp["monthly"] is None and rnpp["ci95"] is None and rnpp["reason"]
    else:
        assert rnpp["reason"] is None
        assert close(rnpp["monthly"], ref["rnpp"])
        assert close(rnpp["annual"], 12 * ref["rnpp"], 0.02)
        assert rnpp["ci95"][0] <= rnpp["monthly"] <= rnpp["ci95"][1]

    assert doc["health"] == ref["health"]
    assert close(doc["revenue_at_risk"]["monthly"], ref["revenue_at_risk"][0], 0.006)
    assert close(doc["revenue_at_risk"]["annual"], 12 * ref["revenue_at_risk"][0], 0.06)
    assert doc["revenue_at_risk"]["accounts"] == ref["revenue_at_risk"][1]

    def check_stats(got, expected):
        opened, closed, median, within, overdue, escalated = expected
        assert (got["opened"], got["closed"], got["overdue"], got["escalated"]) == (opened, closed, overdue, escalated)
        assert close(got["median_hours_to_close"], median, 0.006)
        assert close(got["within_sla"], within, 1e-6)

    check_stats(doc["loop"], ref["loop"])
    assert set(doc["loop"]["by_kind"]) == set(ref["by_kind"])
    for kind, expected in ref["by_kind"].items():
        check_stats(doc["loop"]["by_kind"][kind], expected)
    for group, (n, logo) in ref["effectiveness"].items():
        assert doc["loop"]["effectiveness"][group]["accounts"] == n
        assert close(doc["loop"]["effectiveness"][group]["logo_retention"], logo, 1e-6)

    assert [(t["theme"], t["count"]) for t in doc["themes"]["by_count"]] == ref["themes_count"]
    assert [t["theme"] for t in doc["themes"]["by_revenue"]] == [t for t, _ in ref["themes_revenue"]]
    for got, (_, value) in zip(doc["themes"]["by_revenue"], ref["themes_revenue"], strict=True):
        assert close(got["revenue"], value, 0.006)


revenue_value = st.sampled_from([None, 0, 40, 100, 100, 250.5, 1000])
score = st.integers(0, 10)


@st.composite
def accounts_st(draw, ids):
    out = []
    for account_id in ids:
        # M-14..M+4: more than the job reads, so what lies outside must be ignored
        values = {shift(M, k): draw(revenue_value) for k in range(-14, 5)}
        revenue = {month: float(v) for month, v in values.items() if v is not None}
        out.append(AccountRow(account_id, draw(st.sampled_from(["smb", "ent", None])), revenue))
    return out


@st.composite
def responses_st(draw, ids, max_size):
    n = draw(st.integers(0, max_size))
    out = []
    for i in range(n):
        month = shift(M, draw(st.integers(-25, 1)))
        when = start(month).replace(day=draw(st.sampled_from([1, 15, 28])), hour=draw(st.sampled_from([0, 23])))
        out.append(
            ResponseRow(
                f"r{draw(st.integers(0, 99)):02d}-{i}",
                draw(st.sampled_from(["s1", "s2"])),
                draw(st.sampled_from([*ids, "ghost", None])),
                draw(st.sampled_from(CONTACTS)),
                draw(score),
                when,
                tuple(draw(st.lists(st.sampled_from(THEME_NAMES), max_size=2))),
                draw(st.sampled_from(["web", "email", None])),
            )
        )
    return out


@st.composite
def tasks_st(draw, ids):
    out = []
    for i in range(draw(st.integers(0, 8))):
        created = start(shift(M, draw(st.integers(-1, 1)))) + timedelta(
            days=draw(st.integers(0, 27)), hours=draw(st.sampled_from([0, 12, 23]))
        )
        closed = draw(st.sampled_from([None, 0.5, 47, 48, 49, 400, 2000]))
        out.append(
            task(
                f"t{i}",
                draw(st.sampled_from([*ids, None])),
                draw(st.sampled_from(["recovery", "advocacy", "follow_up"])),
                created,
                draw(st.sampled_from([1, 48, 336])),
                closed,
                draw(st.booleans()),
            )
        )
    return out


computed_at_st = st.sampled_from(
    [
        start(shift(M, 1)) + timedelta(hours=3),
        start(shift(M, 4)) - timedelta(seconds=1),
        start(shift(M, 4)),
        start(shift(M, 6)),
    ]
)
invitations_st = st.dictionaries(
    st.sampled_from(["s1", "s2", "s3"]),
    st.integers(0, 5).flatmap(lambda invited: st.tuples(st.just(invited), st.integers(0, invited))),
)


@st.composite
def small_world(draw):
    ids = [f"a{i}" for i in range(draw(st.integers(0, 6)))]
    return (
        draw(responses_st(ids, 40)),
        draw(accounts_st(ids)),
        draw(invitations_st),
        draw(tasks_st(ids)),
        draw(computed_at_st),
    )


@settings(max_examples=150, deadline=None)
@given(small_world())
def test_small_worlds_match_the_reference(world):
    responses, accounts, invitations, tasks, computed_at = world
    doc = compute_month(
        M,
        responses=responses,
        accounts=accounts,
        invitations=invitations,
        tasks=tasks,
        computed_at=computed_at,
        bootstrap_resamples=50,
    )
    check_against_reference(doc, responses, accounts, invitations, tasks, computed_at)


@st.composite
def pooled_world(draw):
    """Enough accounts that revenue per NPS point is usually defined: twelve lean promoter, twelve detractor,
    each with an answer in M-12 that rates it for every cohort, plus random answers that may change that."""
    ids = [f"a{i:02d}" for i in range(draw(st.integers(20, 28)))]
    anchors = [
        resp(f"anchor-{a}", a, "anchor", 10 if i < 12 else 0 if i < 24 else 8, shift(M, -12)) for i, a in enumerate(ids)
    ]
    return anchors + draw(responses_st(ids, 60)), draw(accounts_st(ids))


@settings(max_examples=25, deadline=None)
@given(pooled_world(), st.integers(0, 2**32))
def test_pooled_worlds_match_the_reference_and_the_interval_holds_the_point(world, seed):
    responses, accounts = world
    computed_at = start(shift(M, 1))
    doc = compute_month(
        M,
        responses=responses,
        accounts=accounts,
        invitations={},
        tasks=[],
        computed_at=computed_at,
        bootstrap_resamples=200,
        seed=seed,
    )
    check_against_reference(doc, responses, accounts, {}, [], computed_at)
    again = compute_month(
        M,
        responses=responses[::-1],
        accounts=accounts[::-1],
        invitations={},
        tasks=[],
        computed_at=computed_at,
        bootstrap_resamples=200,
        seed=seed,
    )
    assert again["revenue_per_nps_point"] == doc["revenue_per_nps_point"]
