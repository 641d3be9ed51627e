"""The demo's model: segments, surveys, accounts whose latent sentiment drifts and drives churn and growth, and
the responses it yields (see nps_demo/generator.py for the whole story)."""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from chalicelib.domain.months import Month
from nps_demo.comments import comment_for, drivers_for
from nps_demo.draws import NORMAL, NORMAL_SIZE, cumulative, normal, pick, weighted
from nps_demo.names import FIRST_NAMES, LAST_NAMES, NAME_HEADS, NAME_KINDS, NAME_TAILS, NAME_WORDS
from nps_demo.surveys import CHANNEL_WEIGHTS, CHANNELS, SURVEY_KEYS, SURVEY_SCORE
from nps_demo.vocabulary import THEMES

ACCOUNTS_PER_OWNER = 40
OWNERS_PER_MANAGER = 6


@dataclass(frozen=True)
class _Segment:
    name: str
    share: float
    revenue_median: float  # monthly, at the start
    revenue_sigma: float
    revenue_floor: float
    contact_weights: tuple[int, int, int, int]  # for 1, 2, 3, 4 contacts
    churn_factor: float
    ticket_draws: int  # support tickets a month: this many draws of TICKET_CHANCE
    sentiment_shift: float


SEGMENTS = (
    _Segment("enterprise", 0.12, 30000.0, 0.55, 5000.0, (1, 1, 3, 6), 0.6, 3, 0.2),
    _Segment("mid-market", 0.33, 6000.0, 0.5, 800.0, (1, 3, 4, 3), 1.0, 2, 0.0),
    _Segment("smb", 0.55, 900.0, 0.6, 49.0, (3, 4, 2, 1), 1.4, 1, -0.2),
)

# Monthly churn probability by the account's category at the start of the month (times the segment factor).
CHURN = {"promoter": 0.005, "passive": 0.012, "detractor": 0.028, "unrated": 0.01}
# Monthly revenue change while a customer: (mean, sd, chance of expansion, chance of contraction).
GROWTH = {
    "promoter": (0.010, 0.012, 0.03, 0.005),
    "passive": (0.002, 0.012, 0.015, 0.015),
    "detractor": (-0.008, 0.012, 0.005, 0.05),
    "unrated": (0.003, 0.012, 0.015, 0.015),
}
WIN_BACK = 0.015  # monthly chance that a churned account comes back
NEW_LOGO_SHARE = 0.27
TICKET_CHANCE = 0.35
SUPPORT_RESPONSE = 0.45
RENEWAL_RESPONSE = 0.55
ONBOARDING_RESPONSE = 0.5


@dataclass(slots=True)
class DemoAccount:
    account_id: str
    name: str
    domain: str
    segment: _Segment
    owner: str
    manager: str
    contacts: list[tuple[str, str, str]]  # (contact_id, email, name)
    start: int  # month index of the first revenue
    revenue0: float
    level: float  # the sentiment the account drifts around
    sentiment0: float
    contact_offsets: list[float]
    relationship_rate: float
    wave: int  # relationship surveys go out in calendar months with (month - 1) % 3 == wave
    renewal_phase: int
    pain_theme: int
    revenue: dict[str, float]
    status: str
    first_event: int  # this account's responses in DemoData's packed event array
    event_count: int


@dataclass(frozen=True)
class DemoMonth:
    key: str  # YYYY-MM
    number: int  # 1-12
    days: int


# ---- the model ----------------------------------------------------------------------------------------------


def month_range(end_month: str, count: int) -> list[DemoMonth]:
    try:
        last = Month.parse(end_month)
    except ValueError:
        raise ValueError("end_month must be YYYY-MM") from None
    out = []
    for k in range(1 - count, 1):
        month = last.shift(k)
        out.append(DemoMonth(str(month), month.number, (month.end() - month.start()).days))
    return out


def _slug(text: str) -> str:
    return "-".join("".join(ch for ch in word.lower() if ch.isalnum()) for word in text.split())


def _company_name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return pick(rng, NAME_HEADS) + pick(rng, NAME_TAILS) + " " + pick(rng, NAME_KINDS)
    return pick(rng, NAME_HEADS) + " " + pick(rng, NAME_WORDS) + " " + pick(rng, NAME_KINDS)


_SEGMENT_CUM = cumulative(s.share for s in SEGMENTS)
_CONTACTS_CUM = {s.name: cumulative(s.contact_weights) for s in SEGMENTS}


