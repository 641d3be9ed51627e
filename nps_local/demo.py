"""The demo the local stack loads with NPS_DEMO=1, through the HTTP API like any client.

A live survey (the stack's own origin allowed for the widget) with three invited contacts, then the seeded
demo history (nps_demo.generator: accounts with 24 months of revenue, relationship and transactional
surveys, responses) through the same import routes a customer uses, the stream processing it, and the monthly
metrics of the last 12 full months, so the report and the metrics API have something to show.
NPS_DEMO_ACCOUNTS sets the history's size (default 500; 0 skips it).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

from chalicelib.reports.money import format_money

ACCOUNTS = [
    ("acct-001", "Northwind Traders", "enterprise", "olivia@demo.example", 42000.0),
    ("acct-002", "Blue Yonder Airlines", "mid-market", "liam@demo.example", 9800.0),
    ("acct-003", "Fabrikam Garden Tools", "smb", "olivia@demo.example", 1200.0),
]
CONTACTS = [
    ("contact-001", "ana@northwind.demo.example", "acct-001"),
    ("contact-002", "ben@blueyonder.demo.example", "acct-002"),
    ("contact-003", "chen@fabrikam.demo.example", "acct-003"),
]
# The directory's people the demo emails ("send": true), in three languages: the local outbox shows them.
EMAILED = [
    (
        "contact-004",
        "Dana Whitfield",
        "dana@northwind.demo.example",
        "acct-001",
        "decision_maker",
        "en",
        "America/Chicago",
    ),
    (
        "contact-005",
        "Jonas Becker",
        "jonas@blueyonder.demo.example",
        "acct-002",
        "decision_maker",
        "de",
        "Europe/Berlin",
    ),
    ("contact-006", "Camille Roux", "camille@fabrikam.demo.example", "acct-003", "user", "fr", "Europe/Paris"),
]


WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DemoError(RuntimeError):
    pass


class DemoStopped(Exception):
    """The stack was asked to stop while the demo loaded (checked between requests, so a stop stays prompt)."""


def _check(stopping) -> None:
    if stopping is not None and stopping.is_set():
        raise DemoStopped()


def _call(base_url: str, token: str, method: str, path: str, body=None, content_type="application/json") -> dict:
    if body is None:
        data = None
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)  # noqa: S310 - our own http URL
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=300) as answer:  # noqa: S310
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        raise DemoError(f"{method} {path} answered {error.code}: {error.read()[:500]!r}") from None


def _report_line(base_url: str, token: str, month: str) -> str:
    """The banner's report line: a short-lived signed link a browser opens without the admin token (a token in
    a URL ends up in history and logs), and how to get a new one once it has expired."""
    link = _call(base_url, token, "POST", f"/v1/reports/{month}/link")
    from chalicelib.config import settings
    from chalicelib.reports.formatting import fmt_time

    seconds = settings().report_link_seconds
    valid = f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"
    return (
        f"{link['url']} (signed link, valid {valid}, until {fmt_time(link['expires_at'])}; "
        f"a new one: POST /v1/reports/{month}/link)"
    )


def _last_months(count: int, today: date) -> list[str]:
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(f"{year:04d}-{month:02d}")
    return out


def origins(base_url: str) -> list[str]:
    """The stack's origin as a browser may name it (127.0.0.1 or localhost)."""
    parts = urlsplit(base_url)
    out = [f"{parts.scheme}://{parts.netloc}"]
    if parts.hostname == "127.0.0.1":
        out.append(f"{parts.scheme}://localhost" + (f":{parts.port}" if parts.port else ""))
    return out


def load_demo(base_url: str, admin_token: str, stopping=None) -> dict[str, str]:
    """Create the demo survey, accounts and invitations; the lines to print, by label. `stopping` (an Event):
    DemoStopped is raised between requests once it is set."""
    survey = _call(
        base_url,
        admin_token,
        "POST",
        "/v1/surveys",
        {
            "name": "Demo: quarterly relationship survey",
            "kind": "relationship",
            "question": "How likely are you to recommend Acme Cloud to a friend or colleague?",
            "drivers": ["product quality", "support", "price", "onboarding"],
            "allowed_origins": origins(base_url),
            "loop_rules": {"categories": ["detractor"], "sla_hours": 48, "fallback_owner": "cx@demo.example"},
            # Waves every quarter, decision makers first, two people per account; any day and hour, so the
            # demo's wave is in the outbox at once.
            "schedule": {"every_days": 90, "per_account": 2},
            "send_window": {"days": list(WEEK), "start": "00:00", "end": "00:00", "timezone": "UTC"},
        },
    )
    survey_id = survey["survey_id"]
    months = _last_months(3, datetime.now(timezone.utc).date())
    for account_id, name, segment, owner, monthly in ACCOUNTS:
        _check(stopping)
        _call(
            base_url,
            admin_token,
            "PUT",
            f"/v1/accounts/{account_id}",
            {
                "name": name,
                "segment": segment,
                "owner": owner,
                "manager": "maria@demo.example",
                "revenue": dict.fromkeys(months, monthly),
            },
        )
    invited = _call(
        base_url,
        admin_token,
        "POST",
        f"/v1/surveys/{survey_id}/invitations",
        {"contacts": [{"contact_id": c, "email": e, "account_id": a} for c, e, a in CONTACTS]},
    )
    links = [i["link"] for i in invited["invitations"] if "link" in i]
    if not links:
        raise DemoError(f"no invitation link in {invited!r}")
    for contact_id, name, email, account_id, role, language, zone in EMAILED:
        _check(stopping)
        entry = {"account_id": account_id, "email": email, "name": name, "role": role, "language": language}
        _call(base_url, admin_token, "PUT", f"/v1/contacts/{contact_id}", {**entry, "timezone": zone})
    wave = _run_wave(base_url, admin_token, survey_id, stopping)
    lines = {
        "Demo survey page": links[0],
        "Widget demo page": f"{base_url}/local/widget-demo?survey={survey_id}",
        "Outbox": f"{base_url}/local/outbox?token={admin_token}",
        "Demo wave": _wave_line(wave),
        "Admin token": admin_token,
    }
    size = int(os.environ.get("NPS_DEMO_ACCOUNTS", "500"))
    if size > 0:
        _check(stopping)
        lines.update(load_history(base_url, admin_token, size, stopping))
    return lines


