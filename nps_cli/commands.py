"""Command line: import files through the API in pages (with progress), and create the first admin token.

    NPS_ADMIN_TOKEN=npsa_... python -m nps_cli import accounts accounts.csv --url http://127.0.0.1:8000
    python -m nps_cli import responses history.ndjson
    python -m nps_cli create-token --name ops --scopes admin      # against the stage's DynamoDB table

`import` reads NPS_API_URL and NPS_ADMIN_TOKEN when the flags are left out. Each page is one request, so a
file of any size stays within API Gateway's and Lambda's request limits; line numbers in the report are the
file's own. Imports are idempotent (accounts by id, responses by external_id), so a page whose answer was lost
is sent again, and a run that could not finish can be run again as it is.

Exit codes: 0 every row imported; 1 finished, some rows rejected; 2 usage (arguments, unreadable file);
3 could not finish (the API unreachable after retries, or it refused a page); 130 interrupted.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PAGE_ROWS = 2000
ATTEMPTS = 5
KINDS = {"accounts": "/v1/accounts/import", "responses": "/v1/responses/import"}
# Answers that mean "busy, try again" (throttling, a Lambda that failed or timed out behind API Gateway).
RETRY_STATUSES = (429, 502, 503, 504)
RETRY_DELAY = 0.5  # seconds before the first retry, doubled for each further one
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 30.0

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNFINISHED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class PageFailed(Exception):
    """A page did not go through: the API could not be reached after retries, or it refused the page."""


@dataclass
class Progress:
    """What went through so far."""

    pages: int = 0
    last_line: int = 0  # the file's last line that went through (0: none)
    next_line: int = 0  # the first line not sent yet
    report: dict = field(default_factory=lambda: {"accepted": 0, "written": 0, "unchanged": 0, "rejected": []})


def pages(path: Path, rows_per_page: int) -> Iterator[tuple[int, int, str, str]]:
    """Yield (first line, last line of the page, content type, page text); CSV pages repeat the header."""
    csv_file = path.suffix.lower() == ".csv"
    with path.open(encoding="utf-8-sig", newline="") as fp:
        if csv_file:
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
                    yield first, reader.line_num, "text/csv", _csv_text([header, *page])
                    first = reader.line_num + 1
                    page = []
                if row is None:
                    return
        else:
            lines: list[str] = []
            first = number = 1
            for number, line in enumerate(fp, start=1):
                if not lines:
                    first = number
                lines.append(line if line.endswith("\n") else line + "\n")
                if len(lines) >= rows_per_page:
                    yield first, number, "application/x-ndjson", "".join(lines)
                    lines = []
            if lines:
                yield first, number, "application/x-ndjson", "".join(lines)


def _csv_text(rows: list[list[str]]) -> str:
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def post(url: str, token: str, content_type: str, body: str, attempts: int = ATTEMPTS, out=sys.stderr) -> dict:
    """POST one page; its import report. Busy answers and lost connections are retried with backoff (the
    import is idempotent, so a page the API applied but whose answer was lost changes nothing the second time).
    PageFailed when it does not go through."""
    data = body.encode()
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own API
            url,
            data=data,
            method="POST",
            headers={"Content-Type": content_type, "Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        wait = min(MAX_DELAY, RETRY_DELAY * 2 ** (attempt - 1))
        try:
            with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
                text = response.read()
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code} {_error_text(error)}"
            if error.code not in RETRY_STATUSES:
                raise PageFailed(f"the API refused the page: {problem}") from None
            wait = _retry_after(error.headers.get("Retry-After"), wait)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            # Refused, reset or dropped connections, timeouts, DNS: the network, not the page.
            problem = _network_text(error)
        else:
            try:
                report = json.loads(text)
            except ValueError:
                raise PageFailed("the API answered something that is not an import report") from None
            if not isinstance(report, dict) or not isinstance(report.get("rejected"), list):
                raise PageFailed("the API answered something that is not an import report")
            return report
        if attempt == attempts:
            raise PageFailed(f"{problem} (tried {attempts} times)")
        _end_progress_line(out)
        print(f"  {problem}; retrying in {wait:g} s (attempt {attempt + 1} of {attempts})", file=out, flush=True)
        time.sleep(wait)
    raise PageFailed("no attempt was made")  # attempts < 1


_progress_open = False  # a progress line (rewritten with \r) is on the terminal without its newline


def _end_progress_line(out) -> None:
    global _progress_open
    if _progress_open:
        print(file=out)
        _progress_open = False


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        body = error.read()
    except (OSError, http.client.HTTPException):
        return ""
    try:
        problem = json.loads(body)["error"]
        return f"{problem['code']}: {problem['message']}"
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace")[:200].strip()


def _network_text(error: Exception) -> str:
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    detail = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
    return f"could not reach the API ({detail})"


def _retry_after(value: str | None, default: float) -> float:
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value)))
    except (TypeError, ValueError):
        return default


def run_import(
    kind: str,
    path: Path,
    url: str,
    token: str,
    rows_per_page: int,
    out=sys.stderr,
    attempts: int = ATTEMPTS,
    progress: Progress | None = None,
) -> dict:
    """Send the file page by page; print progress; return the combined report with file line numbers.
    PageFailed when a page does not go through; `progress` then says what did."""
    global _progress_open
    progress = progress or Progress()
    total = progress.report
    size = path.stat().st_size or 1
    sent = 0
    for first_line, last_line, ctype, text in pages(path, rows_per_page):
        progress.next_line = first_line
        report = post(url.rstrip("/") + KINDS[kind], token, ctype, text, attempts)
        offset = first_line - (2 if ctype == "text/csv" else 1)
        for key in ("accepted", "written", "unchanged"):
            total[key] += report.get(key, 0)
        total["rejected"] += [{"line": r["line"] + offset, "error": r["error"]} for r in report["rejected"]]
        progress.pages += 1
        progress.last_line = last_line
        progress.next_line = last_line + 1
        sent += len(text.encode())
        print(
            f"\r{kind}: {min(100, 100 * sent // size):3d}%  accepted {total['accepted']}"
            f"  rejected {len(total['rejected'])}",
            end="",
            file=out,
            flush=True,
        )
        _progress_open = True
    progress.next_line = 0
    _end_progress_line(out)
    return total


def went_through(
    progress: Progress,
    path: Path,
    first_row_line: int,
    advice: str = "Imports are idempotent: run the same command again to finish.",
) -> str:
    """A sentence on what an unfinished import did and did not send."""
    total = progress.report
    if progress.pages == 0:
        done = f"Nothing went through: no page of {path.name} was imported."
    else:
        plural = "s" if progress.pages != 1 else ""
        done = (
            f"Went through: lines {first_row_line}-{progress.last_line} of {path.name} ({progress.pages} page{plural}; "
            f"accepted {total['accepted']}, rejected {len(total['rejected'])})."
        )
    rest = f" Not imported: line {progress.next_line} on." if progress.next_line else ""
    return f"{done}{rest} {advice}"


def _summary(report: dict, *, complete: bool, next_line: int = 0) -> str:
    out = {
        **report,
        "rejected": report["rejected"][:50],
        "rejected_count": len(report["rejected"]),
        "complete": complete,
    }
    if not complete:
        out["next_line"] = next_line
    return json.dumps(out, indent=2)


def create_token(name: str, scopes: list[str]) -> str:
    from chalicelib.store import admin_tokens, models

    models.bind()
    token, _ = admin_tokens.create(name, scopes)
    return token


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nps_cli",
        description=__doc__.split("\n")[0],
        epilog="exit codes: 0 done; 1 rows rejected; 2 usage; 3 could not finish; 130 interrupted",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import a CSV or JSON-lines file through the API")
    imp.add_argument("kind", choices=sorted(KINDS))
    imp.add_argument("file", type=Path)
    imp.add_argument("--url", default=os.environ.get("NPS_API_URL", "http://127.0.0.1:8000"))
    imp.add_argument(
        "--token",
        default=None,
        help="admin token; prefer NPS_ADMIN_TOKEN, since command lines show in `ps` and shell history",
    )
    imp.add_argument("--rows-per-page", type=int, default=PAGE_ROWS)
    imp.add_argument("--attempts", type=int, default=ATTEMPTS, help="tries per page (default 5)")
    tok = sub.add_parser("create-token", help="create an admin token in this stage's table (uses AWS credentials)")
    tok.add_argument("--name", required=True)
    tok.add_argument("--scopes", default="admin", help="comma-separated: read, write, admin")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)  # usage errors exit 2
    if args.command == "create-token":
        return _create_token(args)
    token = args.token or os.environ.get("NPS_ADMIN_TOKEN")
    if not token:
        parser.error("the admin token is required: set NPS_ADMIN_TOKEN (or pass --token)")
    if not args.file.is_file():
        parser.error(f"{args.file} is not a file")
    if not args.url.startswith(("http://", "https://")):
        parser.error(f"--url must start with http:// or https://, not {args.url!r}")
    if args.rows_per_page < 1 or args.attempts < 1:
        parser.error("--rows-per-page and --attempts must be at least 1")
    first_row_line = 2 if args.file.suffix.lower() == ".csv" else 1
    progress = Progress()
    try:
        report = run_import(
            args.kind, args.file, args.url, token, args.rows_per_page, attempts=args.attempts, progress=progress
        )
    except PageFailed as failure:
        _end_progress_line(sys.stderr)
        print(f"import stopped: {_redacted(str(failure), token)}", file=sys.stderr)
        print(went_through(progress, args.file, first_row_line), file=sys.stderr)
        print(_summary(progress.report, complete=False, next_line=progress.next_line))
        return EXIT_UNFINISHED
    except KeyboardInterrupt:
        _end_progress_line(sys.stderr)
        print("import interrupted.", file=sys.stderr)
        print(went_through(progress, args.file, first_row_line), file=sys.stderr)
        print(_summary(progress.report, complete=False, next_line=progress.next_line or first_row_line))
        return EXIT_INTERRUPTED
    except (OSError, ValueError, csv.Error) as error:  # the file itself: unreadable, not UTF-8, bad CSV
        _end_progress_line(sys.stderr)
        print(f"import stopped: cannot read {args.file}: {type(error).__name__}: {error}", file=sys.stderr)
        advice = "Fix the file and run the same command again (rows already in are left unchanged)."
        print(went_through(progress, args.file, first_row_line, advice), file=sys.stderr)
        return EXIT_USAGE
    print(_summary(report, complete=True))
    return EXIT_REJECTED if report["rejected"] else EXIT_OK


def _create_token(args) -> int:
    try:
        token = create_token(args.name, [s.strip() for s in args.scopes.split(",") if s.strip()])
    except Exception as error:  # no credentials, no table, refused scopes: say so, no traceback
        print(f"could not create the token: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_UNFINISHED
    print(token)
    print("Store this token now: only its hash is kept.", file=sys.stderr)
    return EXIT_OK


def _redacted(text: str, token: str) -> str:
    """The token never appears in what we print, whatever an error message carries."""
    return text.replace(token, "<admin token>") if token else text
