"""Who a relationship wave asks (domain/waves.py): a hand-worked example, and a second, simpler implementation
over random directories that must agree with it count for count and contact for contact."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import waves
from chalicelib.domain.waves import Candidate, Rules

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
STARTED = NOW - timedelta(hours=1)


def _select(candidates, rules, *, inactive=(), throttle=90, cross=0, today=0):
    return waves.select(
        candidates,
        survey_id="srv",
        rules=rules,
        inactive_accounts=set(inactive),
        throttle_days=throttle,
        cross_survey_days=cross,
        wave_started_at=STARTED,
        invited_today=today,
        now=NOW,
    )


def test_a_hand_worked_wave():
    """Account a1 has four contacts and a cap of two: its decision maker first, then the influencer asked longest
    ago; b1 is churned; c1's only contact was asked 10 days ago. A daily cap of 2 defers the third invitation."""
    long_ago, lately = NOW - timedelta(days=400), NOW - timedelta(days=200)
    contacts = [
        Candidate("a-user", "a1", "user", "active"),
        Candidate("a-inf-new", "a1", "influencer", "active", {"other": lately}),
        Candidate("a-inf-old", "a1", "influencer", "active", {"other": long_ago}),
        Candidate("a-dm", "a1", "decision_maker", "active"),
        Candidate("b-dm", "b1", "decision_maker", "active"),
        Candidate("c-dm", "c1", "decision_maker", "active", {"srv": NOW - timedelta(days=10)}),
        Candidate("d-dm", "d1", "decision_maker", "bounced"),
        Candidate("d-inf", "d1", "influencer", "unsubscribed"),
        Candidate("e-dm", "e1", "decision_maker", "active"),
        Candidate("e-x", "e1", "finance", "active"),  # a role the wave does not ask
    ]
    rules = Rules(roles=("decision_maker", "influencer", "user"), per_account=2, daily_cap=2)
    got = _select(contacts, rules, inactive={"b1"})
    assert [c.contact_id for c in got.invite] == ["a-dm", "e-dm"]
    assert got.eligible == 9
    assert got.skipped == {
        "unsubscribed": 1,
        "bounced": 1,
        "complained": 0,
        "account_inactive": 1,
        "throttled": 1,
        "over_account_cap": 2,  # a-inf-new and a-user: a1 keeps its two places for a-dm and a-inf-old
        "over_daily_cap": 1,  # a-inf-old, tomorrow
    }
    assert got.counts()["invited"] + sum(got.skipped.values()) == got.eligible

    # The next day: a-dm and e-dm are the wave's now (stamped after it started); a-inf-old goes.
    later = {"a-dm", "e-dm"}
    stamped = [
        Candidate(c.contact_id, c.account_id, c.role, c.status, {**c.last_invited, "srv": NOW})
        if c.contact_id in later
        else c
        for c in contacts
    ]
    nxt = _select(stamped, rules, inactive={"b1"})
    assert [c.contact_id for c in nxt.invite] == ["a-inf-old"]
    assert nxt.invited == 2 and nxt.skipped["over_daily_cap"] == 0 and nxt.skipped["over_account_cap"] == 2


def test_without_roles_every_role_is_asked_and_decision_makers_come_first():
    contacts = [Candidate(f"u{i}", "a", "user", "active") for i in range(3)] + [
        Candidate("dm", "a", "decision_maker", "active"),
        Candidate("none", "a", None, "active"),
    ]
    got = _select(contacts, Rules(per_account=1))
    assert [c.contact_id for c in got.invite] == ["dm"] and got.skipped["over_account_cap"] == 4


def test_cross_survey_throttle_counts_any_surveys_invitation():
    recent = Candidate("c", "a", None, "active", {"another-survey": NOW - timedelta(days=5)})
    assert _select([recent], Rules(), cross=0).invite == [recent]
    assert _select([recent], Rules(), cross=30).skipped["throttled"] == 1
    assert _select([recent], Rules(), cross=3).invite == [recent]