def _run_wave(base_url: str, token: str, survey_id: str, stopping) -> dict:
    """Start a relationship wave and wait for its run (queued, it runs once the request is answered)."""
    wave = _call(base_url, token, "POST", f"/v1/surveys/{survey_id}/waves", {})
    deadline = time.monotonic() + 60
    # Not run yet: a wave is stored with nothing counted (the demo's directory has eligible people).
    while wave["status"] == "running" and wave["eligible"] == 0 and time.monotonic() < deadline:
        _check(stopping)
        time.sleep(0.1)
        wave = _call(base_url, token, "GET", f"/v1/surveys/{survey_id}/waves/{wave['wave_id']}")
    return wave


def _wave_line(wave: dict) -> str:
    skipped = ", ".join(f"{n} {reason}" for reason, n in wave["skipped"].items() if n)
    return f"{wave['invited']} of {wave['eligible']} invited" + (f" ({skipped})" if skipped else "")


def _progress(text: str) -> None:
    print(f"\r  demo: {text:<70}", end="", file=sys.stderr, flush=True)


def _ndjson_pages(rows, per_page: int = 2000):
    page = []
    for row in rows:
        page.append(json.dumps(row, separators=(",", ":")))
        if len(page) >= per_page:
            yield "\n".join(page) + "\n"
            page = []
    if page:
        yield "\n".join(page) + "\n"


def load_history(base_url: str, admin_token: str, accounts: int, stopping=None) -> dict[str, str]:
    """Import the seeded history through the API, let the stream process it, compute 12 months of metrics."""
    from nps_demo.generator import generate

    data = generate(seed=7, accounts=accounts)
    survey_ids = {}
    for body in data.surveys():
        key = body.pop("key")
        survey_ids[key] = _call(base_url, admin_token, "POST", "/v1/surveys", body)["survey_id"]
    done = 0
    for page in _ndjson_pages(data.accounts_rows(), 1000):
        _check(stopping)
        report = _call(base_url, admin_token, "POST", "/v1/accounts/import", page, "application/x-ndjson")
        done += report["accepted"]
        _progress(f"accounts {done}/{accounts}")

    def responses():
        for row in data.iter_responses():
            row = dict(row)
            row["survey_id"] = survey_ids[row.pop("survey_key")]
            yield row

    done = 0
    for page in _ndjson_pages(responses()):
        _check(stopping)
        report = _call(base_url, admin_token, "POST", "/v1/responses/import", page, "application/x-ndjson")
        done += report["accepted"]
        _progress(f"responses {done}/{data.response_count}")
    _check(stopping)
    _progress("processing the responses stream")
    _call(base_url, admin_token, "POST", "/local/stream/poll")
    months = data.months[-12:]
    for i, month in enumerate(months, start=1):
        _check(stopping)
        _progress(f"monthly metrics {month} ({i}/{len(months)})")
        document = _call(base_url, admin_token, "POST", f"/v1/metrics/{month}/recompute")
    print(file=sys.stderr)
    headline = document["nps"]["all"]
    per_point = document["revenue_per_nps_point"]
    at_risk = document["revenue_at_risk"]
    nps_text = "n/a" if headline["nps"] is None else f"{headline['nps']:+.1f} ± {headline['moe95']:.1f}"
    currency = document.get("currency") or "USD"

    def money(value) -> str:
        return format_money(value, currency)

    point_text = (
        "n/a"
        if per_point["monthly"] is None
        else f"{money(per_point['monthly'])} a month "
        f"(95% CI {money(per_point['ci95'][0])} to {money(per_point['ci95'][1])})"
    )
    return {
        f"NPS {data.end_month}": f"{nps_text} (n={headline['n']})",
        "Revenue per NPS point": point_text,
        "Revenue at risk": f"{money(at_risk['monthly'])} a month across {at_risk['accounts']} accounts",
        "Monthly report": _report_line(base_url, admin_token, data.end_month),
        "Metrics API": f"{base_url}/v1/metrics/{data.end_month}",
    }
