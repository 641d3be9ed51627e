"""Seeded demo data: accounts with monthly revenue, contacts, surveys and a response history.

The same arguments give byte-identical output (standard library only, no clock except for the default
`end_month`). It feeds the local stack's demo loader and the benchmark:

    data = generate(seed=7, accounts=500, months=24)          # end_month: last full month before today (UTC)
    data.surveys()            # POST /v1/surveys bodies plus "key" (the loader maps key -> survey_id, drops it)
    data.accounts_rows()      # POST /v1/accounts/import rows
    data.contacts_rows()      # contacts for invitations
    data.iter_responses()     # POST /v1/responses/import rows (a generator), with survey_key for survey_id
    write_ndjson(rows, fp); write_csv(rows, fp)

    python -m nps_demo.generator --out demo/ --format csv --accounts 500

Row keys (always present, in this order):

- accounts: account_id ("acc-00001"), name, segment ("enterprise", "mid-market", "smb"), owner
  ("csm-3@example.com"), manager ("manager-1@example.com"), status ("active" or "churned": the account's state in
  end_month), revenue ({"YYYY-MM": amount} with a month only while the account is a customer; absent = 0).
- contacts: contact_id ("con-00001-2"), account_id, email ("first.last@<company-domain>.example"), name.
- responses: external_id ("demo-7-00001-12", stable), survey_key, contact_id, account_id, score (int 0-10),
  comment ("" when none), drivers (list of the survey's drivers), channel ("email", "widget", "api", "phone"),
  submitted_at ("2025-03-14T09:26:53Z").

In CSV a list is joined with "|" and a dict (the accounts' revenue) is one JSON column, which the accounts import
reads as it is. NDJSON writes the rows as they are.

The model. Each account has a latent sentiment that drifts slowly around its own level; every response score
is that sentiment plus a contact offset and noise. Each month an account's category is read from its contacts'
responses exactly as docs/metrics.md defines it (latest score per contact over the 12 months before the month), and the
category drives the month: detractor accounts churn about five times as often as promoter ones and shrink,
promoter ones expand. So revenue per NPS point comes out clearly positive. About a quarter of the accounts start
later (new logos, with an onboarding survey), and a few churned ones come back.

Scale: `generate()` keeps the accounts and each response packed in one 64-bit integer (8 MB a million);
`iter_responses()` builds the row dicts lazily, comments included, so writing a million rows never holds them.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import sys
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import NormalDist
from typing import IO

ACCOUNT_FIELDS = ("account_id", "name", "segment", "owner", "manager", "status", "revenue")
CONTACT_FIELDS = ("contact_id", "account_id", "email", "name")
RESPONSE_FIELDS = (
    "external_id",
    "survey_key",
    "contact_id",
    "account_id",
    "score",
    "comment",
    "drivers",
    "channel",
    "submitted_at",
)
DEMO_ORIGIN = "http://127.0.0.1:8000"
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

# ---- surveys ------------------------------------------------------------------------------------------------

SURVEYS = (
    {
        "key": "relationship",
        "name": "Quarterly relationship NPS",
        "kind": "relationship",
        "touchpoint": None,
        "question": "How likely are you to recommend us to a friend or colleague?",
        "drivers": ["Product quality", "Reliability", "Ease of use", "Features", "Customer support", "Value for money"],
        "throttle_days": 80,
    },
    {
        "key": "onboarding",
        "name": "Onboarding NPS",
        "kind": "transactional",
        "touchpoint": "onboarding",
        "question": "After getting started with us, how likely are you to recommend us to a friend or colleague?",
        "drivers": ["Setup", "Training", "Documentation", "Time to value"],
        "throttle_days": 30,
    },
    {
        "key": "support",
        "name": "Support ticket NPS",
        "kind": "transactional",
        "touchpoint": "support",
        "question": (
            "Based on your recent support request, how likely are you to recommend us to a friend or colleague?"
        ),
        "drivers": ["Response time", "Resolution", "Agent knowledge", "Communication"],
        "throttle_days": 14,
    },
    {
        "key": "renewal",
        "name": "Renewal NPS",
        "kind": "transactional",
        "touchpoint": "renewal",
        "question": "Now that your renewal is done, how likely are you to recommend us to a friend or colleague?",
        "drivers": ["Value for money", "Contract terms", "Account management", "Product roadmap"],
        "throttle_days": 180,
    },
)
SURVEY_KEYS = tuple(s["key"] for s in SURVEYS)

# The driver a respondent ticks for the theme of their comment, per survey.
THEME_DRIVER = {
    "relationship": {
        "product quality": "Product quality",
        "reliability": "Reliability",
        "usability": "Ease of use",
        "features": "Features",
        "support": "Customer support",
        "price": "Value for money",
        "billing": "Value for money",
    },
    "onboarding": {"onboarding": "Setup", "usability": "Training", "support": "Documentation"},
    "support": {"support": "Resolution", "reliability": "Resolution", "product quality": "Resolution"},
    "renewal": {
        "price": "Value for money",
        "billing": "Contract terms",
        "support": "Account management",
        "features": "Product roadmap",
    },
}
# Score shift, score noise and channel weights (email, widget, api, phone) by survey.
SURVEY_SCORE = {"relationship": (0.0, 1.2), "onboarding": (0.4, 1.2), "support": (-0.4, 1.8), "renewal": (-0.3, 1.2)}
CHANNELS = ("email", "widget", "api", "phone")
CHANNEL_WEIGHTS = {
    "relationship": (75, 15, 5, 5),
    "onboarding": (70, 10, 5, 15),
    "support": (55, 30, 10, 5),
    "renewal": (55, 5, 5, 35),
}

# ---- comments -----------------------------------------------------------------------------------------------

THEMES = ("price", "support", "onboarding", "product quality", "reliability", "usability", "billing", "features")
PRAISE = {
    "price": [
        "Great value for money.",
        "The pricing is fair for what we get.",
        "Affordable compared to the alternatives we looked at.",
        "Worth the money, it paid for itself in a quarter.",
    ],
    "support": [
        "Support is fast and friendly.",
        "The support team solved our ticket the same day.",
        "Our account manager is proactive and really knows our business.",
        "Customer service is excellent, always quick to respond.",
    ],
    "onboarding": [
        "Onboarding was smooth and well organised.",
        "Setup took less than a day thanks to the great documentation.",
        "The training sessions got the whole team productive in the first week.",
        "Migration from our old tool was painless.",
    ],
    "product quality": [
        "Solid product, it just works.",
        "A polished, well built product.",
        "The quality keeps getting better with every release.",
        "Great product overall.",
    ],
    "reliability": [
        "Rock solid uptime, we have not had an outage in months.",
        "Very reliable, even at our peak volumes.",
        "Performance is excellent and stable.",
        "Never had to worry about downtime.",
    ],
    "usability": [
        "Easy to use, the whole team picked it up quickly.",
        "The interface is clean and intuitive.",
        "Simple to navigate, everything is where you expect it.",
        "Really user friendly.",
    ],
    "billing": [
        "Billing is clear and invoices are always correct.",
        "Payment and invoice handling is hassle-free.",
        "The subscription terms are transparent.",
    ],
    "features": [
        "The reporting dashboard saves me hours every week.",
        "Love the integrations with our CRM.",
        "The automation features are a game changer for our workflow.",
        "The API is well designed and easy to integrate.",
    ],
}
COMPLAINTS = {
    "price": [
        "Too expensive for what it does.",
        "The price increase at renewal was hard to justify.",
        "Not worth the money anymore.",
        "Pricing is confusing and keeps going up.",
        "We are looking at cheaper alternatives because of the cost.",
    ],
    "support": [
        "Support takes days to answer a ticket.",
        "I opened a ticket two weeks ago and never got a reply.",
        "The support team keeps escalating without solving anything.",
        "Customer service was unresponsive when we had an urgent problem.",
        "We never hear from our account manager.",
    ],
    "onboarding": [
        "Onboarding was chaotic and took far too long.",
        "Setup was painful and the documentation is out of date.",
        "There was no real training, we had to figure it out ourselves.",
        "The migration lost half of our historical data.",
    ],
    "product quality": [
        "Too many bugs in every release.",
        "Half of the new features feel half-baked.",
        "The export is broken again.",
        "Half the time things are not working as advertised.",
        "Quality has gone downhill this year.",
    ],
    "reliability": [
        "Another outage this month, the third one this quarter.",
        "The app is slow and times out during our busiest hours.",
        "We had downtime right before a customer demo.",
        "Unreliable sync, we keep seeing errors.",
        "Performance is sluggish with larger data sets.",
    ],
    "usability": [
        "The interface is confusing and clunky.",
        "Hard to use, simple tasks take too many clicks.",
        "Navigation is unintuitive for new users.",
        "The new layout is complicated and cumbersome.",
    ],
    "billing": [
        "We were double charged and the refund took a month.",
        "The invoice never matches our contract.",
        "Billing errors every quarter.",
        "We tried to cancel an unused seat and it took three calls.",
    ],
    "features": [
        "Missing basic reporting that competitors have.",
        "The integration with our ERP is still missing.",
        "We asked for custom fields a year ago and it is still not on the roadmap.",
        "Lacks a proper mobile app.",
        "Would love better export options.",
    ],
}
PROMOTER_OPENERS = ("", "", "Love it! ", "Great experience overall. ", "Very happy. ", "Highly recommend. ")
PASSIVE_OPENERS = ("", "It's okay. ", "Decent overall. ", "Mostly fine. ")
DETRACTOR_OPENERS = ("", "", "Very disappointed. ", "Frustrating experience. ", "Honestly, ", "Not happy. ")
PASSIVE_JOINERS = (" But ", " However, ", " On the other hand, ")
# Themes a comment is about, by survey (weights in THEMES order); an account's own pain theme comes first.
THEME_WEIGHTS = {
    "relationship": (3, 3, 1, 3, 3, 3, 1, 3),
    "onboarding": (1, 2, 8, 1, 1, 3, 1, 1),
    "support": (1, 10, 1, 2, 2, 1, 1, 1),
    "renewal": (8, 2, 0, 1, 1, 1, 4, 3),
}

# ---- names --------------------------------------------------------------------------------------------------

NAME_HEADS = (
    "Blue",
    "North",
    "Silver",
    "Bright",
    "Iron",
    "Cedar",
    "Summit",
    "Harbor",
    "Granite",
    "Maple",
    "Crimson",
    "Golden",
    "Swift",
    "Clear",
    "Pine",
    "River",
    "Stone",
    "Oak",
    "Polar",
    "Sun",
    "Red",
    "Green",
    "Ever",
    "Atlas",
    "Nova",
    "Apex",
    "Pioneer",
    "Bay",
    "Lake",
    "Prairie",
    "Coastal",
    "Metro",
    "Union",
    "Liberty",
    "Vertex",
    "Quantum",
    "Falcon",
    "Eagle",
    "Willow",
    "Aspen",
    "Copper",
    "Orchid",
    "Lumen",
    "Vista",
    "Beacon",
    "Sterling",
    "Alder",
    "Birch",
    "Cobalt",
    "Juniper",
)
NAME_TAILS = (
    "field",
    "point",
    "wave",
    "bridge",
    "gate",
    "path",
    "works",
    "line",
    "view",
    "peak",
    "forge",
    "light",
    "mark",
    "port",
    "ridge",
    "wood",
    "dale",
    "spring",
    "brook",
    "star",
    "well",
    "side",
    "hill",
    "haven",
    "rock",
    "way",
    "land",
    "shore",
    "vale",
    "stead",
)
NAME_WORDS = (
    "River",
    "Peak",
    "Harbor",
    "Signal",
    "Anchor",
    "Meadow",
    "Canyon",
    "Compass",
    "Orbit",
    "Pixel",
    "Thread",
    "Lantern",
    "Summit",
    "Arrow",
    "Prism",
    "Cloud",
    "Ledger",
    "Foundry",
    "Garden",
    "Circuit",
    "Mesa",
    "Delta",
    "Fjord",
    "Tide",
    "Ember",
    "Glacier",
    "Harvest",
    "Keystone",
    "Monarch",
    "Nimbus",
    "Quarry",
    "Relay",
    "Sparrow",
    "Timber",
    "Vector",
    "Zenith",
    "Cascade",
    "Horizon",
    "Meridian",
    "Kestrel",
)
NAME_KINDS = (
    "Logistics",
    "Systems",
    "Labs",
    "Foods",
    "Health",
    "Analytics",
    "Manufacturing",
    "Retail",
    "Energy",
    "Financial",
    "Media",
    "Software",
    "Consulting",
    "Robotics",
    "Outfitters",
    "Pharma",
    "Insurance",
    "Travel",
    "Networks",
    "Partners",
    "Supply",
    "Studios",
    "Bank",
    "Motors",
    "Telecom",
    "Learning",
    "Realty",
    "Security",
    "Apparel",
    "Biotech",
)
FIRST_NAMES = (
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Oliver",
    "Sophia",
    "Elijah",
    "Isabella",
    "James",
    "Mia",
    "William",
    "Amelia",
    "Benjamin",
    "Harper",
    "Lucas",
    "Evelyn",
    "Henry",
    "Abigail",
    "Theodore",
    "Emily",
    "Jack",
    "Ella",
    "Levi",
    "Elizabeth",
    "Alexander",
    "Sofia",
    "Mateo",
    "Avery",
    "Daniel",
    "Scarlett",
    "Michael",
    "Aria",
    "Mason",
    "Chloe",
    "Sebastian",
    "Layla",
    "Ethan",
    "Nora",
    "Logan",
    "Lily",
    "Owen",
    "Hannah",
    "Samuel",
    "Zoe",
    "Jacob",
    "Priya",
    "Arjun",
    "Mei",
    "Wei",
    "Yuki",
    "Kenji",
    "Fatima",
    "Omar",
    "Amara",
    "Kwame",
    "Lucia",
    "Diego",
    "Ingrid",
    "Lars",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Kim",
    "Chen",
    "Singh",
    "Tanaka",
    "Okafor",
    "Novak",
    "Larsen",
    "Rossi",
    "Muller",
)


# ---- the data -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Account:
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
class _Month:
    key: str  # YYYY-MM
    number: int  # 1-12
    days: int


class DemoData:
    """A generated demo data set; rows are built on demand, responses streamed."""

    def __init__(self, seed: int, months: list[_Month], accounts: list[_Account], events: array) -> None:
        self.seed = seed
        self._months = months
        self._accounts = accounts
        self._events = events

    @property
    def months(self) -> list[str]:
        """The months of the revenue history, oldest first."""
        return [m.key for m in self._months]

    @property
    def end_month(self) -> str:
        return self._months[-1].key

    def surveys(self) -> list[dict]:
        """POST /v1/surveys bodies, each with an extra "key" (the responses' survey_key) to remove before posting."""
        out = []
        for spec in SURVEYS:
            body = dict(spec)
            body["drivers"] = list(spec["drivers"])
            body["allowed_origins"] = [DEMO_ORIGIN]
            body["loop_rules"] = {"categories": ["detractor"], "sla_hours": 48}
            out.append(body)
        return out

    def accounts_rows(self) -> list[dict]:
        return [
            {
                "account_id": a.account_id,
                "name": a.name,
                "segment": a.segment.name,
                "owner": a.owner,
                "manager": a.manager,
                "status": a.status,
                "revenue": dict(a.revenue),
            }
            for a in self._accounts
        ]

    def contacts_rows(self) -> list[dict]:
        return [
            {"contact_id": cid, "account_id": a.account_id, "email": email, "name": name}
            for a in self._accounts
            for cid, email, name in a.contacts
        ]

    def iter_responses(self, chronological: bool = False) -> Iterator[dict]:
        """Response history rows, account by account (each account's in time order). `chronological=True` sorts
        them all by submitted_at instead, which holds every row in memory: meant for small data sets."""
        if chronological:
            rows = list(self.iter_responses())
            rows.sort(key=lambda r: (r["submitted_at"], r["external_id"]))
            yield from rows
            return
        # Comments, drivers and channels come from their own stream, drawn in this fixed order.
        text = random.Random(f"nps-demo/{self.seed}/text")
        for account in self._accounts:
            codes = self._events[account.first_event : account.first_event + account.event_count]
            yield from _response_rows(self.seed, account, self._months, codes, text)

    @property
    def response_count(self) -> int:
        return len(self._events)


def generate(seed: int = 7, accounts: int = 500, months: int = 24, end_month: str | None = None) -> DemoData:
    """Generate a demo data set; `end_month` (YYYY-MM) defaults to the last full calendar month before today UTC."""
    if accounts < 1 or months < 1:
        raise ValueError("accounts and months must be at least 1")
    if end_month is None:
        end_month = last_full_month(datetime.now(UTC))
    month_list = _month_range(end_month, months)
    owners = max(3, math.ceil(accounts / ACCOUNTS_PER_OWNER))
    width = max(5, len(str(accounts)))
    # One stream in a fixed order; a string seed is hashed (SHA-512) by random.Random, independent of PYTHONHASHSEED.
    rng = random.Random(f"nps-demo/{seed}")
    taken: set[str] = set()
    events = array("q")
    out = []
    for index in range(1, accounts + 1):
        account = _new_account(rng, index, width, owners, len(month_list), taken)
        account.first_event = len(events)
        revenue = _simulate(account, month_list, rng, events)
        account.event_count = len(events) - account.first_event
        account.revenue = {m.key: r for m, r in zip(month_list, revenue, strict=True) if r > 0}
        account.status = "active" if revenue[-1] > 0 else "churned"
        out.append(account)
    return DemoData(seed, month_list, out, events)


def last_full_month(now: datetime) -> str:
    """The calendar month before `now`'s month, as YYYY-MM."""
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


# ---- writing ------------------------------------------------------------------------------------------------


def write_ndjson(rows: Iterable[dict], fp: IO[str]) -> int:
    """Write one JSON object a line; returns the number of rows."""
    count = 0
    encode = _JSON.encode
    write = fp.write
    for row in rows:
        write(encode(row) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict], fp: IO[str], fields: Iterable[str] | None = None) -> int:
    """Write CSV with a header (the first row's keys unless `fields` is given); lists are joined with "|", dicts
    are written as JSON, None as an empty cell. Returns the number of rows. Open `fp` with newline=""."""
    iterator = iter(rows)
    first = None
    if fields is None:
        first = next(iterator, None)
        if first is None:
            return 0
        fields = list(first)
    fields = list(fields)
    writer = csv.writer(fp, lineterminator="\n")
    writer.writerow(fields)
    count = 0
    if first is not None:
        writer.writerow([_cell(first.get(f)) for f in fields])
        count = 1
    for row in iterator:
        writer.writerow([_cell(row.get(f)) for f in fields])
        count += 1
    return count


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "|".join(str(v) for v in value)
    if isinstance(value, dict):
        return _JSON.encode(value)
    return str(value)