def new_account(rng: random.Random, index: int, width: int, owners: int, months: int, taken: set[str]) -> DemoAccount:
    number = f"{index:0{width}d}"
    for _ in range(8):
        name = _company_name(rng)
        if name not in taken:
            break
    else:
        name = f"{name} {number}"
    taken.add(name)
    domain = _slug(name) + ".example"
    segment = SEGMENTS[weighted(rng, _SEGMENT_CUM)]
    owner_number = int(rng.random() * owners) + 1
    manager_number = (owner_number - 1) // OWNERS_PER_MANAGER + 1
    contacts = []
    emails = set()
    for j in range(1, weighted(rng, _CONTACTS_CUM[segment.name]) + 2):
        first, last = pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)
        local = f"{first}.{last}".lower()
        if local in emails:
            local = f"{local}{j}"
        emails.add(local)
        contacts.append((f"con-{number}-{j}", f"{local}@{domain}", f"{first} {last}"))
    start = 1 + int(rng.random() * (months - 1)) if months > 1 and rng.random() < NEW_LOGO_SHARE else 0
    level = min(9.8, max(2.0, 8.2 + segment.sentiment_shift + 1.3 * normal(rng)))
    return DemoAccount(
        account_id=f"acc-{number}",
        name=name,
        domain=domain,
        segment=segment,
        owner=f"csm-{owner_number}@example.com",
        manager=f"manager-{manager_number}@example.com",
        contacts=contacts,
        start=start,
        revenue0=round(
            max(segment.revenue_floor, segment.revenue_median * math.exp(segment.revenue_sigma * normal(rng))), 2
        ),
        level=level,
        sentiment0=level + 0.6 * normal(rng),
        contact_offsets=[0.7 * normal(rng) for _ in contacts],
        relationship_rate=0.3 + 0.2 * rng.random(),
        wave=int(rng.random() * 3),
        renewal_phase=start % 12 if start else int(rng.random() * 12),
        pain_theme=int(rng.random() * len(THEMES)),
        revenue={},
        status="active",
        first_event=0,
        event_count=0,
    )


def _category(mean: float) -> str:
    if mean >= 9:
        return "promoter"
    if mean >= 7:
        return "passive"
    return "detractor"


# A response is packed in one integer (month index, second in month, survey, contact, score), so a million of
# them take 8 MB and sort by time; the rows are built from them on demand.
_SECOND_BITS, _SURVEY_BITS, _CONTACT_BITS, _SCORE_BITS = 22, 3, 3, 4
_WORK_START, _WORK_SECONDS = 7 * 3600, 14 * 3600  # responses arrive 07:00-21:00 UTC
_RELATIONSHIP, _ONBOARDING, _SUPPORT, _RENEWAL = range(4)
_SURVEY_SCORE = tuple(SURVEY_SCORE[key] for key in SURVEY_KEYS)


def _pack(mi: int, second: int, survey: int, contact: int, score: int) -> int:
    code = (mi << _SECOND_BITS) | second
    code = (code << _SURVEY_BITS) | survey
    code = (code << _CONTACT_BITS) | contact
    return (code << _SCORE_BITS) | score


def _unpack(code: int) -> tuple[int, int, int, int, int]:
    score = code & ((1 << _SCORE_BITS) - 1)
    code >>= _SCORE_BITS
    contact = code & ((1 << _CONTACT_BITS) - 1)
    code >>= _CONTACT_BITS
    survey = code & ((1 << _SURVEY_BITS) - 1)
    code >>= _SURVEY_BITS
    return code >> _SECOND_BITS, code & ((1 << _SECOND_BITS) - 1), survey, contact, score


