"""Keeping the contact directory: one entry written by PUT, many by an import.

An import validates every row, reads each page's stored entries in one batch, and writes only the rows that
change something (importing the same file again reads but writes nothing). A row for an erased person is
refused with its line; the others are written."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from chalicelib.domain import contacts as rules
from chalicelib.domain.errors import DomainError, Gone, Invalid
from chalicelib.store import contacts as contact_store
from chalicelib.store.models import Contact
from chalicelib.usecases.imports import Report, pages

Rows = Iterable[tuple[int, dict[str, Any] | None, str | None]]


def put_contact(contact_id: str, body: object, now: datetime) -> tuple[Contact, bool]:
    """PUT /v1/contacts/{id}: the whole entry replaced; (entry, created)."""
    rules.check_id(contact_id)
    return contact_store.put(contact_id, rules.fields(body), now)


def _describe(error: DomainError) -> str:
    fields = getattr(error, "fields", None) or {}
    if fields:
        return "; ".join(f"{k}: {v}" for k, v in sorted(fields.items()))
    return str(error)


def _row_fields(row: dict[str, Any]) -> dict[str, Any]:
    """An import row as PUT-body fields: in CSV, `attributes` is a JSON object in one cell, or one column per
    attribute named `attributes.<name>`."""
    row = dict(row)
    attrs = row.get("attributes")
    if isinstance(attrs, str):
        try:
            row["attributes"] = json.loads(attrs)
        except (ValueError, RecursionError):
            raise Invalid(
                'attributes must be a JSON object like {"plan": "pro"}', fields={"attributes": "not JSON"}
            ) from None
    for key in [k for k in row if k.startswith("attributes.")]:
        value = row.pop(key)
        merged = row.get("attributes")
        row["attributes"] = {**(merged if isinstance(merged, dict) else {}), key.split(".", 1)[1]: value}
    return row


def import_contacts(rows: Rows, now: datetime) -> Report:
    """Upsert directory entries from import rows. A later row for the same contact in one file wins."""
    report = Report()

    def valid_rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for line, row, error in rows:
            if error or row is None:
                report.reject(line, error or "not a row")
                continue
            try:
                yield line, rules.fields(_row_fields(row), allow_id=True)
            except DomainError as problem:
                report.reject(line, _describe(problem))

    for page in pages(valid_rows()):
        latest: dict[str, tuple[int, dict[str, Any]]] = {}
        for line, values in page:
            latest[values["contact_id"]] = (line, values)
        stored = contact_store.batch_get(latest)
        for contact_id, (line, values) in latest.items():
            fields = {k: v for k, v in values.items() if k != "contact_id"}
            old = stored.get(contact_id)
            if old is not None and old.erased_at is not None:
                report.reject(line, "the person was erased: their entry cannot be written again")
                continue
            report.accepted += 1
            if old is not None and contact_store.directory_values(old) == fields:
                report.unchanged += 1
                continue
            try:
                contact_store.put(contact_id, fields, now)
            except Gone:  # erased between the read and the write
                report.accepted -= 1
                report.reject(line, "the person was erased: their entry cannot be written again")
                continue
            report.written += 1
        # Rows overtaken by a later row of the same contact in this page count as accepted, written by it.
        overtaken = len(page) - len(latest)
        report.accepted += overtaken
        report.unchanged += overtaken
    return report
