"""The monthly report page: self-contained HTML with inline SVG charts, built from metrics documents."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from chalicelib.reports import charts, svg
from chalicelib.reports.monthly_report import render_report
from chalicelib.reports.revenue_sections import CAVEAT

MONTH = "2026-10"
WINDOW = [
    "2025-11",
    "2025-12",
    "2026-01",
    "2026-02",
    "2026-03",
    "2026-04",
    "2026-05",
    "2026-06",
    "2026-07",
    "2026-08",
    "2026-09",
    "2026-10",
]
GAP_MONTH = "2026-03"  # never computed: absent from history
EMPTY_MONTH = "2026-02"  # computed, no responses
CHARTS = {"nps-trend", "retention", "revenue-per-point", "themes-count", "themes-revenue"}
REASON = (
    "needs at least 10 promoter and 10 detractor accounts in the pooled cohorts of the last 12 months; "
    "there are 4 promoter and 2 detractor accounts"
)


def nps_fields(promoters: int, passives: int, detractors: int) -> dict:
    """The NPS fields of docs/metrics.md, computed here the plain way."""
    n = promoters + passives + detractors
    if n == 0:
        return {"nps": None, "moe95": None, "n": 0, "promoters": 0, "passives": 0, "detractors": 0, "low_sample": True}
    p, d = promoters / n, detractors / n
    v = p + d - (p - d) ** 2
    return {
        "nps": round(100 * (p - d), 2),
        "moe95": round(100 * 1.96 * (v / n) ** 0.5, 2),
        "n": n,
        "promoters": promoters,
        "passives": passives,
        "detractors": detractors,
        "low_sample": n < 30,
    }


def document(month: str, counts: tuple[int, int, int], **overrides) -> dict:
    doc = {
        "month": month,
        "computed_at": "2026-11-01T03:00:00Z",
        "nps": {
            "all": nps_fields(*counts),
            "by_survey": {"rel-q4": nps_fields(*counts)},
            "by_segment": {"enterprise": nps_fields(60, 30, 10), "Acme <b>VIP</b>": nps_fields(5, 3, 4)},
            "by_touchpoint": {"support": nps_fields(20, 10, 25), "onboarding": nps_fields(0, 0, 0)},
        },
        "response_rate": {"rel-q4": {"invited": 2400, "responded": 612, "rate": 0.255}},
        "retention": {
            "promoter": {"accounts": 180, "base": 1234567.0, "logo_retention": 0.9833, "grr": 0.97, "nrr": 1.0712},
            "passive": {"accounts": 95, "base": 402000.0, "logo_retention": 0.9474, "grr": 0.93, "nrr": 0.991},
            "detractor": {"accounts": 41, "base": 150300.0, "logo_retention": 0.8537, "grr": 0.8, "nrr": 0.8123},
            "unrated": {"accounts": 0, "base": 0, "logo_retention": None, "grr": None, "nrr": None},
        },
        "revenue_per_nps_point": {
            "monthly": 2150.4,
            "annual": 25804.8,
            "ci95": [1320.1, 2984.9],
            "reason": None,
            "note": "An association observed in this customer base, not a proof of cause.",
        },
        "revenue_at_risk": {"monthly": 48250.0, "annual": 579000.0, "accounts": 14},
        "health": {"safe": 160, "gray_zone": 88, "at_risk": 14, "unrated": 37},
        "loop": {
            "opened": 52,
            "closed": 47,
            "median_hours_to_close": 31.5,
            "within_sla": 0.8723,
            "overdue": 4,
            "escalated": 3,
            "effectiveness": {
                "within_sla": {"accounts": 23, "logo_retention": 0.913},
                "late": {"accounts": 7, "logo_retention": 0.571},
            },
        },
        "themes": {
            "by_count": [
                {"theme": "price", "count": 31},
                {"theme": "support", "count": 17},
                {"theme": "<b>bold</b> & co", "count": 5},
            ],
            "by_revenue": [{"theme": "support", "revenue": 181000.0}, {"theme": "price", "revenue": 96000.0}],
        },
    }
    doc.update(overrides)
    return doc


COUNTS = {  # promoters, passives, detractors: different sample sizes give different margins
    "2025-11": (40, 30, 20),
    "2025-12": (90, 60, 50),
    "2026-01": (12, 6, 9),
    "2026-02": (0, 0, 0),
    "2026-04": (300, 150, 120),
    "2026-05": (45, 25, 30),
    "2026-06": (8, 5, 2),
    "2026-07": (150, 90, 60),
    "2026-08": (60, 40, 35),
    "2026-09": (500, 260, 190),
    "2026-10": (250, 200, 162),
}


@pytest.fixture
def history():
    return [document(m, COUNTS[m]) for m in WINDOW if m != GAP_MONTH]


@pytest.fixture
def current(history):
    return history[-1]


# ---- parsing ---------------------------------------------------------------------------------------------------


def tree(html: str) -> ET.Element:
    """The page is well-formed: parse it as XML (without the doctype)."""
    assert html.startswith("<!DOCTYPE html>")
    return ET.fromstring(html[len("<!DOCTYPE html>") :])


class Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def html_tags(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser


def chart(root: ET.Element, name: str) -> ET.Element:
    found = [el for el in root.iter("svg") if el.get("data-chart") == name]
    assert len(found) == 1, name
    return found[0]


def with_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [el for el in root.iter(tag) if cls in (el.get("class") or "").split()]


def section(root: ET.Element, section_id: str) -> ET.Element:
    return next(el for el in root.iter("section") if el.get("id") == section_id)


def section_text(root: ET.Element, section_id: str) -> str:
    return " ".join("".join(section(root, section_id).itertext()).split())


def table_rows(root: ET.Element, section_id: str) -> list[list[str]]:
    """Each table row of the section as its cells' text."""
    return [[" ".join("".join(cell.itertext()).split()) for cell in tr] for tr in section(root, section_id).iter("tr")]


