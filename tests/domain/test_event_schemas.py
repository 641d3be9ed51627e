"""The published schemas of the events (docs/events/) are the domain's (chalicelib/domain/event_schemas.py SCHEMAS), and
every detail a builder makes is valid by its schema, with nothing beyond it.

`python tests/domain/test_event_schemas.py --write` writes docs/events/ from the domain's table."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from chalicelib.domain import event_schemas, events  # noqa: E402
from chalicelib.domain.monthly import ResponseRow  # noqa: E402

DOCS = ROOT / "docs" / "events"
NOW = datetime(2026, 11, 3, 9, 30, 0, 123456, tzinfo=UTC)


def rendered(detail_type: str) -> str:
    return json.dumps(event_schemas.SCHEMAS[detail_type], indent=2) + "\n"


def write() -> None:
    DOCS.mkdir(exist_ok=True)
    for detail_type in events.DETAIL_TYPES:
        (DOCS / event_schemas.schema_file(detail_type)).write_text(rendered(detail_type))


@pytest.mark.parametrize("detail_type", events.DETAIL_TYPES)
def test_the_published_schema_is_the_domains(detail_type):
    path = DOCS / event_schemas.schema_file(detail_type)
    assert path.read_text() == rendered(detail_type), f"run: python {Path(__file__).relative_to(ROOT)} --write"


def test_docs_hold_a_schema_for_each_detail_type_and_nothing_else():
    assert sorted(p.name for p in DOCS.glob("*.json")) == sorted(
        event_schemas.schema_file(t) for t in events.DETAIL_TYPES
    )
    assert set(event_schemas.SCHEMAS) == set(events.DETAIL_TYPES)


def test_every_schema_is_a_valid_json_schema_that_refuses_other_fields():
    import jsonschema

    for detail_type, schema in event_schemas.SCHEMAS.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["additionalProperties"] is False, detail_type
        assert set(schema["required"]) == set(schema["properties"]), detail_type
        assert {"schema_version", "event_id"} <= set(schema["required"]), detail_type


def _valid(event: events.Event) -> None:
    import jsonschema

    jsonschema.validate(
        event.detail, event_schemas.SCHEMAS[event.detail_type], format_checker=jsonschema.FormatChecker()
    )


ANSWER = {
    "response_id": "rsp_1",
    "version": 1,
    "survey_id": "srv_1",
    "invitation_id": "inv_1",
    "account_id": "acc-1",
    "contact_id": "con-1",
    "channel": "email",
    "touchpoint": "relationship",
    "score": 3,
    "comment": "Too slow",
    "drivers": ["support"],
    "first_submitted_at": NOW,
    "submitted_at": NOW,
    "page": "https://shop.example.com/?email=ana@example.com",
}


def test_a_first_answer_is_recorded_and_a_changed_one_updated_with_ids_from_response_and_version():
    recorded = events.response_event(ANSWER, None, "smb")
    assert recorded is not None and recorded.detail_type == events.RESPONSE_RECORDED
    _valid(recorded)
    assert recorded.detail["comment"] == "Too slow" and recorded.detail["segment"] == "smb"
    assert "page" not in recorded.detail  # a page URL may carry anything
    again = events.response_event(dict(ANSWER), None, "smb")
    assert again == recorded  # the same record, the same event
    rescored = {**ANSWER, "version": 2, "score": 9}
    updated = events.response_event(rescored, ANSWER, "smb")
    assert updated is not None and updated.detail_type == events.RESPONSE_UPDATED
    _valid(updated)
    assert (updated.detail["previous_score"], updated.detail["previous_category"]) == (3, "detractor")
    assert updated.event_id != recorded.event_id
    assert events.response_event({**ANSWER, "version": 2}, ANSWER, "smb") is None  # nothing an event says changed
    assert events.response_event({**ANSWER, "erased": True}, None, None) is None


def test_task_moves_publish_escalated_resolved_and_reopened_only():
    facts = events.TaskFacts("tsk_1", "rsp_1", "srv_1", "acc-1", "recovery", "detractor")
    opened = events.task_opened(facts, owner="olive@example.com", created_at=NOW, due_at=NOW, sla_hours=48)
    _valid(opened)
    stamp = "2026-11-03T10:00:00Z"
    moves = {
        ("escalated", "open", "escalated"): events.TASK_ESCALATED,
        ("status", "in_progress", "escalated"): events.TASK_ESCALATED,
        ("status", "open", "resolved"): events.TASK_RESOLVED,
        ("status", "resolved", "open"): events.TASK_REOPENED,
        ("status", "open", "in_progress"): None,
        ("assigned", "a", "b"): None,
    }
    ids = set()
    for (change, before, after), expected in moves.items():
        entry = {"at": stamp, "by": "someone", "change": change, "from": before, "to": after, "manager": "max"}
        event = events.task_moved(facts, entry, due_at=NOW, root_cause="pricing")
        assert (event.detail_type if event else None) == expected, (change, before, after)
        if event is not None:
            _valid(event)
            ids.add(event.event_id)
    assert len(ids) == 4


def test_month_and_health_events_are_valid():
    document = {
        "month": "2026-10",
        "computed_at": "2026-11-01T03:00:00Z",
        "partial": False,
        "currency": "USD",
        "nps": {"all": {"n": 0, "nps": None}},
        "revenue_at_risk": {"monthly": 0.0, "accounts": 0},
    }
    _valid(events.month_computed(document))
    _valid(events.health_changed("acc-1", None, "2026-10", "safe", "at_risk"))
    for status in ("unsubscribed", "bounced", "complained"):
        _valid(events.contact_event(status, "con-1", "acc-1"))


def _row(rid: str, account: str, contact: str | None, score: int, when: datetime) -> ResponseRow:
    return ResponseRow(rid, "srv_1", account, contact, score, when)


def test_health_bands_compare_the_end_of_the_month_with_the_end_of_the_month_before():
    bands = events.HealthBands("2026-10")
    rows = [
        # acc-1: a promoter in September, then the same contact a detractor in October: safe -> at_risk.
        _row("r1", "acc-1", "c1", 10, datetime(2026, 9, 10, tzinfo=UTC)),
        _row("r2", "acc-1", "c1", 2, datetime(2026, 10, 10, tzinfo=UTC)),
        # acc-2: a promoter in November 2025 and nothing since: still safe at the end of October (12 months).
        _row("r3", "acc-2", "c2", 9, datetime(2025, 11, 5, tzinfo=UTC)),
        # acc-3: its only answer, in October 2025, leaves the window at the end of October 2026: safe -> unrated.
        _row("r4", "acc-3", "c3", 9, datetime(2025, 10, 31, 23, 0, tzinfo=UTC)),
        # acc-4: first answered in October: unrated -> gray_zone (a passive).
        _row("r5", "acc-4", None, 8, datetime(2026, 10, 1, tzinfo=UTC)),
        # No account: rates none.
        _row("r6", None, "c9", 0, datetime(2026, 10, 2, tzinfo=UTC)),
    ]
    assert list(bands.observing(rows)) == rows
    assert bands.bands() == {
        "acc-1": ("safe", "at_risk"),
        "acc-2": ("safe", "safe"),
        "acc-3": ("safe", "unrated"),
        "acc-4": ("unrated", "gray_zone"),
    }
    changes = bands.changes()
    assert [(e.detail["account_id"], e.detail["previous_health"], e.detail["health"]) for e in changes] == [
        ("acc-1", "safe", "at_risk"),
        ("acc-3", "safe", "unrated"),
        ("acc-4", "unrated", "gray_zone"),
    ]
    for event in changes:
        _valid(event)
    assert [e.event_id for e in changes] == [e.event_id for e in bands.changes()]


if __name__ == "__main__":
    if "--write" in sys.argv:
        write()
