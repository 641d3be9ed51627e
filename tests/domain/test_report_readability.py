"""What a reader of the monthly report sees: money with its currency, a readable computation time, the causal
caveat once and in plain words, groups without a segment or touchpoint labelled as such, a partial month said
plainly, and where the figures are defined. No AWS."""

from __future__ import annotations

import re

import pytest
from domain.test_monthly_report import COUNTS, MONTH, WINDOW, document, nps_fields, section_text, tree

from chalicelib.reports.formatting import fmt_time
from chalicelib.reports.money import format_money
from chalicelib.reports.monthly_report import render_report
from chalicelib.reports.revenue_sections import CAVEAT


@pytest.fixture
def doc():
    current = document(MONTH, COUNTS[MONTH])
    current["nps"]["by_segment"]["none"] = nps_fields(3, 2, 4)
    current["nps"]["by_touchpoint"]["none"] = nps_fields(6, 1, 1)
    current["loop"]["by_kind"] = {"recovery": {"opened": 3}, "follow_up": {"opened": 2}}
    return current


def page(current, **kw) -> str:
    history = [document(m, COUNTS[m]) for m in WINDOW[:-1] if m in COUNTS]
    return render_report(MONTH, current, [*history, current], **kw)


def text_of(html: str) -> str:
    return " ".join("".join(tree(html).itertext()).split())


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (142, "USD", "$142"),
        (142000.4, "usd", "$142,000"),
        (-1200, "EUR", "-\u20ac1,200"),
        (99.5, "GBP", "\u00a3100"),
        (142, "CHF", "CHF\u00a0142"),
        (142, "CAD", "CAD\u00a0142"),
        (142, "bogus", "$142"),
        (None, "USD", "\u2014"),
        (float("nan"), "USD", "\u2014"),
        (True, "USD", "\u2014"),
        (-0.2, "USD", "$0"),
    ],
)
def test_money_is_shown_with_its_currency(value, currency, shown):
    assert format_money(value, currency) == shown


def test_every_money_figure_of_the_report_carries_the_currency(doc):
    html = page({**doc, "currency": "EUR"})
    text = text_of(html)
    for amount in ("2,150", "25,805", "1,320", "2,985", "48,250", "579,000", "1,234,567", "181,000"):
        assert f"\u20ac{amount}" in text, amount
        assert re.search(rf"(?<!\u20ac){amount}", text) is None, f"{amount} without its currency"
    assert "money in EUR" in text
    # The setting wins over the document's own field when given (documents computed before it existed).
    assert "CHF 2,150" in text_of(page(doc, currency="CHF"))  # (the no-break space reads as a space here)


def test_the_computation_time_is_readable():
    assert fmt_time("2026-11-01T03:00:00Z") == "1 Nov 2026, 03:00 UTC"
    assert fmt_time("2026-11-01T04:30:00+01:00") == "1 Nov 2026, 03:30 UTC"
    assert fmt_time("not a time") == "not a time"
    text = text_of(page(document(MONTH, COUNTS[MONTH])))
    assert "Computed 1 Nov 2026, 03:00 UTC" in text
    assert "2026-11-01T03:00:00Z" not in text
    pending = document(MONTH, COUNTS[MONTH])
    pending["loop"]["effectiveness"]["pending_until"] = "2027-02-01T00:00:00Z"
    text = text_of(page(pending))
    assert "recompute after 1 Feb 2027, 00:00 UTC" in text
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d", text), "a raw ISO time on the page"


def test_the_causal_caveat_is_said_once_in_plain_words(doc):
    html = page(doc)
    text = text_of(html)
    assert text.count(CAVEAT) == 1
    assert text.lower().count("not proof") + text.lower().count("not a proof") == 1
    assert doc["revenue_per_nps_point"]["note"] not in text  # the API's own note is not repeated
    words = re.findall(r"[a-z]+(?:_[a-z0-9]+)+", text)
    assert words == [], f"internal field names on the page: {words}"


def test_groups_without_a_segment_or_touchpoint_are_labelled_as_such(doc):
    root = tree(page(doc))
    segments = section_text(root, "breakdowns")
    assert "No segment" in segments and "No touchpoint" in segments
    rows = [" ".join("".join(tr.itertext()).split()) for tr in root.iter("tr")]
    assert not any(row.startswith("none ") for row in rows), rows
    # The group without a value comes after the named ones.
    segment_rows = [r for r in rows if r.startswith(("enterprise", "Acme", "No segment"))]
    assert segment_rows[-1].startswith("No segment")
    loop = section_text(root, "loop")
    assert "Recovery (detractors)" in loop and "Follow-up (passives)" in loop


def test_a_partial_month_is_said_plainly(doc):
    ended = text_of(page(doc))
    assert "Partial month" not in ended and "Overdue at month end" in ended
    running = text_of(page({**doc, "partial": True, "computed_at": "2026-10-20T09:30:00Z"}))
    assert "Partial month. October 2026 was still running when these figures were computed" in running
    assert "Overdue when computed" in running and "Overdue at month end" not in running


def test_the_report_says_where_the_figures_are_defined(doc):
    text = text_of(page(doc))
    assert "docs/metrics.md" in text and "METRICS.md" not in text
    assert "How these figures are defined" in text