def all_text(root: ET.Element) -> str:
    return " ".join("".join(root.itertext()).split())


# ---- the page --------------------------------------------------------------------------------------------------


def test_every_chart_is_an_accessible_inline_svg(current, history):
    root = tree(render_report(MONTH, current, history))
    svgs = list(root.iter("svg"))
    assert {s.get("data-chart") for s in svgs} == CHARTS
    for s in svgs:
        assert s.get("class") == "chart"
        assert s.get("role") == "img"
        assert s.get("aria-label")
        assert s.find("title") is not None and s.find("title").text
        assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", s.get("viewBox"))
        assert s.get("width") is None  # scales with its container


def test_trend_has_a_point_per_month_with_data_and_an_error_bar_per_margin(current, history):
    root = tree(render_report(MONTH, current, history))
    trend = chart(root, "nps-trend")
    with_data = [m for m in WINDOW if m in COUNTS and sum(COUNTS[m])]
    points = [el for el in trend.iter("circle") if el.get("class") == "point"]
    bars = [el for el in trend.iter("line") if el.get("class") == "error-bar"]
    assert len(points) == len(with_data) == 10
    assert len(bars) == 10
    # Points run left to right in month order, and the two months without NPS leave their slots empty.
    xs = [float(p.get("cx")) for p in points]
    assert xs == sorted(xs)
    slot = (xs[-1] - xs[0]) / (len(WINDOW) - 1)
    assert [round((x - xs[0]) / slot) for x in xs] == [WINDOW.index(m) for m in with_data]
    labels = " ".join("".join(t.itertext()) for t in trend.iter("text"))
    assert "n=0" in labels and "missing" in labels
    assert len(with_class(trend, "rect", "gap")) == 2
    assert any(el.get("class") == "zero-line" for el in trend.iter("line"))


def test_error_bars_are_to_scale(current, history):
    trend = chart(tree(render_report(MONTH, current, history)), "nps-trend")
    # The scale, read off the chart's own gridlines: the top one is NPS 100, the bottom one -100.
    grid = sorted(float(el.get("y1")) for el in trend.iter("line") if el.get("class") == "grid")
    top, bottom = grid[0], grid[-1]
    per_point = (bottom - top) / 200

    expected = [nps_fields(*COUNTS[m]) for m in WINDOW if m in COUNTS and sum(COUNTS[m])]
    points = [el for el in trend.iter("circle") if el.get("class") == "point"]
    bars = [el for el in trend.iter("line") if el.get("class") == "error-bar"]
    lengths = []
    for fields, point, bar in zip(expected, points, bars, strict=True):
        assert float(point.get("cy")) == pytest.approx(top + (100 - fields["nps"]) * per_point, abs=0.02)
        assert bar.get("data-clipped") is None
        length = abs(float(bar.get("y2")) - float(bar.get("y1")))
        assert length == pytest.approx(2 * fields["moe95"] * per_point, abs=0.03)
        assert float(bar.get("x1")) == float(point.get("cx"))
        lengths.append((fields["moe95"], length))
    # Larger margin, longer bar.
    lengths.sort()
    assert [length for _, length in lengths] == sorted(length for _, length in lengths)


