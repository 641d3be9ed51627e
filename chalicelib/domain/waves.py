"""Relationship waves: a survey's `schedule`, and who a wave asks.

A wave looks at every directory contact with an email address whose role the schedule asks (`roles`; all
roles when it names none): those are the wave's `eligible` contacts. Each of them is either invited or skipped
for one reason, checked in this order:

1. `unsubscribed`, `bounced`, `complained`: the directory's status;
2. `account_inactive`: the contact's account's status is `churned` or `paused` (a `trial` is asked);
3. `throttled`: invited to this survey within its `throttle_days`, or to any survey within the stack's
   cross-survey throttle (CONTACT_THROTTLE_DAYS; 0 turns it off);
4. `over_account_cap`: the account already has `per_account` contacts asked in this wave; an account's
   contacts are taken in the order of `roles` (decision makers first when `roles` does not say), then the
   one asked longest ago, then by id;
5. `over_daily_cap`: the wave has invited `daily_cap` contacts today; these are deferred: the wave asks them
   on its next day, in the same order.

So `invited + sum(skipped) == eligible` at every step. A wave's later days select again from the directory as
it is then; a contact the wave already invited counts as invited (and within its account's cap), whatever
happened to it since. The selection is pure and linear in the contacts (one sort), so a wave of 100,000
contacts is planned in memory in well under a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SKIP_REASONS = (
    "unsubscribed",
    "bounced",
    "complained",
    "account_inactive",
    "throttled",
    "over_account_cap",
    "over_daily_cap",
)
DECISION_MAKER = "decision_maker"
INACTIVE_ACCOUNTS = ("churned", "paused")
MAX_EVERY_DAYS = 730
MAX_PER_ACCOUNT = 100
MAX_DAILY_CAP = 100_000
SCHEDULE_FIELDS = {"every_days", "roles", "per_account", "daily_cap"}
WAVE_FIELDS = {"roles", "per_account", "daily_cap"}  # a wave started by hand may set its own


@dataclass(frozen=True)
class Rules:
    """What one wave asks: the roles (empty: all), at most `per_account` per account and `daily_cap` a day (None:
    no cap)."""

    roles: tuple[str, ...] = ()
    per_account: int | None = None
    daily_cap: int | None = None


@dataclass(frozen=True)
class Candidate:
    """A directory contact as a wave sees it (no address, no name: only whether it has an address)."""

    contact_id: str
    account_id: str | None
    role: str | None
    status: str  # active, unsubscribed, bounced, complained, erased
    last_invited: dict[str, datetime] = field(default_factory=dict)  # survey id -> last invitation
    timezone: str | None = None


@dataclass
class Selection:
    """Who a wave's run invites now, in order, and the wave's counts as they will stand once they are."""

    invite: list[Candidate]
    eligible: int
    invited: int  # by earlier runs of this wave
    skipped: dict[str, int]

    def counts(self) -> dict[str, object]:
        return {"eligible": self.eligible, "invited": self.invited + len(self.invite), "skipped": dict(self.skipped)}


def rules_of(stored: dict[str, object] | None) -> Rules:
    if not stored:
        return Rules()
    roles = stored.get("roles")
    per_account, daily_cap = stored.get("per_account"), stored.get("daily_cap")
    return Rules(
        roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
        per_account=int(per_account) if isinstance(per_account, (int, float)) and per_account else None,
        daily_cap=int(daily_cap) if isinstance(daily_cap, (int, float)) and daily_cap else None,
    )


def _role_rank(rules: Rules) -> dict[str | None, int]:
    if rules.roles:
        return {role: i for i, role in enumerate(rules.roles)}
    return {DECISION_MAKER: 0}


def select(
    candidates: Iterable[Candidate],
    *,
    survey_id: str,
    rules: Rules,
    inactive_accounts: set[str],
    throttle_days: int,
    cross_survey_days: int,
    wave_started_at: datetime,
    invited_today: int,
    now: datetime,
) -> Selection:
    """The wave's next invitations and its counts (module docstring). `invited_today`: how many the wave has
    invited on the current day already (its daily cap counts them)."""
    asked = set(rules.roles)
    rank = _role_rank(rules)
    last_rank = len(rank)
    survey_window = timedelta(days=throttle_days)
    any_window = timedelta(days=cross_survey_days)
    skipped = dict.fromkeys(SKIP_REASONS, 0)
    eligible = already = 0
    in_wave_by_account: dict[str | None, int] = {}
    open_: list[tuple[int, datetime, str, Candidate]] = []
    oldest = datetime.min.replace(tzinfo=now.tzinfo)
    for c in candidates:
        if c.status == "erased" or (asked and c.role not in asked):
            continue
        eligible += 1
        mine = c.last_invited.get(survey_id)
        if mine is not None and mine >= wave_started_at:
            already += 1
            in_wave_by_account[c.account_id] = in_wave_by_account.get(c.account_id, 0) + 1
            continue
        if c.status in ("unsubscribed", "bounced", "complained"):
            skipped[c.status] += 1
            continue
        if c.account_id in inactive_accounts:
            skipped["account_inactive"] += 1
            continue
        if (mine is not None and survey_window and now - mine < survey_window) or (
            any_window and any(now - at < any_window for at in c.last_invited.values())
        ):
            skipped["throttled"] += 1
            continue
        last = max(c.last_invited.values(), default=oldest)
        open_.append((rank.get(c.role, last_rank), last, c.contact_id, c))
    open_.sort(key=lambda row: (row[0], row[1], row[2]))
    room = None if rules.daily_cap is None else max(0, rules.daily_cap - invited_today)
    invite: list[Candidate] = []
    taken = dict(in_wave_by_account)
    for _, _, _, c in open_:
        count = taken.get(c.account_id, 0)
        if rules.per_account is not None and count >= rules.per_account:
            skipped["over_account_cap"] += 1
            continue
        taken[c.account_id] = count + 1  # a contact deferred to a later day keeps its place in the account's cap
        if room is not None and len(invite) >= room:
            skipped["over_daily_cap"] += 1
            continue
        invite.append(c)
    return Selection(invite=invite, eligible=eligible, invited=already, skipped=skipped)


def _integer(value: object, lo: int, hi: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        return None
    return value


def _checked_rules(value: dict[str, object], prefix: str, problems: dict[str, str]) -> dict[str, object]:
    from chalicelib.domain.contacts import ROLE_RE

    out: dict[str, object] = {}
    roles = value.get("roles")
    if roles is not None and (
        not isinstance(roles, list)
        or len(roles) > 20
        or not all(isinstance(r, str) and ROLE_RE.match(r) for r in roles)
        or len(set(roles)) != len(roles)
    ):
        problems[f"{prefix}roles"] = (
            "must be a list of up to 20 distinct roles such as decision_maker, in the order to ask them"
        )
    else:
        out["roles"] = list(roles) if roles else None
    for key, hi in (("per_account", MAX_PER_ACCOUNT), ("daily_cap", MAX_DAILY_CAP)):
        given = value.get(key)
        if given is not None and _integer(given, 1, hi) is None:
            problems[f"{prefix}{key}"] = f"must be an integer from 1 to {hi}, or null for no cap"
        else:
            out[key] = given
    return out


def checked_schedule(value: object) -> tuple[dict[str, object] | None, dict[str, str]]:
    """A survey's `schedule` as given (None: no waves by themselves), and the problems with it by field."""
    if value is None:
        return None, {}
    if not isinstance(value, dict):
        return None, {"schedule": "must be an object with every_days, roles, per_account and daily_cap"}
    problems = {f"schedule.{k}": "unknown field" for k in value if k not in SCHEDULE_FIELDS}
    every = _integer(value.get("every_days"), 1, MAX_EVERY_DAYS)
    if every is None:
        problems["schedule.every_days"] = f"required: an integer from 1 to {MAX_EVERY_DAYS}"
    out = _checked_rules(value, "schedule.", problems)
    if problems:
        return None, problems
    return {"every_days": every, **out}, {}


