"""NPS and its margin of error, against the worked example of docs/metrics.md and a from-the-text re-implementation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.nps import category_of_mean, classify, counts_of, nps_summary


def test_worked_example_of_metrics_md():
    summary = nps_summary(50, 30, 20)
    assert summary == {
        "nps": 30.0,
        "moe95": 15.31,
        "n": 100,
        "promoters": 50,
        "passives": 30,
        "detractors": 20,
        "low_sample": False,
    }


def test_no_responses_has_no_nps():
    assert nps_summary(0, 0, 0) == {
        "nps": None,
        "moe95": None,
        "n": 0,
        "promoters": 0,
        "passives": 0,
        "detractors": 0,
        "low_sample": True,
    }


def test_low_sample_below_thirty_still_reports_figures():
    small = nps_summary(20, 5, 4)
    assert small["low_sample"] is True and small["n"] == 29
    assert small["nps"] == 55.17  # 100 * 16 / 29 = 55.172...
    assert nps_summary(20, 5, 5)["low_sample"] is False


def test_unanimous_answers_have_no_spread():
    assert nps_summary(7, 0, 0)["nps"] == 100.0
    assert nps_summary(7, 0, 0)["moe95"] == 0.0
    assert nps_summary(0, 0, 3)["nps"] == -100.0
    assert nps_summary(0, 4, 0)["nps"] == 0.0
    assert nps_summary(0, 4, 0)["moe95"] == 0.0


def test_one_promoter_one_detractor():
    # x = +1, -1: mean 0, variance 1, moe = 196 * sqrt(1 / 2) = 138.59
    assert nps_summary(1, 0, 1)["nps"] == 0.0
    assert nps_summary(1, 0, 1)["moe95"] == 138.59


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        nps_summary(-1, 0, 0)


def test_classify_by_category():
    categories = [classify(score) for score in (10, 9, 8, 7, 6, 0, 10)]
    assert categories == ["promoter", "promoter", "passive", "passive", "detractor", "detractor", "promoter"]
    assert counts_of((10, 9, 8, 7, 6, 0, 10)) == (3, 2, 2)
    assert [classify(s) for s in range(11)] == ["detractor"] * 7 + ["passive"] * 2 + ["promoter"] * 2


@pytest.mark.parametrize("bad", [-1, 11, 3.5, "9", None, True])
def test_classify_refuses_what_is_not_a_score(bad):
    with pytest.raises(ValueError):
        classify(bad)
    with pytest.raises(ValueError):
        counts_of([9, bad])


@pytest.mark.parametrize(
    ("total", "count", "expected"),
    [(18, 2, "promoter"), (17, 2, "passive"), (14, 2, "passive"), (13, 2, "detractor"), (0, 1, "detractor")],
)
def test_the_category_of_a_mean_is_compared_exactly(total, count, expected):
    # 17 / 2 = 8.5 is below 9; 14 / 2 = 7 is the passive floor; 13 / 2 = 6.5 is a detractor.
    assert category_of_mean(total, count) == expected


def reference(scores: list[int]) -> tuple[float | None, float | None]:
    """Straight from docs/metrics.md: x = +1/0/-1 per response, NPS = 100 * mean, moe = 100 * 1.96 * sqrt(var / n)."""
    xs = [1 if s >= 9 else 0 if s >= 7 else -1 for s in scores]
    n = len(xs)
    if n == 0:
        return None, None
    mean = sum(xs) / n
    variance = sum((x - mean) ** 2 for x in xs) / n
    return 100 * mean, 100 * 1.96 * math.sqrt(variance / n)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 10), max_size=400))
def test_summary_matches_the_definition(scores):
    summary = nps_summary(*counts_of(scores))
    nps, moe = reference(scores)
    assert summary["n"] == len(scores)
    assert summary["promoters"] + summary["passives"] + summary["detractors"] == len(scores)
    assert summary["low_sample"] == (len(scores) < 30)
    if nps is None:
        assert summary["nps"] is None and summary["moe95"] is None
    else:
        assert summary["nps"] == pytest.approx(nps, abs=0.005 + 1e-9)
        assert summary["moe95"] == pytest.approx(moe, abs=0.005 + 1e-9)
        assert -100 <= summary["nps"] <= 100
        assert summary["moe95"] >= 0
