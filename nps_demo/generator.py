"""Seeded demo data: accounts with monthly revenue, contacts, surveys and a response history.

The same arguments give byte-identical output (pure Python, no clock except for the default
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
import json
import math
import random
import sys
from array import array
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from chalicelib.domain import months
from nps_demo.simulation import (
    ACCOUNTS_PER_OWNER,
    DemoAccount,
    DemoMonth,
    month_range,
    new_account,
    response_rows,
    simulate,
)
from nps_demo.surveys import SURVEYS
from nps_demo.writing import write_csv, write_ndjson

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
# ---- the data -----------------------------------------------------------------------------------------------


class DemoData:
    """A generated demo data set; rows are built on demand, responses streamed."""

    def __init__(self, seed: int, months: list[DemoMonth], accounts: list[DemoAccount], events: array) -> None:
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
            yield from response_rows(self.seed, account, self._months, codes, text)

    @property
    def response_count(self) -> int:
        return len(self._events)


def generate(seed: int = 7, accounts: int = 500, months: int = 24, end_month: str | None = None) -> DemoData:
    """Generate a demo data set; `end_month` (YYYY-MM) defaults to the last full calendar month before today UTC."""
    if accounts < 1 or months < 1:
        raise ValueError("accounts and months must be at least 1")
    if end_month is None:
        end_month = last_full_month(datetime.now(UTC))
    month_list = month_range(end_month, months)
    owners = max(3, math.ceil(accounts / ACCOUNTS_PER_OWNER))
    width = max(5, len(str(accounts)))
    # One stream in a fixed order; a string seed is hashed (SHA-512) by random.Random, independent of PYTHONHASHSEED.
    rng = random.Random(f"nps-demo/{seed}")
    taken: set[str] = set()
    events = array("q")
    out = []
    for index in range(1, accounts + 1):
        account = new_account(rng, index, width, owners, len(month_list), taken)
        account.first_event = len(events)
        revenue = simulate(account, month_list, rng, events)
        account.event_count = len(events) - account.first_event
        account.revenue = {m.key: r for m, r in zip(month_list, revenue, strict=True) if r > 0}
        account.status = "active" if revenue[-1] > 0 else "churned"
        out.append(account)
    return DemoData(seed, month_list, out, events)


def last_full_month(now: datetime) -> str:
    """The calendar month before `now`'s month, as YYYY-MM."""
    return months.previous(now)


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
