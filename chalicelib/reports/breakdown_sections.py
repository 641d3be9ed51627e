"""The report's breakdowns: the top themes of detractor comments, NPS by segment, touchpoint and survey, and
the response rate by survey."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.reports import charts, svg
from chalicelib.reports.formatting import (
    DASH,
    as_mapping,
    chart_box,
    dig,
    esc,
    fmt_count,
    fmt_nps,
    fmt_pct,
    section_html,
    table_html,
)
from chalicelib.reports.svg import finite

NO_KEY = "none"  # the document's key for responses without a segment or touchpoint


def _theme_items(entries, key: str) -> list[tuple[str, float | None]]:
    items = []
    for entry in entries if isinstance(entries, list | tuple) else []:
        if isinstance(entry, Mapping):
            items.append((str(entry.get("theme") if entry.get("theme") is not None else DASH), finite(entry.get(key))))
    return items


def themes_section(doc: Mapping, money) -> str:
    themes = as_mapping(dig(doc, "themes"))
    by_count = charts.hbar_chart(
        _theme_items(themes.get("by_count"), "count"),
        data_chart="themes-count",
        title="Top themes in detractor comments by number of comments",
        width=380,
        label_width=130,
        value_format=fmt_count,
        empty_text="No themes in detractor comments this month",
    )
    by_revenue = charts.hbar_chart(
        _theme_items(themes.get("by_revenue"), "revenue"),
        data_chart="themes-revenue",
        title="Top themes in detractor comments by revenue of the accounts behind them",
        width=380,
        label_width=130,
        value_format=money,
        color=svg.PALETTE[1],
        empty_text="No themes with revenue this month",
    )
    return section_html(
        "themes",
        "Top themes",
        '<p class="muted">Themes found in this month\u2019s detractor comments.</p><div class="grid2">'
        f"<div><h3>By number of comments</h3>{chart_box(by_count)}</div>"
        f"<div><h3>By revenue of the accounts behind them</h3>{chart_box(by_revenue)}</div></div>",
    )


def _nps_table(groups, labels: Mapping | None = None, missing: str | None = None) -> str:
    """NPS per group; `labels` names groups (survey ids by name), `missing` labels the group without a value."""
    groups = as_mapping(groups)
    labels = labels or {}
    if not groups:
        return '<p class="muted">No data.</p>'
    rows = []
    # The group without a value comes last, after the named ones.
    for name, item in sorted(groups.items(), key=lambda kv: (bool(missing) and kv[0] == NO_KEY, str(kv[0]))):
        item = as_mapping(item)
        value = finite(item.get("nps"))
        flag = "no responses" if value is None else "low sample" if item.get("low_sample") else ""
        if labels.get(name):
            label = f'<span title="{esc(name)}">{esc(labels[name])}</span>'
        elif missing and name == NO_KEY:
            label = f'<span class="no-value">{esc(missing)}</span>'
        else:
            label = esc(name)
        rows.append(
            [label, esc(fmt_nps(value)), esc(fmt_nps(item.get("moe95"))), esc(fmt_count(item.get("n"))), esc(flag)]
        )
    return table_html(["Name", "NPS", "\u00b1 95%", "n", "Note"], rows)


def breakdowns_section(doc: Mapping, survey_names: Mapping) -> str:
    nps = as_mapping(dig(doc, "nps"))
    rates = as_mapping(dig(doc, "response_rate"))
    rate_rows = [
        [
            esc(survey_names.get(survey) or survey),
            esc(fmt_count(dig(r, "invited"))),
            esc(fmt_count(dig(r, "responded"))),
            esc(fmt_pct(dig(r, "rate"))),
        ]
        for survey, r in sorted(rates.items(), key=lambda kv: str(kv[0]))
    ]
    rate_table = (
        table_html(["Survey", "Invited", "Responded", "Rate"], rate_rows)
        if rate_rows
        else '<p class="muted">No invitations sent this month.</p>'
    )
    return section_html(
        "breakdowns",
        "NPS by segment, touchpoint and survey",
        '<div class="grid2">'
        f"<div><h3>By segment</h3>{_nps_table(nps.get('by_segment'), missing='No segment')}</div>"
        f"<div><h3>By touchpoint</h3>{_nps_table(nps.get('by_touchpoint'), missing='No touchpoint')}</div>"
        f"<div><h3>By survey</h3>{_nps_table(nps.get('by_survey'), survey_names)}</div>"
        f"<div><h3>Response rate by survey</h3>{rate_table}</div></div>",
    )
