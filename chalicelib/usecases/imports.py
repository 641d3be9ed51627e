"""Importing accounts with revenue, and response history from other tools: every row is validated
(domain/importing.py) and each bad one rejected with its line, the rest imported in pages of 100. A row equal
to what is stored is not written again, so importing the same file again reads but writes nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from chalicelib.domain import importing
from chalicelib.domain.errors import NotFound
from chalicelib.store import imports as import_store
from chalicelib.store import surveys as survey_store
from chalicelib.store.models import Survey

PAGE = 100
Rows = Iterable[tuple[int, dict[str, Any] | None, str | None]]


def pages(items: Iterable[Any], size: int = PAGE) -> Iterator[list[Any]]:
    it = iter(items)
    while page := list(islice(it, size)):
        yield page


class Report:
    def __init__(self) -> None:
        self.accepted = 0
        self.written = 0
        self.unchanged = 0
        self.rejected: list[dict[str, Any]] = []

    def reject(self, line: int, error: str) -> None:
        self.rejected.append({"line": line, "error": error})

    def as_dict(self, max_rejected: int = 1000) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": self.rejected[:max_rejected],
            "rejected_count": len(self.rejected),
            "written": self.written,
            "unchanged": self.unchanged,
        }


def import_accounts(rows: Rows, now: datetime) -> Report:
    """Upsert accounts; a row equal to the stored account is not written again. A later row for the same
    account in one file wins."""
    report = Report()

    def valid_rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for line, row, error in rows:
            if error or row is None:
                report.reject(line, error or "not a row")
                continue
            try:
                yield line, importing.account_row(row)
            except importing.RowError as problem:
                report.reject(line, str(problem))

    for page in pages(valid_rows()):
        latest = {fields["account_id"]: fields for _, fields in page}
        report.accepted += len(page)
        stored = import_store.stored_accounts(latest)
        changed = []
        for account_id, fields in latest.items():
            values = {k: v for k, v in fields.items() if k != "account_id"}
            if stored.get(account_id) != values:
                changed.append((account_id, values))
        import_store.save_accounts(changed, now)
        report.written += len(changed)
        report.unchanged += len(page) - len(changed)
    return report


def import_responses(rows: Rows, now: datetime) -> Report:
    """Insert history rows as responses, idempotent on external_id: a row whose response exists is left as it
    is. The stream then processes them like captured answers (tasks only for answers under 14 days old)."""
    report = Report()
    known_surveys: dict[str, Survey | None] = {}

    def survey_of(survey_id: str) -> Survey | None:
        if survey_id not in known_surveys:
            try:
                known_surveys[survey_id] = survey_store.get_cached(survey_id)
            except NotFound:
                known_surveys[survey_id] = None
        return known_surveys[survey_id]

    def valid_rows() -> Iterator[tuple[int, dict[str, Any], Survey]]:
        for line, row, error in rows:
            if error or row is None:
                report.reject(line, error or "not a row")
                continue
            try:
                values = importing.response_row(row, now)
            except importing.RowError as problem:
                report.reject(line, str(problem))
                continue
            survey = survey_of(values["survey_id"])
            if survey is None:
                report.reject(line, f"survey_id: no survey {values['survey_id']}")
                continue
            yield line, values, survey

    for page in pages(valid_rows()):
        report.accepted += len(page)
        by_id: dict[str, tuple[dict[str, Any], Survey]] = {}
        for _, values, survey in page:
            by_id.setdefault(import_store.response_id_for(values["external_id"]), (values, survey))
        existing = import_store.existing_responses(by_id)
        new = [(rid, values, survey.touchpoint) for rid, (values, survey) in by_id.items() if rid not in existing]
        import_store.save_responses(new)
        report.written += len(new)
        report.unchanged += len(page) - len(new)
    return report
