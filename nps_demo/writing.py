"""Writing demo rows as import files: JSON lines, or CSV as the import routes read it."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO


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
