"""The clock module: the API's one timestamp format and its parser, and the ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from chalicelib.domain import clock


def test_timestamps_are_utc_with_a_z():
    assert clock.timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert clock.timestamp(datetime(2026, 1, 2, 5, 4, 5, 250000, tzinfo=timezone(timedelta(hours=2)))) == (
        "2026-01-02T03:04:05.250000Z"
    )
    assert clock.timestamp(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"  # naive: taken as UTC
    assert clock.timestamp(None) is None


def test_parsing_gives_aware_utc_or_none():
    assert clock.parse_timestamp("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert clock.parse_timestamp("2026-01-02T03:04:05+02:00") == datetime(2026, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert clock.parse_timestamp("2026-01-02T03:04:05").tzinfo is UTC
    for bad in ("yesterday", 5, None, "2026-01-02T03:04:05Z" + " " * 40, ""):
        assert clock.parse_timestamp(bad) is None
    moment = datetime(2026, 10, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert clock.parse_timestamp(clock.timestamp(moment)) == moment


def test_ids():
    assert re.fullmatch(r"rsp_[0-9a-f]{24}", clock.new_id("rsp"))
    assert clock.new_id("rsp") != clock.new_id("rsp")
    assert clock.stable_id("rsp", "inv_1", "x") == clock.stable_id("rsp", "inv_1", "x")
    assert clock.stable_id("rsp", "inv_1", "x") != clock.stable_id("rsp", "inv_1x", "")
