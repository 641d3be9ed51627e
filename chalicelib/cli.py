"""Command line: import files through the API in pages (with progress), and create the first admin token.

    python -m chalicelib.cli import accounts accounts.csv --url http://127.0.0.1:8000 --token npsa_...
    python -m chalicelib.cli import responses history.ndjson
    python -m chalicelib.cli create-token --name ops --scopes admin      # against the stage's DynamoDB table

`import` reads NPS_API_URL and NPS_ADMIN_TOKEN when the flags are left out. Each page is one request, so a
file of any size stays within API Gateway's and Lambda's request limits; line numbers in the report are the
file's own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

PAGE_ROWS = 2000
KINDS = {"accounts": "/v1/accounts/import", "responses": "/v1/responses/import"}


def pages(path: Path, rows_per_page: int) -> Iterator[tuple[int, str, str]]:
    """Yield (first line number of the page, content type, page text); CSV pages repeat the header."""
    csv_file = path.suffix.lower() == ".csv"
    with path.open(encoding="utf-8-sig", newline="") as fp:
        if csv_file:
            import csv

            reader = csv.reader(fp)
            header = next(reader, None)
            if header is None:
                return
            page: list[list[str]] = []
            first = 2
            while True:
                row = next(reader, None)
                if row is not None:
                    page.append(row)
                if page and (row is None or len(page) >= rows_per_page):
                    yield first, "text/csv", _csv_text([header, *page])
                    first = reader.line_num + 1
                    page = []
                if row is None:
                    return
        else:
            lines: list[str] = []
            first = 1
            for number, line in enumerate(fp, start=1):
                if not lines:
                    first = number
                lines.append(line if line.endswith("\n") else line + "\n")
                if len(lines) >= rows_per_page:
                    yield first, "application/x-ndjson", "".join(lines)
                    lines = []
            if lines:
                yield first, "application/x-ndjson", "".join(lines)


def _csv_text(rows: list[list[str]]) -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def post(url: str, token: str, content_type: str, body: str, attempts: int = 5) -> dict:
    data = body.encode()
    for attempt in range(attempts):
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own API
            url, data=data, method="POST",
            headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code in (429, 502, 503, 504) and attempt + 1 < attempts:
                time.sleep(2**attempt)
                continue
            raise SystemExit(f"import failed: HTTP {error.code}: {error.read().decode(errors='replace')}") from None
    raise SystemExit("import failed: the API kept refusing")  # pragma: no cover


def run_import(kind: str, path: Path, url: str, token: str, rows_per_page: int, out=sys.stderr) -> dict:
    """Send the file page by page; print progress; return the combined report with file line numbers."""
    total = {"accepted": 0, "written": 0, "unchanged": 0, "rejected": []}
    size = path.stat().st_size or 1
    sent = 0
    for first_line, ctype, text in pages(path, rows_per_page):
        report = post(url.rstrip("/") + KINDS[kind], token, ctype, text)
        offset = first_line - (2 if ctype == "text/csv" else 1)
        for key in ("accepted", "written", "unchanged"):
            total[key] += report.get(key, 0)
        total["rejected"] += [{"line": r["line"] + offset, "error": r["error"]} for r in report["rejected"]]
        sent += len(text.encode())
        print(
            f"\r{kind}: {min(100, 100 * sent // size):3d}%  accepted {total['accepted']}"
            f"  rejected {len(total['rejected'])}",
            end="", file=out, flush=True,
        )
    print(file=out)
    return total


def create_token(name: str, scopes: list[str]) -> str:
    from chalicelib.store import admin_tokens

    token, _ = admin_tokens.create(name, scopes)
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import a CSV or JSON-lines file through the API")
    imp.add_argument("kind", choices=sorted(KINDS))
    imp.add_argument("file", type=Path)
    imp.add_argument("--url", default=os.environ.get("NPS_API_URL", "http://127.0.0.1:8000"))
    imp.add_argument("--token", default=os.environ.get("NPS_ADMIN_TOKEN"))
    imp.add_argument("--rows-per-page", type=int, default=PAGE_ROWS)
    tok = sub.add_parser("create-token", help="create an admin token in this stage's table (uses AWS credentials)")
    tok.add_argument("--name", required=True)
    tok.add_argument("--scopes", default="admin", help="comma-separated: read, write, admin")
    args = parser.parse_args(argv)
    if args.command == "import":
        if not args.token:
            parser.error("--token or NPS_ADMIN_TOKEN is required")
        if not args.file.is_file():
            parser.error(f"{args.file} is not a file")
        report = run_import(args.kind, args.file, args.url, args.token, args.rows_per_page)
        print(json.dumps({**report, "rejected": report["rejected"][:50], "rejected_count": len(report["rejected"])},
                         indent=2))
        return 1 if report["rejected"] else 0
    token = create_token(args.name, [s.strip() for s in args.scopes.split(",") if s.strip()])
    print(token)
    print("Store this token now: only its hash is kept.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
