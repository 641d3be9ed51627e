"""The report's revenue sections: retention by category, revenue per NPS point (with the caveat, said once),
and revenue at risk."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.reports import charts
from chalicelib.reports.formatting import (
    as_mapping,
    chart_box,
    dig,
    esc,
    fmt_count,
    fmt_pct,
    interval,
    section_html,
    sentence,
    table_html,
)
from chalicelib.reports.svg import finite

CAVEAT = "This is an association observed in your own customer data, not proof that raising NPS causes revenue to grow."
CATEGORIES = ("promoter", "passive", "detractor", "unrated")
CATEGORY_LABELS = {"promoter": "Promoters", "passive": "Passives", "detractor": "Detractors", "unrated": "Unrated"}


def retention_section(doc: Mapping, money) -> str:
    retention = as_mapping(dig(doc, "retention"))
    groups, sublabels, rows = [], [], []
    for category in CATEGORIES:
        item = as_mapping(retention.get(category))
        accounts = finite(item.get("accounts"))
        groups.append((CATEGORY_LABELS[category], [finite(item.get("nrr")), finite(item.get("logo_retention"))]))
        sublabels.append(f"n = {fmt_count(accounts if accounts is not None else 0)} accounts")
        rows.append(
            [
                esc(CATEGORY_LABELS[category]),
                esc(fmt_count(item.get("accounts"))),
                esc(money(item.get("base"))),
                esc(fmt_pct(item.get("logo_retention"))),
                esc(fmt_pct(item.get("grr"))),
                esc(fmt_pct(item.get("nrr"))),
            ]
        )
    chart = charts.bar_chart(
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
    table = table_html(["Category", "Accounts", "Base last month", "Logo retention", "GRR", "NRR"], rows)
    return section_html("retention", "Retention by category", intro + chart_box(chart, wide=True) + table)


def revenue_per_point_section(doc: Mapping, money) -> str:
    rpp = as_mapping(dig(doc, "revenue_per_nps_point"))
    monthly = finite(rpp.get("monthly"))
    low, high = interval(rpp.get("ci95"))
    chart = charts.interval_chart(
        [("Per month", monthly, low, high)],
        data_chart="revenue-per-point",
        title="Revenue per NPS point per month with its 95% interval",
        width=480,
        value_format=money,
        label_width=90,
        empty_text="not enough data",
    )
    parts = [chart_box(chart, narrow=True)]
    if monthly is None:
        reason = rpp.get("reason") or "It has not been computed for this month."
        parts.append(f'<p><strong>Not enough data.</strong> <span class="reason">{esc(sentence(reason))}</span></p>')
    else:
        annual_low = None if low is None else 12 * low
        annual_high = None if high is None else 12 * high
        parts.append(
            f"<p>Each NPS point is associated with <strong>{esc(money(monthly))}</strong> of revenue per month "
            f"(95% interval {esc(money(low))} to {esc(money(high))}), "
            f"<strong>{esc(money(rpp.get('annual')))}</strong> per year "
            f"({esc(money(annual_low))} to {esc(money(annual_high))}).</p>"
        )
    # The caveat is said here, once, in plain words; the document's own `note` says the same for API readers.
    parts.append(f'<p class="caveat">{esc(CAVEAT)}</p>')
    parts.append(
        '<p class="muted">Computed from the last 12 months: how next month\u2019s revenue of promoter accounts '
        "compared with that of detractor accounts, scaled to one point of NPS; the interval comes from "
        "resampling accounts.</p>"
    )
    return section_html("revenue-per-point", "Revenue per NPS point", "".join(parts))


def revenue_at_risk_section(doc: Mapping, money) -> str:
    risk = as_mapping(dig(doc, "revenue_at_risk"))
    rows = [
        ["Monthly revenue", esc(money(risk.get("monthly")))],
        ["Annualised (12 \u00d7 monthly)", esc(money(risk.get("annual")))],
        ["Accounts", esc(fmt_count(risk.get("accounts")))],
    ]
    intro = (
        '<p class="muted">This month\u2019s revenue of customer accounts whose account NPS is at the at-risk '
        "threshold or below at the end of the month.</p>"
    )
    return section_html("revenue-at-risk", "Revenue at risk", intro + table_html(["", "Value"], rows))


def _pct_tick(value: float) -> str:
    return f"{100 * value:.0f}%" if round(100 * value, 6).is_integer() else f"{100 * value:.1f}%"
