"""The demo the local stack loads with NPS_DEMO=1, through the HTTP API like any client.

Minimal for now: a survey (the stack's own origin allowed for the widget), a few accounts, and invitations
for three contacts.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date
from urllib.parse import urlsplit

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


class DemoError(RuntimeError):
    pass


def _call(base_url: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method)  # noqa: S310 - our own http URL
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        raise DemoError(f"{method} {path} answered {error.code}: {error.read()[:500]!r}") from None


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


def load_demo(base_url: str, admin_token: str) -> dict[str, str]:
    """Create the demo survey, accounts and invitations; the lines to print, by label."""
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
        },
    )
    survey_id = survey["survey_id"]
    months = _last_months(3, date.today())
    for account_id, name, segment, owner, monthly in ACCOUNTS:
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
                "revenue": {m: monthly for m in months},
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
    return {
        "Demo survey page": links[0],
        "Widget demo page": f"{base_url}/local/widget-demo?survey={survey_id}",
        "Admin token": admin_token,
    }
