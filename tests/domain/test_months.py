"""Month arithmetic, the one home of it (chalicelib/domain/months.py), against datetime's own calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain import months
from chalicelib.domain.months import Month


def test_parse_print_and_shift_across_years():
    assert str(Month.parse("2026-01").previous()) == "2025-12"
    assert str(Month.parse("2026-12").shift(1)) == "2027-01"
    assert str(Month.parse("2026-03").shift(-27)) == "2023-12"
    assert Month.parse("2026-10").title() == "October 2026"
    assert Month.parse("2026-02") < Month.parse("2026-10") < Month.parse("2027-01")


@pytest.mark.parametrize(
    "bad", ["2026-13", "2026-00", "2026-1", "26-01", "2026-01\n", " 2026-01", "0000-01", "٢٠٢٦-01", "", None, 202601]
)
def test_anything_but_yyyy_mm_is_refused(bad):
    with pytest.raises(ValueError):
        Month.parse(bad)
    assert not months.is_month(bad)


def test_bounds_and_the_running_month():
    october = Month.parse("2026-10")
    assert october.start() == datetime(2026, 10, 1, tzinfo=UTC)
    assert october.end() == datetime(2026, 11, 1, tzinfo=UTC)
    assert october.is_running(datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC))
    assert not october.is_running(october.end())
    assert october.is_future(october.start() - timedelta(microseconds=1))
    assert not october.is_future(october.start())
    # Another zone is converted, a naive time is taken as UTC.
    assert Month.of(datetime(2026, 11, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))) == october
    assert Month.of(datetime(2026, 10, 31, 23, 0)) == october


def test_the_months_ending_a_month_and_the_previous_month():
    assert months.ending("2026-02", 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months.ending("2026-02", 1) == ["2026-02"]
    assert months.previous(datetime(2026, 1, 15, tzinfo=UTC)) == "2025-12"


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 1)), st.integers(-600, 600))
def test_shifting_agrees_with_the_calendar(moment, k):
    month = Month.of(moment)
    assert str(month) == moment.strftime("%Y-%m")
    shifted = month.shift(k)
    # Walk k months by the calendar: day 1, then step over each month end.
    walk = datetime(moment.year, moment.month, 1)
    for _ in range(abs(k)):
        walk = (walk + timedelta(days=32)).replace(day=1) if k > 0 else (walk - timedelta(days=1)).replace(day=1)
    assert str(shifted) == walk.strftime("%Y-%m")
    assert shifted.start() <= shifted.end() - timedelta(days=28)
    assert Month.parse(str(shifted)) == shifted
