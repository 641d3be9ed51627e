"""Stream events of tests/events (dated now), and the EMF metric lines a handler prints. Delivering records the
way Lambda does is the local stack's poller (nps_local/poller.py), for tests as for the stack."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

EVENTS = Path(__file__).parent / "events"


def load_event(name: str, *, age: timedelta = timedelta(0)) -> dict:
    """An event from tests/events with its answer dated now (minus age), so the 14-day task rule holds."""
    event = json.loads((EVENTS / f"{name}.json").read_text())
    stamp = (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    for record in event["Records"]:
        ddb = record.get("dynamodb") if isinstance(record, dict) else None
        for image in ("NewImage", "OldImage") if isinstance(ddb, dict) else ():
            img = ddb.get(image)
            if isinstance(img, dict) and "first_submitted_at" in img:
                img["first_submitted_at"] = {"S": stamp}
                img["submitted_at"] = {"S": stamp}
    return event


def emf_lines(captured: str) -> list[dict]:
    out = []
    for line in captured.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            out.append(json.loads(line))
    return out


def metric_total(lines: list[dict], name: str) -> float:
    values = [doc[name] for doc in lines if name in doc]
    return sum(sum(v) if isinstance(v, list) else v for v in values)


def replay_survey_and_accounts(segments: tuple[str, ...] = ("smb",), accounts: int = 40):
    """The replay tests' survey (detractor and promoter tasks, a 24 h SLA) and `accounts` accounts acc-0...,
    their segments taken in turn from `segments`, five owners and one manager."""
    from chalicelib.store import accounts as account_store
    from chalicelib.store import surveys as survey_store

    survey = survey_store.create(
        {
            "name": "Replay",
            "kind": "relationship",
            "touchpoint": "relationship",
            "question": "Q?",
            "drivers": [],
            "allowed_origins": [],
            "throttle_days": 90,
            "status": "active",
            "loop_rules": {
                "categories": ["detractor", "promoter"],
                "sla_hours": 24,
                "fallback_owner": "cx@example.com",
            },
        }
    )
    for a in range(accounts):
        account_store.upsert(
            f"acc-{a}",
            {
                "name": f"A{a}",
                "segment": segments[a % len(segments)],
                "owner": f"owner-{a % 5}@example.com",
                "manager": "boss@example.com",
                "revenue": {},
                "status": "active",
            },
        )
    return survey
