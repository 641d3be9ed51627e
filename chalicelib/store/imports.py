"""Writing validated import rows in pages: one BatchGetItem to find what is already there, one
BatchWriteItem per 25 changed rows. Importing the same file again reads but writes nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from chalicelib.domain import clock, importing
from chalicelib.domain.errors import NotFound
from chalicelib.domain.months import Month
from chalicelib.store import surveys as survey_store
from chalicelib.store.models import Account, Response
from chalicelib.store.responses import shard_of

PAGE = 100


def _pages(items: Iterable, size: int = PAGE) -> Iterator[list]:
    it = iter(items)
    while page := list(islice(it, size)):
        yield page


class Report:
    def __init__(self) -> None:
        self.accepted = 0
        self.written = 0
        self.unchanged = 0
        self.rejected: list[dict] = []

    def reject(self, line: int, error: str) -> None:
        self.rejected.append({"line": line, "error": error})

    def as_dict(self, max_rejected: int = 1000) -> dict:
        return {
            "accepted": self.accepted,
            "rejected": self.rejected[:max_rejected],
            "rejected_count": len(self.rejected),
            "written": self.written,
            "unchanged": self.unchanged,
        }


def _account_values(a: Account) -> dict:
    revenue = a.revenue.as_dict() if a.revenue is not None else {}
    return {
        "name": a.name,
        "segment": a.segment,
        "owner": a.owner,
        "manager": a.manager,
        "revenue": {k: float(v) for k, v in revenue.items()},
        "status": a.status,
    }


def import_accounts(rows: Iterable[tuple[int, dict | None, str | None]], now: datetime) -> Report:
    """Upsert accounts; a row equal to the stored account is not written again. A later row for the same
    account in one file wins."""
    report = Report()

    def valid_rows():
        for line, row, error in rows:
            if error:
                report.reject(line, error)
                continue
            try:
                yield line, importing.account_row(row)
            except importing.RowError as problem:
                report.reject(line, str(problem))

    for page in _pages(valid_rows()):
        latest = {fields["account_id"]: fields for _, fields in page}
        report.accepted += len(page)
        stored = {a.account_id: a for a in Account.batch_get(list(latest))}
        written = 0
        with Account.batch_write() as batch:
            for account_id, fields in latest.items():
                values = {k: v for k, v in fields.items() if k != "account_id"}
                old = stored.get(account_id)
                if old is not None and _account_values(old) == values:
                    continue
                batch.save(Account(account_id, updated_at=now, **values))
                written += 1
        report.written += written
        report.unchanged += len(page) - written
    return report


def response_id_for(external_id: str) -> str:
    return clock.stable_id("rsp", "import", external_id)


def import_responses(rows: Iterable[tuple[int, dict | None, str | None]], now: datetime) -> Report:
    """Insert history rows as responses, idempotent on external_id: a row whose response exists is left as it
    is. The stream then processes them like captured answers (tasks only for answers under 14 days old)."""
    report = Report()
    known_surveys: dict[str, object] = {}

    def survey_of(survey_id):
        if survey_id not in known_surveys:
            try:
                known_surveys[survey_id] = survey_store.get_cached(survey_id)
            except NotFound:
                known_surveys[survey_id] = None
        return known_surveys[survey_id]

    def valid_rows():
        for line, row, error in rows:
            if error:
                report.reject(line, error)
                continue
            try:
                values = importing.response_row(row, now)
            except importing.RowError as problem:
                report.reject(line, str(problem))
                continue
            if survey_of(values["survey_id"]) is None:
                report.reject(line, f"survey_id: no survey {values['survey_id']}")
                continue
            yield line, values

    for page in _pages(valid_rows()):
        report.accepted += len(page)
        by_id: dict[str, dict[str, Any]] = {}
        for _, values in page:
            by_id.setdefault(response_id_for(values["external_id"]), values)
        existing = {r.response_id for r in Response.batch_get(list(by_id), attributes_to_get=["response_id"])}
        written = 0
        with Response.batch_write() as batch:
            for response_id, v in by_id.items():
                if response_id in existing:
                    continue
                when = v["submitted_at"]
                month = str(Month.of(when))
                batch.save(
                    Response(
                        response_id,
                        survey_id=v["survey_id"],
                        external_id=v["external_id"],
                        contact_id=v["contact_id"],
                        account_id=v["account_id"],
                        score=v["score"],
                        comment=v["comment"],
                        drivers=v["drivers"] or None,
                        channel=v["channel"],
                        touchpoint=survey_of(v["survey_id"]).touchpoint,
                        first_submitted_at=when,
                        submitted_at=when,
                        month=month,
                        month_shard=f"{month}#{shard_of(response_id)}",
                        version=1,
                    )
                )
                written += 1
        report.written += written
        report.unchanged += len(page) - written
    return report