def test_low_sample_months_are_marked(current, history):
    root = tree(render_report(MONTH, current, history))
    hollow = [el for el in chart(root, "nps-trend").iter("circle") if el.get("data-hollow") == "true"]
    assert len(hollow) == 2  # 2026-01 (n=27) and 2026-06 (n=15)
    low = document(MONTH, (10, 5, 3))
    text = all_text(tree(render_report(MONTH, low, [*history[:-1], low])))
    assert "Low sample" in text


def test_headline_figures_are_formatted(current, history):
    root = tree(render_report(MONTH, current, history))
    headline = section_text(root, "headline")
    nps = nps_fields(*COUNTS[MONTH])
    assert f"{nps['nps']:.1f}" in headline and f"\u00b1 {nps['moe95']:.1f}" in headline
    assert "n = 612 responses" in headline
    assert "$2,150 / month" in headline and "$25,805 / year" in headline
    assert "95% interval $1,320 to $2,985 / month" in headline
    assert "$48,250 / month" in headline and "$579,000 / year" in headline and "14 at-risk accounts" in headline
    assert "160 safe" in headline and "88 gray zone" in headline and "37 unrated" in headline


def test_retention_chart_groups_nrr_and_logo_retention_by_category(current, history):
    root = tree(render_report(MONTH, current, history))
    retention = chart(root, "retention")
    bars = with_class(retention, "rect", "bar")
    assert {(b.get("data-group"), b.get("data-series")) for b in bars} == {
        (c, s) for c in ("Promoters", "Passives", "Detractors") for s in ("Net revenue retention", "Logo retention")
    }
    text = " ".join("".join(t.itertext()) for t in retention.iter("text"))
    assert "n = 180 accounts" in text and "n = 0 accounts" in text and "\u2014" in text  # unrated: no ratios
    heights = {(b.get("data-group"), b.get("data-series")): float(b.get("height")) for b in bars}
    assert heights[("Promoters", "Net revenue retention")] > heights[("Detractors", "Net revenue retention")]
    section = section_text(root, "retention")
    assert "107.1%" in section and "98.3%" in section and "$1,234,567" in section


def test_revenue_per_point_shows_interval_and_caveat(current, history):
    root = tree(render_report(MONTH, current, history))
    rpp = chart(root, "revenue-per-point")
    interval = with_class(rpp, "line", "interval")
    estimate = with_class(rpp, "circle", "estimate")
    assert len(interval) == 1 and len(estimate) == 1
    x1, x2 = sorted((float(interval[0].get("x1")), float(interval[0].get("x2"))))
    assert x1 < float(estimate[0].get("cx")) < x2
    text = section_text(root, "revenue-per-point")
    assert CAVEAT in text
    assert "association" in CAVEAT and "not proof" in CAVEAT
    assert "$2,150" in text and "$1,320 to $2,985" in text and "$25,805" in text


def test_null_revenue_per_point_shows_the_reason(history):
    null = {"monthly": None, "annual": None, "ci95": None, "reason": REASON}
    current = document(MONTH, COUNTS[MONTH], revenue_per_nps_point=null)
    root = tree(render_report(MONTH, current, [*history[:-1], current]))
    text = section_text(root, "revenue-per-point")
    shown = "N" + REASON[1:] + "."  # the reason, as a sentence
    assert shown in text and "Not enough data" in text and CAVEAT in text
    rpp = chart(root, "revenue-per-point")
    assert not with_class(rpp, "circle", "estimate")
    assert "not enough data" in "".join(rpp.itertext())
    assert shown in section_text(root, "headline")


def test_close_the_loop_figures(current, history):
    rows = table_rows(tree(render_report(MONTH, current, history)), "loop")
    for expected in (
        ["Tasks opened", "52"],
        ["Tasks closed", "47"],
        ["Median time to close", "31.5 h"],
        ["Closed within SLA", "87.2%"],
        ["Overdue at month end", "4"],
        ["Escalated", "3"],
        ["Closed within SLA", "23", "91.3%"],
        ["Late or still open", "7", "57.1%"],
    ):
        assert expected in rows


def test_themes_by_count_and_by_revenue(current, history):
    root = tree(render_report(MONTH, current, history))
    by_count = with_class(chart(root, "themes-count"), "rect", "bar")
    by_revenue = with_class(chart(root, "themes-revenue"), "rect", "bar")
    assert [b.get("data-label") for b in by_count] == ["price", "support", "<b>bold</b> & co"]
    assert [float(b.get("width")) for b in by_count] == sorted((float(b.get("width")) for b in by_count), reverse=True)
    assert [b.get("data-label") for b in by_revenue] == ["support", "price"]
    assert "181,000" in "".join(chart(root, "themes-revenue").itertext())