def simulate(account: DemoAccount, months: list[DemoMonth], rng: random.Random, events: array) -> list[float]:
    """Run one account month by month; returns its monthly revenue and appends its responses to `events`
    (packed, in time order)."""
    rand = rng.random
    normal, size = NORMAL, NORMAL_SIZE
    seg = account.segment
    offsets = account.contact_offsets
    n_contacts = len(offsets)
    revenue = [0.0] * len(months)
    mine: list[int] = []
    latest: list[tuple[int, int, int] | None] = [None] * n_contacts  # (month index, second, score) per contact
    sentiment = account.sentiment0
    customer = False
    current = 0.0
    joined = -1
    for mi, month in enumerate(months):
        if mi:
            sentiment += 0.12 * (account.level - sentiment) + 0.3 * normal[int(rand() * size)]
        if mi < account.start:
            continue
        if mi == account.start:
            customer, current, joined = True, account.revenue0, mi
        else:
            category = _account_category(latest, mi)
            if customer:
                if rand() < CHURN[category] * seg.churn_factor:
                    customer = False
                else:
                    mean, sd, up, down = GROWTH[category]
                    current *= 1.0 + mean + sd * normal[int(rand() * size)]
                    jump = rand()
                    if jump < up:
                        current *= 1.1 + 0.3 * rand()
                    elif jump < up + down:
                        current *= 0.7 + 0.2 * rand()
                    current = max(seg.revenue_floor, current)
            elif rand() < WIN_BACK:
                # Won back after something got better: a smaller contract and a fresh start.
                customer, joined = True, mi
                current = max(seg.revenue_floor, current * (0.6 + 0.4 * rand()))
                sentiment = max(sentiment, account.level) + 0.5
        if not customer:
            continue
        revenue[mi] = round(current, 2)

        asked = []  # (survey, contact index)
        if (month.number - 1) % 3 == account.wave:
            rate = account.relationship_rate
            asked.extend((_RELATIONSHIP, j) for j in range(n_contacts) if rand() < rate)
        if joined > 0 and mi == joined + 1:
            asked.extend((_ONBOARDING, j) for j in range(n_contacts) if rand() < ONBOARDING_RESPONSE)
        # Unhappy accounts open more tickets.
        ticket_chance = TICKET_CHANCE * (1.0 + max(0.0, 7.0 - sentiment) * 0.2)
        for _ in range(seg.ticket_draws):
            if rand() < ticket_chance:
                j = int(rand() * n_contacts)
                if rand() < SUPPORT_RESPONSE:
                    asked.append((_SUPPORT, j))
        if mi > joined and (mi - account.renewal_phase) % 12 == 0 and rand() < RENEWAL_RESPONSE:
            asked.append((_RENEWAL, 0))
        days = month.days
        for survey, j in asked:
            second = int(rand() * days) * 86400 + _WORK_START + int(rand() * _WORK_SECONDS)
            shift, noise = _SURVEY_SCORE[survey]
            value = sentiment + offsets[j] + shift + noise * normal[int(rand() * size)]
            if value < 5.0:  # unhappy respondents go to the extremes
                value -= 0.6 * (5.0 - value)
            score = 0 if value < 0 else 10 if value > 10 else int(value + 0.5)
            previous = latest[j]
            if previous is None or (previous[0], previous[1]) < (mi, second):
                latest[j] = (mi, second, score)
            mine.append(_pack(mi, second, survey, j, score))
    mine.sort()
    events.extend(mine)
    return revenue


def _account_category(latest: list[tuple[int, int, int] | None], mi: int) -> str:
    """docs/metrics.md: the mean of each contact's latest score over the 12 months before month `mi`."""
    total = count = 0
    for item in latest:
        if item is not None and item[0] >= mi - 12:
            total += item[2]
            count += 1
    return _category(total / count) if count else "unrated"


_CHANNEL_CUM = {survey: cumulative(weights) for survey, weights in CHANNEL_WEIGHTS.items()}


def response_rows(
    seed: int, account: DemoAccount, months: list[DemoMonth], codes, rng: random.Random
) -> Iterator[dict]:
    number = account.account_id[4:]
    for n, code in enumerate(codes, start=1):
        mi, second, survey_index, j, score = _unpack(code)
        survey = SURVEY_KEYS[survey_index]
        day, rest = divmod(second, 86400)
        hour, rest = divmod(rest, 3600)
        minute, sec = divmod(rest, 60)
        comment, theme = comment_for(rng, survey, score, account.pain_theme)
        yield {
            "external_id": f"demo-{seed}-{number}-{n}",
            "survey_key": survey,
            "contact_id": account.contacts[j][0],
            "account_id": account.account_id,
            "score": score,
            "comment": comment,
            "drivers": drivers_for(rng, survey, theme),
            "channel": CHANNELS[weighted(rng, _CHANNEL_CUM[survey])],
            "submitted_at": f"{months[mi].key}-{day + 1:02d}T{hour:02d}:{minute:02d}:{sec:02d}Z",
        }
