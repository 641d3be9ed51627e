"""The send window and the reminder plan, against hand-worked moments."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain import send_window as sw

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("moment", "zone", "expected_local"),
    [
        # Saturday 2026-12-05 20:00 UTC is 21:00 in Berlin: Monday 09:00 Berlin.
        (datetime(2026, 12, 5, 20, 0, tzinfo=UTC), "Europe/Berlin", datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)),
        # Wednesday 10:30 Berlin is inside the window: at once.
        (datetime(2026, 12, 2, 9, 30, tzinfo=UTC), "Europe/Berlin", datetime(2026, 12, 2, 10, 30, tzinfo=BERLIN)),
        # Wednesday 07:00 Berlin: that day's 09:00.
        (datetime(2026, 12, 2, 6, 0, tzinfo=UTC), "Europe/Berlin", datetime(2026, 12, 2, 9, 0, tzinfo=BERLIN)),
        # Friday 17:00 Berlin is the end: Monday.
        (datetime(2026, 12, 4, 16, 0, tzinfo=UTC), "Europe/Berlin", datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)),
    ],
)
def test_the_first_opening_in_the_contacts_zone(moment, zone, expected_local):
    assert sw.next_opening(moment, sw.Window(), zone) == expected_local.astimezone(UTC)


def test_the_surveys_zone_when_the_contact_has_none_and_utc_for_an_unknown_one():
    window = sw.Window(timezone="America/New_York")
    # Wednesday 2026-12-02 12:00 UTC is 07:00 in New York: 09:00 there, 14:00 UTC.
    assert sw.next_opening(datetime(2026, 12, 2, 12, 0, tzinfo=UTC), window, None) == datetime(
        2026, 12, 2, 14, 0, tzinfo=UTC
    )
    assert sw.next_opening(datetime(2026, 12, 2, 12, 0, tzinfo=UTC), window, "Nowhere/Else") == datetime(
        2026, 12, 2, 14, 0, tzinfo=UTC
    )


def test_a_window_across_a_daylight_saving_change_keeps_local_hours():
    # Sunday 2026-03-29 Berlin moves to summer time: Monday 09:00 local is 07:00 UTC (not 08:00).
    got = sw.next_opening(datetime(2026, 3, 28, 12, 0, tzinfo=UTC), sw.Window(), "Europe/Berlin")
    assert got == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_a_brute_force_walk_agrees_with_the_first_opening():
    """A second, simpler implementation: step a minute at a time until inside the window."""
    window = sw.Window(days=("tue", "sat"), start=time(8, 30), end=time(12, 0), timezone="Asia/Tokyo")
    zone = ZoneInfo("Asia/Tokyo")
    start = datetime(2026, 12, 1, 0, 7, tzinfo=UTC)
    for hours in range(0, 24 * 8, 7):
        moment = start + timedelta(hours=hours)
        walk = moment.replace(second=0, microsecond=0)
        if walk < moment:
            walk += timedelta(minutes=1)
        while True:
            local = walk.astimezone(zone)
            if sw.DAYS[local.weekday()] in window.days and time(8, 30) <= local.time() < time(12, 0):
                break
            walk += timedelta(minutes=1)
        got = sw.next_opening(moment, window, None)
        assert got <= walk and walk - got < timedelta(minutes=1), (moment, got, walk)


def test_stored_settings_and_defaults():
    assert sw.window_of(None) == sw.Window()
    assert sw.window_of({"days": ["sat", "mon"], "start": "08:00", "end": "20:30", "timezone": "Europe/Paris"}) == (
        sw.Window(days=("mon", "sat"), start=time(8, 0), end=time(20, 30), timezone="Europe/Paris")
    )
    assert sw.reminders_of(None) == sw.Reminders(1, 7)
    assert sw.reminders_of({"count": 0, "after_days": 3}) == sw.Reminders(0, 3)
    assert sw.reminders_of({"count": 2, "after_days": 10}) == sw.Reminders(2, 10)