def test_breakdown_tables(current, history):
    rows = table_rows(tree(render_report(MONTH, current, history)), "breakdowns")
    enterprise, support = nps_fields(60, 30, 10), nps_fields(20, 10, 25)
    assert ["enterprise", f"{enterprise['nps']:.1f}", f"{enterprise['moe95']:.1f}", "100", ""] in rows
    assert ["support", f"{support['nps']:.1f}", f"{support['moe95']:.1f}", "55", ""] in rows
    assert ["Acme <b>VIP</b>", "8.3", "48.8", "12", "low sample"] in rows
    assert ["onboarding", "\u2014", "\u2014", "0", "no responses"] in rows
    assert ["rel-q4", "2,400", "612", "25.5%"] in rows


def test_all_text_is_escaped(current, history):
    html = render_report(MONTH, current, history)
    parsed = html_tags(html)
    assert not [t for t, _ in parsed.tags if t == "b"]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert "Acme &lt;b&gt;VIP&lt;/b&gt;" in html
    assert "Acme <b>VIP</b>" in "".join(parsed.text)


def test_self_contained(current, history):
    html = render_report(MONTH, current, history)
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "@import" not in html and "url(" not in html
    for tag, attrs in html_tags(html).tags:
        for name in ("src", "href", "xlink:href", "action"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (tag, name, value)
        assert tag not in ("img", "link", "iframe", "object", "embed", "script")


@pytest.mark.parametrize(
    "current",
    [
        {},
        {"month": MONTH},
        {"month": MONTH, "nps": {"all": nps_fields(0, 0, 0)}, "themes": {"by_count": [], "by_revenue": []}},
        {
            "month": MONTH,
            "nps": None,
            "retention": {"promoter": None},
            "revenue_per_nps_point": {"ci95": [None]},
            "loop": {"effectiveness": None},
            "themes": {"by_count": [{"theme": None, "count": "many"}, "x"]},
            "health": "?",
            "revenue_at_risk": {"monthly": float("nan")},
        },
    ],
)
def test_missing_and_null_figures_render(current):
    root = tree(render_report(MONTH, current, [current] if current else []))
    assert {s.get("data-chart") for s in root.iter("svg")} == CHARTS
    text = all_text(root)
    assert "not enough data" in text and "\u2014" in text
    trend = chart(root, "nps-trend")
    assert not [el for el in trend.iter("circle") if el.get("class") == "point"]
    assert not [el for el in trend.iter("line") if el.get("class") == "error-bar"]
    assert "nan" not in text.lower().split()


def test_history_outside_the_window_and_bad_month_do_not_crash(current):
    old = document("2024-01", (10, 10, 10))
    root = tree(render_report(MONTH, current, [old, current]))
    points = [el for el in chart(root, "nps-trend").iter("circle") if el.get("class") == "point"]
    assert len(points) == 1
    html = render_report("<b>bad</b>", current, "not a list")
    assert "<b>bad" not in html and "&lt;b&gt;bad" in html
    tree(html)


# ---- the SVG helpers -----------------------------------------------------------------------------------------


def test_line_chart_clips_error_bars_to_the_axis():
    out = ET.fromstring(
        charts.line_chart(
            [("a", 95.0, 20.0), ("b", None, 5.0), ("c", 0.0, None)], data_chart="x", title="t", y_min=-100, y_max=100
        )
    )
    bars = [el for el in out.iter("line") if el.get("class") == "error-bar"]
    assert len(bars) == 1 and bars[0].get("data-clipped") == "true"
    assert len([el for el in out.iter("circle") if el.get("class") == "point"]) == 2
    assert out.find("path") is None  # the gap breaks the line, and single points are not joined


def test_bar_chart_and_hbar_chart_handle_missing_values():
    bars = ET.fromstring(
        charts.bar_chart([("g1", [1.0, None]), ("g2", [0.5])], series=["s1", "s2"], data_chart="b", title="t")
    )
    assert len([el for el in bars.iter("rect") if el.get("class") == "bar"]) == 2
    empty = ET.fromstring(charts.hbar_chart([], data_chart="h", title="t", empty_text="nothing"))
    assert empty.get("data-chart") == "h" and "nothing" in "".join(empty.itertext())
    rows = ET.fromstring(charts.hbar_chart([("a", 3), ("b", None)], data_chart="h", title="t"))
    assert len([el for el in rows.iter("rect") if el.get("class") == "bar"]) == 1


def test_nice_ticks():
    assert svg.nice_ticks(-100, 100) == [-100, -50, 0, 50, 100]
    assert svg.nice_ticks(0, 1.5) == [0, 0.5, 1.0, 1.5]
    assert svg.nice_bounds(0, 1.17) == (0, 1.5)
    assert svg.nice_ticks(3, 3) == [3]