def checked_wave(value: object, schedule: dict[str, object] | None) -> tuple[Rules, dict[str, str]]:
    """The rules of a wave started by hand: the body's (`roles`, `per_account`, `daily_cap`), each defaulting to
    the survey's schedule, else to none."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        return Rules(), {"body": "must be an object with roles, per_account and daily_cap, or empty"}
    problems = {k: "unknown field" for k in value if k not in WAVE_FIELDS}
    given = _checked_rules(value, "", problems)
    if problems:
        return Rules(), problems
    merged = {**(schedule or {}), **{k: v for k, v in given.items() if k in value}}
    return rules_of(merged), {}


def shown_rules(rules: Rules) -> dict[str, object]:
    return {"roles": list(rules.roles) or None, "per_account": rules.per_account, "daily_cap": rules.daily_cap}


def due(schedule: dict[str, object] | None, last_started: datetime | None, now: datetime) -> bool:
    """Whether a survey's schedule starts a wave now: it has one, and its last wave (if any) started at least
    `every_days` ago."""
    if not schedule:
        return False
    every = schedule.get("every_days")
    if not isinstance(every, int):
        return False
    return last_started is None or now - last_started >= timedelta(days=every)


def response_rate(sent: int, responded: int) -> float | None:
    return round(responded / sent, 4) if sent else None


def order_reasons(skipped: dict[str, int]) -> dict[str, int]:
    return {reason: int(skipped.get(reason, 0)) for reason in SKIP_REASONS}


def days_total(days: Sequence[dict[str, object]], day: str) -> int:
    return sum(int(d.get("invited", 0)) for d in days if d.get("day") == day)  # type: ignore[call-overload]
