"""Reading import files (CSV with a header row, or JSON lines) row by row, validating every row.

Rows are yielded lazily with their line number in the file, so a large body is never held twice and every
rejection can name its line. CSV cells are text: numbers, lists and revenue are read from it here.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain import account_fields, answers, clock, validation
from chalicelib.domain.errors import DomainError, Invalid, Malformed, UnsupportedMediaType

CSV = "text/csv"
NDJSON = "application/x-ndjson"
CHANNELS = ("email", "link", "widget", "api", "phone", "sms", "in_app", "chat", "import", "other")
RESPONSE_FIELDS = {
    "external_id",
    "survey_id",
    "contact_id",
    "account_id",
    "score",
    "comment",
    "drivers",
    "channel",
    "submitted_at",
}
REVENUE_COLUMN = re.compile(r"^(revenue[:_ ])?([0-9]{4}-(0[1-9]|1[0-2]))\Z")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


NESTED = "nested too deeply"


class RowError(Exception):
    pass


def rows(body: str, content_type: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """Yield (line, row, error) for each non-blank row; row is None when the line cannot be read."""
    if content_type == NDJSON:
        for number, line in enumerate(io.StringIO(body), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                yield number, None, "not valid JSON"
                continue
            except RecursionError:
                yield number, None, NESTED
                continue
            if not isinstance(value, dict):
                yield number, None, "not a JSON object"
                continue
            yield number, value, None
        return
    if content_type == CSV:
        # strict: a quote that is never closed ends in an error at the end of the file instead of one cell
        # that silently holds every row after it.
        reader = csv.reader(io.StringIO(body, newline=""), strict=True)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise Malformed(f"The CSV header cannot be read: {error}") from None
        header = [h.strip() for h in header]
        if len(set(header)) != len(header) or not all(header):
            raise Malformed("The CSV header has empty or repeated column names.")
        while True:
            # A quoted cell may hold line breaks, so a row is named by the line it starts on.
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                if "end of data" in str(error):
                    # The reader ran to the end of the file inside a quoted cell: no row from here on can
                    # be told apart, so all of them are refused, by name, rather than guessed at.
                    yield (
                        start,
                        None,
                        (
                            f"a quoted cell opened on line {start} is never closed: lines {start} to "
                            f"{reader.line_num} (the end of the file) were not imported"
                        ),
                    )
                    return
                span = f" (lines {start} to {reader.line_num})" if reader.line_num > start else ""
                yield start, None, f"CSV error: {error}{span}"
                continue
            end = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                spans = (
                    f" (a quoted cell runs from line {start} to line {end}: check for a stray quote)"
                    if end > start
                    else ""
                )
                yield start, None, f"has {len(cells)} cells, the header has {len(header)}{spans}"
                continue
            yield start, {k: v for k, v in zip(header, cells, strict=True) if v != ""}, None
        return
    raise UnsupportedMediaType("Send imports as text/csv (with a header row) or application/x-ndjson.")


def _number(value: object, field: str) -> object:
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text) if re.fullmatch(r"-?[0-9]+", text) else float(text)
        except ValueError:
            raise RowError(f"{field} is not a number") from None
    return value


def account_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """An accounts-import row (JSON object or CSV cells) as validated account fields with account_id."""
    row = dict(row)
    revenue = row.pop("revenue", None)
    if isinstance(revenue, str):
        try:
            revenue = json.loads(revenue)
        except ValueError:
            raise RowError('revenue must be a JSON object like {"2026-01": 1200}') from None
        except RecursionError:
            raise RowError(f"revenue: {NESTED}") from None
    for key, found in [(k, found) for k in row if (found := REVENUE_COLUMN.match(k))]:
        revenue = dict(revenue or {})
        revenue[found.group(2)] = _number(row.pop(key), f"revenue for {key}")
    if isinstance(revenue, dict):
        revenue = {k: _number(v, f"revenue for {k}") for k, v in revenue.items()}
    if revenue is not None:
        row["revenue"] = revenue
    try:
        return account_fields.account(row, allow_id=True)
    except DomainError as error:
        raise RowError(_describe(error)) from None


def response_row(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A responses-import row as clean values; raises RowError naming every problem."""
    errors = validation.require_object(row, RESPONSE_FIELDS, {"external_id", "survey_id", "score", "submitted_at"})
    out = {
        "external_id": validation.text(errors, row, "external_id", max_len=200, min_len=1),
        "survey_id": validation.identifier(errors, row, "survey_id"),
        "contact_id": validation.identifier(errors, row, "contact_id"),
        "account_id": validation.identifier(errors, row, "account_id"),
        "comment": validation.text(errors, row, "comment", max_len=answers.MAX_COMMENT, default=None) or None,
        "channel": row.get("channel", "import"),
    }
    score = answers.score_value(errors, row) if "score" in row else None
    out["score"] = score
    drivers = row.get("drivers")
    if isinstance(drivers, str):
        drivers = [d for d in drivers.split("|") if d.strip()]
    out["drivers"] = validation.string_list(errors, {"drivers": drivers}, "drivers", max_items=20, max_len=100)
    if out["channel"] not in CHANNELS:
        errors.add("channel", "must be one of " + ", ".join(CHANNELS))
    if "submitted_at" in row:
        when = clock.parse_timestamp(row["submitted_at"])
        if when is None:
            errors.add("submitted_at", "must be an ISO 8601 date-time")
        elif when > now + timedelta(minutes=5) or when < EARLIEST:
            errors.add("submitted_at", "must be between 2000 and now")
        out["submitted_at"] = when
    if errors.fields:
        raise RowError("; ".join(f"{k}: {v}" for k, v in errors.fields.items()))
    return out


def _describe(error: DomainError) -> str:
    if error.fields:
        return "; ".join(f"{k}: {v}" for k, v in error.fields.items())
    return error.message


def check_content_type(content_type: str) -> str:
    if content_type not in (CSV, NDJSON):
        raise UnsupportedMediaType("Send imports as text/csv (with a header row) or application/x-ndjson.")
    return content_type


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("Import files must be UTF-8 text.") from None
