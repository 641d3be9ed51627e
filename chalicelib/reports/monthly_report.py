"""The monthly report: one self-contained HTML page (inline CSS, charts as inline SVG, no script, no external
asset) for CX and finance leaders, drawn from the month's metrics document (the shape docs/metrics.md describes)
and its history.

Every figure may be missing or null (a month with no responses, too few accounts for revenue per point, a month
never computed): the page shows "—" or "not enough data" instead, and gaps in the history stay gaps. Money is
shown with its currency; the running month is said to be partial; the page says what is an association, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.domain import months
from chalicelib.domain.months import NAMES, Month, is_month
from chalicelib.reports import charts
from chalicelib.reports.breakdown_sections import breakdowns_section, themes_section
from chalicelib.reports.formatting import (
    DASH,
    as_mapping,
    card_html,
    chart_box,
    dig,
    esc,
    fmt_count,
    fmt_money,
    fmt_nps,
    fmt_time,
    interval,
    month_title,
    section_html,
    sentence,
    table_html,
)
from chalicelib.reports.loop_sections import loop_section
from chalicelib.reports.revenue_sections import retention_section, revenue_at_risk_section, revenue_per_point_section
from chalicelib.reports.svg import finite

DEFINITIONS = "docs/metrics.md"
TREND_MONTHS = 12
STYLE = """
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2433}
main{max-width:64rem;margin:0 auto;padding:1.25rem 1rem 3rem}
h1{font-size:1.5rem;line-height:1.25;margin:.25rem 0}
h2{font-size:1.15rem;margin:0 0 .6rem}
h3{font-size:1rem;margin:1rem 0 .4rem}
section{background:#fff;border:1px solid #e3e6eb;border-radius:.5rem;padding:1rem;margin:1rem 0}
.meta,.muted{color:#5b6474;font-size:.9rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,13.5rem),1fr));gap:.75rem}
.card{border:1px solid #e3e6eb;border-radius:.5rem;padding:.75rem;background:#fbfbfc}
.card h3{margin:0 0 .25rem;font-size:.85rem;text-transform:uppercase;letter-spacing:.03em;color:#5b6474}
.figure{font-size:1.6rem;font-weight:700;line-height:1.2}
.figure small{font-size:.95rem;font-weight:600;color:#5b6474}
.flag{display:inline-block;background:#fff4e5;color:#8a4b00;border:1px solid #f5c67a;border-radius:1rem;
padding:0 .55rem;font-size:.8rem;font-weight:600}
.caveat{border-left:4px solid #e07b00;background:#fff8ef;padding:.5rem .75rem;margin:.75rem 0}
.reason{color:#8a4b00}
.partial{border-left:4px solid #1f4fd1;background:#eef3ff;padding:.5rem .75rem;margin:.75rem 0}
a{color:#1f4fd1}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.25rem 0 .5rem}
th,td{text-align:right;padding:.3rem .5rem;border-bottom:1px solid #e3e6eb;white-space:nowrap}
th:first-child,td:first-child{text-align:left;white-space:normal}
thead th{color:#5b6474;font-weight:600}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,24rem),1fr));gap:1rem}
details{margin-top:.5rem}summary{cursor:pointer;color:#1f4fd1}
svg.chart{width:100%;height:auto;display:block;max-width:100%}
.chart-wrap{overflow-x:auto;margin:.25rem 0}
.chart-wrap.wide svg.chart{min-width:34rem}
.chart-wrap.narrow{max-width:40rem}
@media (max-width:30rem){th,td{white-space:normal;padding:.3rem .35rem}}
@media print{body{background:#fff}section{break-inside:avoid;border:0}}
"""


def render_report(
    month: str,
    current: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    survey_names: Mapping[str, str] | None = None,
    *,
    currency: str | None = None,
) -> str:
    """The report page of `month` from its metrics document and the documents of up to the 12 months ending with
    it (oldest first; months never computed are absent). `survey_names` labels surveys by name rather than id;
    money is in `currency` (default: the document's own `currency`, else USD)."""
    current = as_mapping(current)
    history = [doc for doc in (history if isinstance(history, list | tuple) else []) if isinstance(doc, Mapping)]
    code = currency or current.get("currency") or "USD"

    def money(value) -> str:
        return fmt_money(value, code)

    title = f"NPS and revenue report \u2014 {month_title(month)}"
    computed_at = dig(current, "computed_at")
    partial = current.get("partial") is True
    body = [
        f"<header><h1>{esc(title)}</h1>",
        f'<p class="meta">Month {esc(month)}'
        + (f" \u00b7 Computed {esc(fmt_time(computed_at))}" if computed_at else "")
        + f" \u00b7 money in {esc(code)}</p>"
        + (
            f'<p class="partial" role="note"><strong>Partial month.</strong> {esc(month_title(month))} was still '
            "running when these figures were computed: they cover what had happened by then, and a task counts as "
            "overdue only once its due time had passed. Recompute after the month ends for the full figures.</p>"
            if partial
            else ""
        )
        + "</header>",
        _headline(current, money),
        _trend(month, current, history),
        retention_section(current, money),
        revenue_per_point_section(current, money),
        revenue_at_risk_section(current, money),
        loop_section(current),
        themes_section(current, money),
        breakdowns_section(current, as_mapping(survey_names)),
        _definitions(),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/>'
        '<meta name="viewport" content="width=device-width,initial-scale=1"/>'
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body><main>"
        + "".join(body)
        + "</main></body></html>"
    )


def _headline(doc: Mapping, money) -> str:
    nps = as_mapping(dig(doc, "nps", "all"))
    n = finite(nps.get("n"))
    if finite(nps.get("nps")) is None:
        nps_card = card_html("NPS", "not enough data", [f"n = {esc(fmt_count(n if n is not None else 0))} responses"])
    else:
        lines = [
            f"n = {esc(fmt_count(n))} responses",
            (
                f"{esc(fmt_count(nps.get('promoters')))} promoters \u00b7 {esc(fmt_count(nps.get('passives')))} "
                f"passives \u00b7 {esc(fmt_count(nps.get('detractors')))} detractors"
            ),
        ]
        if nps.get("low_sample"):
            lines.append('<span class="flag">Low sample (n &lt; 30): read with caution</span>')
        nps_card = card_html(
            "NPS",
            f"{esc(fmt_nps(nps.get('nps')))} <small>\u00b1 {esc(fmt_nps(nps.get('moe95')))}</small>",
            [*lines, '<span class="muted">± is the 95% margin of error</span>'],
        )

    rpp = as_mapping(dig(doc, "revenue_per_nps_point"))
    if finite(rpp.get("monthly")) is None:
        rpp_card = card_html(
            "Revenue per NPS point",
            "not enough data",
            [f'<span class="reason">{esc(sentence(rpp.get("reason") or "not computed"))}</span>'],
        )
    else:
        low, high = interval(rpp.get("ci95"))
        rpp_card = card_html(
            "Revenue per NPS point",
            f"{esc(money(rpp.get('monthly')))} <small>/ month</small>",
            [
                f"{esc(money(rpp.get('annual')))} / year",
                f"95% interval {esc(money(low))} to {esc(money(high))} / month",
                '<a href="#revenue-per-point">How to read this figure</a>',
            ],
        )

    risk = as_mapping(dig(doc, "revenue_at_risk"))
    risk_card = card_html(
        "Revenue at risk",
        f"{esc(money(risk.get('monthly')))} <small>/ month</small>",
        [f"{esc(money(risk.get('annual')))} / year", f"{esc(fmt_count(risk.get('accounts')))} at-risk accounts"],
    )

    health = as_mapping(dig(doc, "health"))
    health_card = card_html(
        "Account health",
        f"{esc(fmt_count(health.get('at_risk')))} <small>at risk</small>",
        [
            f"{esc(fmt_count(health.get('safe')))} safe",
            f"{esc(fmt_count(health.get('gray_zone')))} gray zone",
            f"{esc(fmt_count(health.get('unrated')))} unrated",
        ],
    )
    return section_html(
        "headline", "Headline figures", f'<div class="cards">{nps_card}{rpp_card}{risk_card}{health_card}</div>'
    )


def _short_label(month: str) -> str:
    if not is_month(month):
        return str(month)
    parsed = Month.parse(month)
    return f"{NAMES[parsed.number - 1][:3]}\n{parsed.year}"


def _trend(month: str, current: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> str:
    by_month = {doc_month: doc for doc in history if isinstance(doc_month := doc.get("month"), str)}
    if is_month(month):
        window = months.ending(month, TREND_MONTHS)
    else:
        window = sorted(m for m in by_month if is_month(m))[-TREND_MONTHS:]
    if current:
        by_month[month] = current
    series, sublabels, hollow, rows = [], [], [], []
    for m in window:
        doc = by_month.get(m)
        nps = as_mapping(dig(doc, "nps", "all"))
        value = finite(nps.get("nps"))
        err = finite(nps.get("moe95")) if value is not None else None
        n = finite(nps.get("n"))
        if doc is None:
            note = "missing"
        elif value is None:
            note = f"n={fmt_count(n or 0)}"
        else:
            note = f"n={fmt_count(n)}"
        series.append((_short_label(m), value, err))
        sublabels.append(note)
        hollow.append(bool(nps.get("low_sample")) and value is not None)
        rows.append(
            [
                esc(m),
                esc(fmt_nps(value)),
                esc(fmt_nps(err)),
                esc(DASH if doc is None else fmt_count(n if n is not None else 0)),
                esc(
                    "not computed"
                    if doc is None
                    else "no responses"
                    if value is None
                    else "low sample"
                    if nps.get("low_sample")
                    else ""
                ),
            ]
        )
    chart = charts.line_chart(
        series,
        data_chart="nps-trend",
        title="NPS over the last 12 months with 95% margin of error",
        width=640,
        height=300,
        y_min=-100,
        y_max=100,
        y_ticks=[-100, -50, 0, 50, 100],
        value_format=fmt_nps,
        tick_format=_nps_tick,
        sublabels=sublabels,
        hollow=hollow,
        gap_text="no data",
    )
    legend = (
        '<p class="muted">Bars show the 95% margin of error. Hollow points are months with fewer than 30 '
        "responses. Shaded slots are months with no NPS: never computed, or no responses.</p>"
    )
    table = table_html(["Month", "NPS", "\u00b1 95%", "n", "Note"], rows)
    return section_html(
        "trend",
        "NPS over the last 12 months",
        chart_box(chart, wide=True) + legend + f"<details><summary>Figures behind the chart</summary>{table}</details>",
    )


def _nps_tick(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _definitions() -> str:
    """Where the figures are defined: a few plain lines here, the full definitions in the project's docs."""
    items = [
        (
            "NPS",
            (
                "the share of promoters (9-10) minus the share of detractors (0-6) among the month\u2019s counted "
                "answers, from -100 to 100, with its 95% margin of error."
            ),
        ),
        (
            "Account category",
            (
                "the mean of each contact\u2019s latest score over the 12 months before the month, "
                "read with the same bands; accounts without answers are unrated."
            ),
        ),
        (
            "Retention",
            (
                "of the accounts that were customers last month: the share still customers (logo), and this "
                "month\u2019s revenue over last month\u2019s, capped per account (GRR) or not (NRR)."
            ),
        ),
        (
            "Revenue per NPS point",
            (
                "the difference between promoter and detractor accounts in how their revenue "
                "moved the following month, over the last 12 months, scaled to one NPS point."
            ),
        ),
        ("Revenue at risk", "this month\u2019s revenue of customer accounts whose account NPS is -20 or lower."),
        (
            "Close the loop",
            "tasks opened in the month for answers that call for one; within SLA means closed by the due time.",
        ),
    ]
    lines = "".join(f"<li><strong>{esc(name)}</strong>: {esc(text)}</li>" for name, text in items)
    return section_html(
        "definitions",
        "How these figures are defined",
        f'<ul>{lines}</ul><p class="muted">Every figure is defined in full, with the choices made for missing '
        f"values, in the project\u2019s metric definitions: <code>{esc(DEFINITIONS)}</code> in its repository.</p>",
    )
