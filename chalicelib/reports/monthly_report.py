"""The monthly report: one self-contained HTML page (inline CSS, charts as inline SVG, no script, no external
asset) for CX and finance leaders, drawn from the month's metrics document (the shape docs/metrics.md describes)
and its history.

Every figure may be missing or null (a month with no responses, too few accounts for revenue per point, a month
never computed): the page shows "—" or "not enough data" instead, and gaps in the history stay gaps. Money is
shown with its currency; the running month is said to be partial; the page says what is an association, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from chalicelib.domain import months
from chalicelib.domain.months import NAMES, Month, is_month
from chalicelib.reports import svg
from chalicelib.reports.money import format_money
from chalicelib.reports.svg import finite

DASH = "\u2014"
CAVEAT = "This is an association observed in your own customer data, not proof that raising NPS causes revenue to grow."
CATEGORIES = ("promoter", "passive", "detractor", "unrated")
CATEGORY_LABELS = {"promoter": "Promoters", "passive": "Passives", "detractor": "Detractors", "unrated": "Unrated"}
KIND_LABELS = {
    "recovery": "Recovery (detractors)",
    "follow_up": "Follow-up (passives)",
    "advocacy": "Advocacy (promoters)",
}
NO_KEY = "none"  # the document's key for responses without a segment or touchpoint
DEFINITIONS = "docs/metrics.md"
TREND_MONTHS = 12
SMALL_GROUP = 10
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


# ---- formatting -----------------------------------------------------------------------------------------------


def fmt_money(value, currency: str = "USD") -> str:
    """The amount with its currency, thousands separators, no decimals ("$142,000"); "—" when not a number."""
    return format_money(finite(value), currency)


def fmt_time(value) -> str:
    """An ISO 8601 UTC time as people read it: "1 Nov 2026, 03:00 UTC"; anything else as given."""
    from datetime import UTC, datetime

    if not isinstance(value, str):
        return DASH
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.day} {NAMES[moment.month - 1][:3]} {moment.year}, {moment:%H:%M} UTC"


def fmt_pct(ratio) -> str:
    """A fraction as a percentage with one decimal; "—" when not a number."""
    v = finite(ratio)
    return DASH if v is None else f"{100 * v:.1f}%"


def fmt_nps(value) -> str:
    """NPS (or its margin) with one decimal; "—" when not a number."""
    v = finite(value)
    return DASH if v is None else f"{v:.1f}"


def fmt_count(value) -> str:
    v = finite(value)
    return DASH if v is None else f"{v:,.0f}"


def _e(text) -> str:
    return escape(str(text), quote=True)


def _get(doc, *keys):
    """doc[k1][k2]... or None when any level is missing or not a mapping."""
    for key in keys:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(key)
    return doc


def _mapping(value) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def month_title(month) -> str:
    """ "2026-10" -> "October 2026"; anything else as given."""
    return Month.parse(month).title() if is_month(month) else str(month)


def _short_label(month: str) -> str:
    if not is_month(month):
        return str(month)
    parsed = Month.parse(month)
    return f"{NAMES[parsed.number - 1][:3]}\n{parsed.year}"


# ---- page -----------------------------------------------------------------------------------------------------


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
    current = _mapping(current)
    history = [doc for doc in (history if isinstance(history, list | tuple) else []) if isinstance(doc, Mapping)]
    code = currency or current.get("currency") or "USD"

    def money(value) -> str:
        return fmt_money(value, code)

    title = f"NPS and revenue report \u2014 {month_title(month)}"
    computed_at = _get(current, "computed_at")
    partial = current.get("partial") is True
    body = [
        f"<header><h1>{_e(title)}</h1>",
        f'<p class="meta">Month {_e(month)}'
        + (f" \u00b7 Computed {_e(fmt_time(computed_at))}" if computed_at else "")
        + f" \u00b7 money in {_e(code)}</p>"
        + (
            f'<p class="partial" role="note"><strong>Partial month.</strong> {_e(month_title(month))} was still '
            "running when these figures were computed: they cover what had happened by then, and a task counts as "
            "overdue only once its due time had passed. Recompute after the month ends for the full figures.</p>"
            if partial
            else ""
        )
        + "</header>",
        _headline(current, money),
        _trend(month, current, history),
        _retention(current, money),
        _revenue_per_point(current, money),
        _revenue_at_risk(current, money),
        _loop(current),
        _themes(current, money),
        _breakdowns(current, _mapping(survey_names)),
        _definitions(),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"/>'
        '<meta name="viewport" content="width=device-width,initial-scale=1"/>'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body><main>" + "".join(body) + "</main></body></html>"
    )


def _section(key: str, heading: str, content: str) -> str:
    return f'<section id="{key}" aria-labelledby="{key}-h"><h2 id="{key}-h">{_e(heading)}</h2>{content}</section>'


def _table(headers: list[str], rows: list[list[str]], caption: str = "") -> str:
    """A table of already-escaped cells (headers are escaped here)."""
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<th scope="row">{c}</th>' if i == 0 else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    cap = f'<caption class="muted">{_e(caption)}</caption>' if caption else ""
    return f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _wrap(chart: str, *, wide: bool = False, narrow: bool = False) -> str:
    """A chart in a box that scrolls sideways on a narrow screen rather than shrinking a wide chart unreadably
    (wide), or that stops a small chart from growing oversized on a large screen (narrow)."""
    kind = " wide" if wide else " narrow" if narrow else ""
    return f'<div class="chart-wrap{kind}">{chart}</div>'


def _card(heading: str, figure: str, lines: list[str]) -> str:
    extra = "".join(f"<div>{line}</div>" for line in lines)
    return f'<div class="card"><h3>{_e(heading)}</h3><div class="figure">{figure}</div>{extra}</div>'


def _headline(doc: Mapping, money) -> str:
    nps = _mapping(_get(doc, "nps", "all"))
    n = finite(nps.get("n"))
    if finite(nps.get("nps")) is None:
        nps_card = _card("NPS", "not enough data", [f"n = {_e(fmt_count(n if n is not None else 0))} responses"])
    else:
        lines = [
            f"n = {_e(fmt_count(n))} responses",
            (
                f"{_e(fmt_count(nps.get('promoters')))} promoters \u00b7 {_e(fmt_count(nps.get('passives')))} "
                f"passives \u00b7 {_e(fmt_count(nps.get('detractors')))} detractors"
            ),
        ]
        if nps.get("low_sample"):
            lines.append('<span class="flag">Low sample (n &lt; 30): read with caution</span>')
        nps_card = _card(
            "NPS",
            f"{_e(fmt_nps(nps.get('nps')))} <small>\u00b1 {_e(fmt_nps(nps.get('moe95')))}</small>",
            [*lines, '<span class="muted">± is the 95% margin of error</span>'],
        )

    rpp = _mapping(_get(doc, "revenue_per_nps_point"))
    if finite(rpp.get("monthly")) is None:
        rpp_card = _card(
            "Revenue per NPS point",
            "not enough data",
            [f'<span class="reason">{_e(_sentence(rpp.get("reason") or "not computed"))}</span>'],
        )
    else:
        low, high = _interval(rpp.get("ci95"))
        rpp_card = _card(
            "Revenue per NPS point",
            f"{_e(money(rpp.get('monthly')))} <small>/ month</small>",
            [
                f"{_e(money(rpp.get('annual')))} / year",
                f"95% interval {_e(money(low))} to {_e(money(high))} / month",
                '<a href="#revenue-per-point">How to read this figure</a>',
            ],
        )

    risk = _mapping(_get(doc, "revenue_at_risk"))
    risk_card = _card(
        "Revenue at risk",
        f"{_e(money(risk.get('monthly')))} <small>/ month</small>",
        [f"{_e(money(risk.get('annual')))} / year", f"{_e(fmt_count(risk.get('accounts')))} at-risk accounts"],
    )

    health = _mapping(_get(doc, "health"))
    health_card = _card(
        "Account health",
        f"{_e(fmt_count(health.get('at_risk')))} <small>at risk</small>",
        [
            f"{_e(fmt_count(health.get('safe')))} safe",
            f"{_e(fmt_count(health.get('gray_zone')))} gray zone",
            f"{_e(fmt_count(health.get('unrated')))} unrated",
        ],
    )
    return _section(
        "headline", "Headline figures", f'<div class="cards">{nps_card}{rpp_card}{risk_card}{health_card}</div>'
    )


def _sentence(text) -> str:
    """A reason from the document as a sentence: capital first letter, full stop."""
    text = str(text).strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def _interval(value) -> tuple[float | None, float | None]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return finite(value[0]), finite(value[1])
    return None, None


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
        nps = _mapping(_get(doc, "nps", "all"))
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
                _e(m),
                _e(fmt_nps(value)),
                _e(fmt_nps(err)),
                _e(DASH if doc is None else fmt_count(n if n is not None else 0)),
                _e(
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
    chart = svg.line_chart(
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
    table = _table(["Month", "NPS", "\u00b1 95%", "n", "Note"], rows)
    return _section(
        "trend",
        "NPS over the last 12 months",
        _wrap(chart, wide=True) + legend + f"<details><summary>Figures behind the chart</summary>{table}</details>",
    )


def _nps_tick(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _pct_tick(value: float) -> str:
    return f"{100 * value:.0f}%" if round(100 * value, 6).is_integer() else f"{100 * value:.1f}%"


def _retention(doc: Mapping, money) -> str:
    retention = _mapping(_get(doc, "retention"))
    groups, sublabels, rows = [], [], []
    for category in CATEGORIES:
        item = _mapping(retention.get(category))
        accounts = finite(item.get("accounts"))
        groups.append((CATEGORY_LABELS[category], [finite(item.get("nrr")), finite(item.get("logo_retention"))]))
        sublabels.append(f"n = {fmt_count(accounts if accounts is not None else 0)} accounts")
        rows.append(
            [
                _e(CATEGORY_LABELS[category]),
                _e(fmt_count(item.get("accounts"))),
                _e(money(item.get("base"))),
                _e(fmt_pct(item.get("logo_retention"))),
                _e(fmt_pct(item.get("grr"))),
                _e(fmt_pct(item.get("nrr"))),
            ]
        )
    chart = svg.bar_chart(
        groups,
        series=["Net revenue retention", "Logo retention"],
        data_chart="retention",
        title="Net revenue retention and logo retention by account category",
        width=600,
        height=320,
        value_format=fmt_pct,
        tick_format=_pct_tick,
        sublabels=sublabels,
        reference=(1.0, "100%"),
    )
    intro = (
        '<p class="muted">Accounts that were customers last month, by their category at the start of this month: '
        "the share still customers (logo retention) and this month\u2019s revenue over last month\u2019s (NRR).</p>"
    )
    table = _table(["Category", "Accounts", "Base last month", "Logo retention", "GRR", "NRR"], rows)
    return _section("retention", "Retention by category", intro + _wrap(chart, wide=True) + table)


def _revenue_per_point(doc: Mapping, money) -> str:
    rpp = _mapping(_get(doc, "revenue_per_nps_point"))
    monthly = finite(rpp.get("monthly"))
    low, high = _interval(rpp.get("ci95"))
    chart = svg.interval_chart(
        [("Per month", monthly, low, high)],
        data_chart="revenue-per-point",
        title="Revenue per NPS point per month with its 95% interval",
        width=480,
        value_format=money,
        label_width=90,
        empty_text="not enough data",
    )
    parts = [_wrap(chart, narrow=True)]
    if monthly is None:
        reason = rpp.get("reason") or "It has not been computed for this month."
        parts.append(f'<p><strong>Not enough data.</strong> <span class="reason">{_e(_sentence(reason))}</span></p>')
    else:
        annual_low = None if low is None else 12 * low
        annual_high = None if high is None else 12 * high
        parts.append(
            f"<p>Each NPS point is associated with <strong>{_e(money(monthly))}</strong> of revenue per month "
            f"(95% interval {_e(money(low))} to {_e(money(high))}), "
            f"<strong>{_e(money(rpp.get('annual')))}</strong> per year "
            f"({_e(money(annual_low))} to {_e(money(annual_high))}).</p>"
        )
    # The caveat is said here, once, in plain words; the document's own `note` says the same for API readers.
    parts.append(f'<p class="caveat">{_e(CAVEAT)}</p>')
    parts.append(
        '<p class="muted">Computed from the last 12 months: how next month\u2019s revenue of promoter accounts '
        "compared with that of detractor accounts, scaled to one point of NPS; the interval comes from "
        "resampling accounts.</p>"
    )
    return _section("revenue-per-point", "Revenue per NPS point", "".join(parts))


def _revenue_at_risk(doc: Mapping, money) -> str:
    risk = _mapping(_get(doc, "revenue_at_risk"))
    rows = [
        ["Monthly revenue", _e(money(risk.get("monthly")))],
        ["Annualised (12 \u00d7 monthly)", _e(money(risk.get("annual")))],
        ["Accounts", _e(fmt_count(risk.get("accounts")))],
    ]
    intro = (
        '<p class="muted">This month\u2019s revenue of customer accounts whose account NPS is at the at-risk '
        "threshold or below at the end of the month.</p>"
    )
    return _section("revenue-at-risk", "Revenue at risk", intro + _table(["", "Value"], rows))


def _hours(value) -> str:
    v = finite(value)
    if v is None:
        return DASH
    return f"{v:,.1f} h" + (f" ({v / 24:,.1f} days)" if v >= 48 else "")


def _loop(doc: Mapping) -> str:
    loop = _mapping(_get(doc, "loop"))
    overdue = "Overdue when computed" if doc.get("partial") is True else "Overdue at month end"
    rows = [
        ["Tasks opened", _e(fmt_count(loop.get("opened")))],
        ["Tasks closed", _e(fmt_count(loop.get("closed")))],
        ["Median time to close", _e(_hours(loop.get("median_hours_to_close")))],
        ["Closed within SLA", _e(fmt_pct(loop.get("within_sla")))],
        [overdue, _e(fmt_count(loop.get("overdue")))],
        ["Escalated", _e(fmt_count(loop.get("escalated")))],
    ]
    parts = [_table(["", "This month"], rows)]

    by_kind = _mapping(loop.get("by_kind"))
    if by_kind:
        kind_rows = [
            [
                _e(KIND_LABELS.get(kind, kind)),
                _e(fmt_count(_get(stats, "opened"))),
                _e(fmt_count(_get(stats, "closed"))),
                _e(_hours(_get(stats, "median_hours_to_close"))),
                _e(fmt_pct(_get(stats, "within_sla"))),
                _e(fmt_count(_get(stats, "overdue"))),
                _e(fmt_count(_get(stats, "escalated"))),
            ]
            for kind, stats in sorted(by_kind.items(), key=lambda item: str(item[0]))
        ]
        parts.append("<h3>By kind of task</h3>")
        parts.append(
            _table(["Kind", "Opened", "Closed", "Median to close", "Within SLA", "Overdue", "Escalated"], kind_rows)
        )

    eff = _mapping(loop.get("effectiveness"))
    within, late = _mapping(eff.get("within_sla")), _mapping(eff.get("late"))
    horizon = eff.get("horizon")
    parts.append("<h3>Does closing the loop on time keep customers?</h3>")
    parts.append(
        '<p class="muted">Detractor accounts with a recovery task opened this month: the share still customers '
        + (f"in {_e(month_title(horizon))} " if horizon else "three months later ")
        + "when every task closed within SLA versus when one was late.</p>"
    )
    parts.append(
        _table(
            ["Recovery tasks", "Accounts", "Logo retention after 3 months"],
            [
                ["Closed within SLA", _e(fmt_count(within.get("accounts"))), _e(fmt_pct(within.get("logo_retention")))],
                ["Late or still open", _e(fmt_count(late.get("accounts"))), _e(fmt_pct(late.get("logo_retention")))],
            ],
        )
    )
    pending = eff.get("pending_until")
    if pending:
        parts.append(
            f'<p class="muted">Retention is known once that month has ended: recompute after '
            f"{_e(fmt_time(pending))}.</p>"
        )
    counts = [finite(within.get("accounts")), finite(late.get("accounts"))]
    if any(c is not None and c < SMALL_GROUP for c in counts):
        parts.append(
            f'<p class="muted">Fewer than {SMALL_GROUP} accounts in a group: read the comparison with caution.</p>'
        )
    return _section("loop", "Close the loop", "".join(parts))


def _theme_items(entries, key: str) -> list[tuple[str, float | None]]:
    items = []
    for entry in entries if isinstance(entries, list | tuple) else []:
        if isinstance(entry, Mapping):
            items.append((str(entry.get("theme") if entry.get("theme") is not None else DASH), finite(entry.get(key))))
    return items


def _themes(doc: Mapping, money) -> str:
    themes = _mapping(_get(doc, "themes"))
    by_count = svg.hbar_chart(
        _theme_items(themes.get("by_count"), "count"),
        data_chart="themes-count",
        title="Top themes in detractor comments by number of comments",
        width=380,
        label_width=130,
        value_format=fmt_count,
        empty_text="No themes in detractor comments this month",
    )
    by_revenue = svg.hbar_chart(
        _theme_items(themes.get("by_revenue"), "revenue"),
        data_chart="themes-revenue",
        title="Top themes in detractor comments by revenue of the accounts behind them",
        width=380,
        label_width=130,
        value_format=money,
        color=svg.PALETTE[1],
        empty_text="No themes with revenue this month",
    )
    return _section(
        "themes",
        "Top themes",
        '<p class="muted">Themes found in this month\u2019s detractor comments.</p><div class="grid2">'
        f"<div><h3>By number of comments</h3>{_wrap(by_count)}</div>"
        f"<div><h3>By revenue of the accounts behind them</h3>{_wrap(by_revenue)}</div></div>",
    )


def _nps_table(groups, labels: Mapping | None = None, missing: str | None = None) -> str:
    """NPS per group; `labels` names groups (survey ids by name), `missing` labels the group without a value."""
    groups = _mapping(groups)
    labels = labels or {}
    if not groups:
        return '<p class="muted">No data.</p>'
    rows = []
    # The group without a value comes last, after the named ones.
    for name, item in sorted(groups.items(), key=lambda kv: (bool(missing) and kv[0] == NO_KEY, str(kv[0]))):
        item = _mapping(item)
        value = finite(item.get("nps"))
        flag = "no responses" if value is None else "low sample" if item.get("low_sample") else ""
        if labels.get(name):
            label = f'<span title="{_e(name)}">{_e(labels[name])}</span>'
        elif missing and name == NO_KEY:
            label = f'<span class="no-value">{_e(missing)}</span>'
        else:
            label = _e(name)
        rows.append([label, _e(fmt_nps(value)), _e(fmt_nps(item.get("moe95"))), _e(fmt_count(item.get("n"))), _e(flag)])
    return _table(["Name", "NPS", "\u00b1 95%", "n", "Note"], rows)


def _breakdowns(doc: Mapping, survey_names: Mapping) -> str:
    nps = _mapping(_get(doc, "nps"))
    rates = _mapping(_get(doc, "response_rate"))
    rate_rows = [
        [
            _e(survey_names.get(survey) or survey),
            _e(fmt_count(_get(r, "invited"))),
            _e(fmt_count(_get(r, "responded"))),
            _e(fmt_pct(_get(r, "rate"))),
        ]
        for survey, r in sorted(rates.items(), key=lambda kv: str(kv[0]))
    ]
    rate_table = (
        _table(["Survey", "Invited", "Responded", "Rate"], rate_rows)
        if rate_rows
        else '<p class="muted">No invitations sent this month.</p>'
    )
    return _section(
        "breakdowns",
        "NPS by segment, touchpoint and survey",
        '<div class="grid2">'
        f"<div><h3>By segment</h3>{_nps_table(nps.get('by_segment'), missing='No segment')}</div>"
        f"<div><h3>By touchpoint</h3>{_nps_table(nps.get('by_touchpoint'), missing='No touchpoint')}</div>"
        f"<div><h3>By survey</h3>{_nps_table(nps.get('by_survey'), survey_names)}</div>"
        f"<div><h3>Response rate by survey</h3>{rate_table}</div></div>",
    )


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
    lines = "".join(f"<li><strong>{_e(name)}</strong>: {_e(text)}</li>" for name, text in items)
    return _section(
        "definitions",
        "How these figures are defined",
        f'<ul>{lines}</ul><p class="muted">Every figure is defined in full, with the choices made for missing '
        f"values, in the project\u2019s metric definitions: <code>{_e(DEFINITIONS)}</code> in its repository.</p>",
    )