# One encoder for every row: json.dumps with options builds a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


# ---- the model ----------------------------------------------------------------------------------------------


def _month_range(end_month: str, count: int) -> list[_Month]:
    try:
        year, month = (int(p) for p in end_month.split("-"))
    except ValueError:
        raise ValueError("end_month must be YYYY-MM") from None
    if len(end_month) != 7 or not 1 <= month <= 12:
        raise ValueError("end_month must be YYYY-MM")
    out = []
    for _ in range(count):
        out.append(_Month(f"{year:04d}-{month:02d}", month, _days_in(year, month)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    out.reverse()
    return out


def _days_in(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _slug(text: str) -> str:
    return "-".join("".join(ch for ch in word.lower() if ch.isalnum()) for word in text.split())


def _pick(rng: random.Random, items: tuple[str, ...]) -> str:
    return items[int(rng.random() * len(items))]


def _company_name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return _pick(rng, NAME_HEADS) + _pick(rng, NAME_TAILS) + " " + _pick(rng, NAME_KINDS)
    return _pick(rng, NAME_HEADS) + " " + _pick(rng, NAME_WORDS) + " " + _pick(rng, NAME_KINDS)


# Standard normal quantiles at evenly spaced probabilities: a table lookup per draw is several times faster
# than random.gauss, which matters at 50,000 accounts, and is fine-grained enough for demo noise.
_NORMAL_SIZE = 4096
_NORMAL = tuple(NormalDist().inv_cdf((i + 0.5) / _NORMAL_SIZE) for i in range(_NORMAL_SIZE))


def _normal(rng: random.Random) -> float:
    return _NORMAL[int(rng.random() * _NORMAL_SIZE)]


def _weighted(rng: random.Random, cumulative: tuple[float, ...]) -> int:
    """Index drawn with cumulative weights (last one = total)."""
    r = rng.random() * cumulative[-1]
    for i, edge in enumerate(cumulative):
        if r < edge:
            return i
    return len(cumulative) - 1


def _cumulative(weights) -> tuple[float, ...]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return tuple(out)


_SEGMENT_CUM = _cumulative(s.share for s in SEGMENTS)
_CONTACTS_CUM = {s.name: _cumulative(s.contact_weights) for s in SEGMENTS}


def _new_account(rng: random.Random, index: int, width: int, owners: int, months: int, taken: set[str]) -> _Account:
    number = f"{index:0{width}d}"
    for _ in range(8):
        name = _company_name(rng)
        if name not in taken:
            break
    else:
        name = f"{name} {number}"
    taken.add(name)
    domain = _slug(name) + ".example"
    segment = SEGMENTS[_weighted(rng, _SEGMENT_CUM)]
    owner_number = int(rng.random() * owners) + 1
    manager_number = (owner_number - 1) // OWNERS_PER_MANAGER + 1
    contacts = []
    emails = set()
    for j in range(1, _weighted(rng, _CONTACTS_CUM[segment.name]) + 2):
        first, last = _pick(rng, FIRST_NAMES), _pick(rng, LAST_NAMES)
        local = f"{first}.{last}".lower()
        if local in emails:
            local = f"{local}{j}"
        emails.add(local)
        contacts.append((f"con-{number}-{j}", f"{local}@{domain}", f"{first} {last}"))
    start = 1 + int(rng.random() * (months - 1)) if months > 1 and rng.random() < NEW_LOGO_SHARE else 0
    level = min(9.8, max(2.0, 8.2 + segment.sentiment_shift + 1.3 * _normal(rng)))
    return _Account(
        account_id=f"acc-{number}",
        name=name,
        domain=domain,
        segment=segment,
        owner=f"csm-{owner_number}@example.com",
        manager=f"manager-{manager_number}@example.com",
        contacts=contacts,
        start=start,
        revenue0=round(
            max(segment.revenue_floor, segment.revenue_median * math.exp(segment.revenue_sigma * _normal(rng))), 2
        ),
        level=level,
        sentiment0=level + 0.6 * _normal(rng),
        contact_offsets=[0.7 * _normal(rng) for _ in contacts],
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


def _simulate(account: _Account, months: list[_Month], rng: random.Random, events: array) -> list[float]:
    """Run one account month by month; returns its monthly revenue and appends its responses to `events`
    (packed, in time order)."""
    rand = rng.random
    normal, size = _NORMAL, _NORMAL_SIZE
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


def _response_rows(seed: int, account: _Account, months: list[_Month], codes, rng: random.Random) -> Iterator[dict]:
    number = account.account_id[4:]
    for n, code in enumerate(codes, start=1):
        mi, second, survey_index, j, score = _unpack(code)
        survey = SURVEY_KEYS[survey_index]
        day, rest = divmod(second, 86400)
        hour, rest = divmod(rest, 3600)
        minute, sec = divmod(rest, 60)
        comment, theme = _comment(rng, survey, score, account.pain_theme)
        yield {
            "external_id": f"demo-{seed}-{number}-{n}",
            "survey_key": survey,
            "contact_id": account.contacts[j][0],
            "account_id": account.account_id,
            "score": score,
            "comment": comment,
            "drivers": _drivers(rng, survey, theme),
            "channel": CHANNELS[_weighted(rng, _CHANNEL_CUM[survey])],
            "submitted_at": f"{months[mi].key}-{day + 1:02d}T{hour:02d}:{minute:02d}:{sec:02d}Z",
        }


_THEME_CUM = {survey: _cumulative(weights) for survey, weights in THEME_WEIGHTS.items()}
_CHANNEL_CUM = {survey: _cumulative(weights) for survey, weights in CHANNEL_WEIGHTS.items()}
_DRIVERS = {spec["key"]: spec["drivers"] for spec in SURVEYS}


def _theme(rng: random.Random, survey: str, pain_theme: int | None = None) -> str:
    """A comment's theme: the survey's usual ones, or (for complaints) often the account's own pain point."""
    if pain_theme is not None and rng.random() < 0.4:
        return THEMES[pain_theme]
    return THEMES[_weighted(rng, _THEME_CUM[survey])]


def _comment(rng: random.Random, survey: str, score: int, pain_theme: int) -> tuple[str, str | None]:
    """A comment (often empty) and its main theme; promoters praise, detractors complain, passives do both."""
    if score >= 9:
        if rng.random() >= 0.4:
            return "", None
        theme = _theme(rng, survey)
        text = _pick(rng, PROMOTER_OPENERS) + _pick(rng, PRAISE[theme])
        if rng.random() < 0.3:
            other = _pick(rng, THEMES)
            if other != theme:
                text += " " + _pick(rng, PRAISE[other])
        return text, theme
    if score >= 7:
        if rng.random() >= 0.35:
            return "", None
        good = _theme(rng, survey)
        bad = _theme(rng, survey, pain_theme)
        if bad == good or rng.random() < 0.3:
            return _pick(rng, PASSIVE_OPENERS) + _pick(rng, PRAISE[good]), good
        joiner = _pick(rng, PASSIVE_JOINERS)
        return _pick(rng, PRAISE[good]) + joiner + _lower_first(_pick(rng, COMPLAINTS[bad])), bad
    if rng.random() >= 0.6:
        return "", None
    theme = _theme(rng, survey, pain_theme)
    opener = _pick(rng, DETRACTOR_OPENERS)
    complaint = _pick(rng, COMPLAINTS[theme])
    text = opener + (_lower_first(complaint) if opener.endswith(", ") else complaint)
    if rng.random() < 0.35:
        other = _pick(rng, THEMES)
        if other != theme:
            text += " " + _pick(rng, COMPLAINTS[other])
    return text, theme


def _lower_first(sentence: str) -> str:
    return sentence if sentence.startswith("I ") else sentence[0].lower() + sentence[1:]


def _drivers(rng: random.Random, survey: str, theme: str | None) -> list[str]:
    """Most respondents tick the driver of what they wrote about, some one more; a third tick none."""
    if rng.random() >= 0.65:
        return []
    options = _DRIVERS[survey]
    chosen = {THEME_DRIVER[survey].get(theme) or _pick(rng, options)} if theme else {_pick(rng, options)}
    if rng.random() < 0.3:
        chosen.add(_pick(rng, options))
    return [d for d in options if d in chosen]


# ---- command line -------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write seeded NPS demo data files.")
    parser.add_argument("--out", type=Path, required=True, help="directory for the files")
    parser.add_argument("--format", choices=("ndjson", "csv"), default="ndjson")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--end-month", default=None, help="YYYY-MM (default: last full month)")
    args = parser.parse_args(argv)
    data = generate(args.seed, args.accounts, args.months, args.end_month)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "surveys.json").write_text(json.dumps(data.surveys(), indent=2) + "\n", encoding="utf-8")
    files = {
        "accounts": (data.accounts_rows(), ACCOUNT_FIELDS),
        "contacts": (data.contacts_rows(), CONTACT_FIELDS),
        "responses": (data.iter_responses(), RESPONSE_FIELDS),
    }
    for name, (rows, fields) in files.items():
        path = args.out / f"{name}.{args.format}"
        with path.open("w", encoding="utf-8", newline="") as fp:
            count = write_csv(rows, fp, fields) if args.format == "csv" else write_ndjson(rows, fp)
        print(f"{path}: {count} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