def _simple(candidates, rules, inactive, throttle, cross, today):
    """The rules read the other way round: each contact's fate decided alone, then each account's places, then
    the day's room, with plain loops and no shared state between the steps."""
    order = {r: i for i, r in enumerate(rules.roles)} if rules.roles else {"decision_maker": 0}
    fate, in_wave, open_ = {}, {}, []
    for c in candidates:
        if c.status == "erased" or (rules.roles and c.role not in rules.roles):
            continue
        mine = c.last_invited.get("srv")
        if mine is not None and mine >= STARTED:
            fate[c.contact_id] = "in_wave"
            in_wave[c.account_id] = in_wave.get(c.account_id, 0) + 1
        elif c.status != "active":
            fate[c.contact_id] = c.status
        elif c.account_id in inactive:
            fate[c.contact_id] = "account_inactive"
        elif (mine is not None and throttle and NOW - mine < timedelta(days=throttle)) or (
            cross and any(NOW - at < timedelta(days=cross) for at in c.last_invited.values())
        ):
            fate[c.contact_id] = "throttled"
        else:
            open_.append(c)

    def key(c):
        last = max(c.last_invited.values()) if c.last_invited else datetime.min.replace(tzinfo=UTC)
        return (order.get(c.role, len(order)), last, c.contact_id)

    by_account = {}
    for c in open_:
        by_account.setdefault(c.account_id, []).append(c)
    placed = []
    for account, people in by_account.items():
        people.sort(key=key)
        places = len(people) if rules.per_account is None else max(0, rules.per_account - in_wave.get(account, 0))
        placed += people[:places]
        for c in people[places:]:
            fate[c.contact_id] = "over_account_cap"
    placed.sort(key=key)
    room = len(placed) if rules.daily_cap is None else max(0, rules.daily_cap - today)
    invited = [c.contact_id for c in placed[:room]]
    for c in placed[room:]:
        fate[c.contact_id] = "over_daily_cap"
    counts = {reason: sum(1 for f in fate.values() if f == reason) for reason in waves.SKIP_REASONS}
    return invited, counts, sum(1 for f in fate.values() if f == "in_wave")


@pytest.mark.parametrize("seed", range(40))
def test_the_selection_agrees_with_a_simpler_implementation(seed):
    rng = random.Random(seed)
    roles = ["decision_maker", "influencer", "user", "finance", None]
    statuses = ["active"] * 12 + ["unsubscribed", "bounced", "complained", "erased"]
    candidates = []
    for i in range(rng.randint(0, 400)):
        stamps = {}
        for survey in ("srv", "other"):
            if rng.random() < 0.3:
                stamps[survey] = NOW - timedelta(days=rng.randint(0, 200), hours=rng.randint(0, 23))
        if rng.random() < 0.1:
            stamps["srv"] = STARTED + timedelta(minutes=rng.randint(0, 50))  # this wave's, an earlier run
        candidates.append(
            Candidate(
                f"c{i:04d}",
                f"a{rng.randint(0, 60)}",
                rng.choice(roles),
                rng.choice(statuses),
                stamps,
            )
        )
    rules = Rules(
        roles=tuple(rng.sample(["decision_maker", "influencer", "user"], rng.randint(0, 3))),
        per_account=rng.choice([None, 1, 2, 3]),
        daily_cap=rng.choice([None, 5, 40, 1000]),
    )
    inactive = {f"a{n}" for n in rng.sample(range(61), 6)}
    throttle, cross, today = rng.choice([0, 30, 90]), rng.choice([0, 14]), rng.choice([0, 3])
    got = _select(candidates, rules, inactive=inactive, throttle=throttle, cross=cross, today=today)
    invited, counts, already = _simple(candidates, rules, inactive, throttle, cross, today)
    assert [c.contact_id for c in got.invite] == invited
    assert got.skipped == counts
    assert got.invited == already
    assert got.eligible == already + len(invited) + sum(counts.values())


def test_schedule_validation():
    ok, problems = waves.checked_schedule({"every_days": 90, "roles": ["decision_maker"], "per_account": 2})
    assert problems == {} and ok == {"every_days": 90, "roles": ["decision_maker"], "per_account": 2, "daily_cap": None}
    _, problems = waves.checked_schedule(
        {"every_days": 0, "roles": ["Bad Role"], "per_account": 0, "daily_cap": True, "when": "x"}
    )
    assert set(problems) == {
        "schedule.every_days",
        "schedule.roles",
        "schedule.per_account",
        "schedule.daily_cap",
        "schedule.when",
    }
    assert waves.checked_schedule([1])[1] == {
        "schedule": "must be an object with every_days, roles, per_account and daily_cap"
    }
    rules, problems = waves.checked_wave({"daily_cap": 10}, {"every_days": 30, "per_account": 3})
    assert problems == {} and rules == Rules(per_account=3, daily_cap=10)
    assert waves.checked_wave({"per_account": None}, {"every_days": 30, "per_account": 3})[0] == Rules()


def test_a_schedule_is_due_every_n_days():
    schedule = {"every_days": 90}
    assert waves.due(schedule, None, NOW)
    assert not waves.due(schedule, NOW - timedelta(days=89), NOW)
    assert waves.due(schedule, NOW - timedelta(days=90), NOW)
    assert not waves.due(None, None, NOW)
