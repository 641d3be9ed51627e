"""The operations dashboard (chalicelib.ops.dashboard, the definition CloudWatch gets) drawn by the local stack
from the metrics it collected (nps_local.metrics_sink): `/local/dashboard` (HTML, inline SVG, no script,
no third-party asset) and `/local/dashboard.json` (the same numbers).

Every widget of the definition is a `<section class="widget" data-widget="<id>">` with one `<svg class="chart">`
and a legend whose rows carry `<span class="latest" data-metric="<metric id>">` (the latest datapoint) and
`<span class="window" data-metric="<metric id>">` (the metric's statistic over the whole window). Datapoints are
per minute (CloudWatch's resolution) over the last `minutes`, each with the metric's own statistic; a widget
whose metrics all have an hourly CloudWatch period ("Detractors per hour") has one datapoint per hour over the
last `HOURS` hours instead, and its axis is labelled in hours. Metric math (NPS from the category counts) is
evaluated per datapoint and over the window with the definition's `evaluate`, as CloudWatch evaluates it. A
metric nothing local produces says "no local data", never zero.

The page fits a phone: one column below ~480 px, charts that scale with their box, tables that wrap. Each
widget's chart is drawn by nps_local/dashboard_chart.py.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from chalicelib.ops import dashboard, metric_math
from chalicelib.ops.dashboard import Widget
from chalicelib.reports import svg
from nps_local.dashboard_chart import COLORS, NO_LOCAL_DATA, chart, esc, fmt_value
from nps_local.metrics_sink import HOUR, MetricStore

DEFAULT_MINUTES = 30
HOURS = 24  # the hourly widgets' window (the store keeps a day of hourly buckets)
REFRESH_SECONDS = 10

# Why some metrics of the definition never have a local datapoint.
NO_LOCAL_SOURCE = {
    (dashboard.LAMBDA, "Throttles"): "nothing throttles a function in the local stack",
    (dashboard.DYNAMODB, "ThrottledRequests"): "moto never throttles a table",
}
AUTHORIZER_NOTE = "the authorizer runs inside the local gateway and is not measured as a function"


def widget_id(widget: Widget) -> str:
    """A widget's stable id: its title in lowercase words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", widget.title.lower()).strip("-")


def _no_source_note(metric: dashboard.Metric, names: dashboard.Names | None) -> str:
    reason = NO_LOCAL_SOURCE.get((metric.namespace, metric.name))
    if (
        reason is None
        and names is not None
        and metric.dimension_map.get("FunctionName") == names.function("admin_auth")
    ):
        reason = AUTHORIZER_NOTE
    return f"{NO_LOCAL_DATA}: {reason}" if reason else NO_LOCAL_DATA


def _latest(buckets: list[int], values: list[float | None]) -> tuple[float | None, int | None]:
    for stamp, value in zip(reversed(buckets), reversed(values), strict=True):
        if value is not None:
            return value, stamp
    return None, None


def _clean(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)


def build(
    store: MetricStore,
    widgets: list[Widget],
    *,
    names: dashboard.Names | None = None,
    now: float | None = None,
    minutes: int = DEFAULT_MINUTES,
) -> dict:
    """The dashboard's data: per widget, per metric and expression, the per-minute datapoints of the window, the
    latest datapoint and the statistic over the window. JSON-ready."""
    period = store.resolution
    now = store.clock() if now is None else now
    end = store.bucket_start(now) + period
    start = end - minutes * period
    buckets = list(range(start, end, period))
    hour_end = int(now // HOUR) * HOUR + HOUR
    hour_buckets = list(range(hour_end - HOURS * HOUR, hour_end, HOUR))
    out_widgets = []
    for widget in widgets:
        hourly = is_hourly(widget)
        w_period, w_buckets = (HOUR, hour_buckets) if hourly else (period, buckets)
        w_start, w_end = w_buckets[0], w_buckets[-1] + w_period
        values: dict[str, list[float | None]] = {}
        windows: dict[str, float | None] = {}
        series = []
        seen_any = False
        for metric in widget.metrics:
            dims = metric.dimension_map
            points = store.datapoints(
                metric.namespace, metric.name, dims, metric.stat, start=w_start, end=w_end, period=w_period
            )
            values[metric.id] = [v for _, v in points]
            windows[metric.id] = store.aggregate(
                metric.namespace, metric.name, dims, metric.stat, start=w_start, end=w_end, hourly=hourly
            )
            seen = store.seen(metric.namespace, metric.name, dims)
            seen_any = seen_any or seen
            series.append(
                {
                    "id": metric.id,
                    "label": metric.label or metric.name,
                    "kind": "metric",
                    "visible": metric.visible,
                    "namespace": metric.namespace,
                    "name": metric.name,
                    "dimensions": dims,
                    "stat": metric.stat,
                    "cloudwatch_period": metric.period,
                    "unit": store.unit(metric.namespace, metric.name, dims),
                    "seen": seen,
                    "note": None if seen else _no_source_note(metric, names),
                }
            )
        for expression in widget.expressions:
            values[expression.id] = [
                metric_math.evaluate(expression.expression, {k: v[i] for k, v in values.items()})
                for i in range(len(w_buckets))
            ]
            windows[expression.id] = metric_math.evaluate(expression.expression, windows)
            series.append(
                {
                    "id": expression.id,
                    "label": expression.label,
                    "kind": "expression",
                    "visible": True,
                    "expression": expression.expression,
                    "seen": seen_any,
                    "note": None if seen_any else NO_LOCAL_DATA,
                }
            )
        for item in series:
            item["values"] = [_clean(v) for v in values[item["id"]]]
            item["latest"], item["latest_at"] = _latest(w_buckets, item["values"])
            item["window"] = _clean(windows[item["id"]])
            item["has_data"] = item["latest"] is not None
        shown = [s for s in series if s["visible"]]
        out_widgets.append(
            {
                "id": widget_id(widget),
                "title": widget.title,
                "unit": widget.unit,
                "stacked": widget.stacked,
                "y_range": list(widget.y_range),
                "annotations": [{"label": label, "value": value} for label, value in widget.annotations],
                "has_data": any(s["has_data"] for s in shown),
                "seen": seen_any,
                "period": w_period,
                "buckets": w_buckets,
                "window": f"last {HOURS} hours" if hourly else f"last {minutes} min",
                "series": series,
            }
        )
    return {
        "generated_at": _iso(now),
        "period": period,
        "minutes": minutes,
        "start": start,
        "end": end,
        "buckets": buckets,
        "collected": store.describe(),
        "widgets": out_widgets,
    }


def is_hourly(widget: Widget) -> bool:
    """Whether the widget charts hours: every metric it shows has an hourly CloudWatch period."""
    return bool(widget.metrics) and all(m.period % HOUR == 0 for m in widget.metrics)


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _readable(iso: str) -> str:
    """ "2026-12-02T08:00:39Z" -> "08:00:39 UTC on 2 Dec 2026"."""
    moment = datetime.fromisoformat(iso)
    return f"{moment:%H:%M:%S} UTC on {moment.day} {moment:%b %Y}"


# ---- the page ---------------------------------------------------------------------------------------------------

STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f5f6f8;color:#1d2433;
overflow-wrap:break-word}
header{padding:16px 24px;background:#fff;border-bottom:1px solid #e3e6eb}
h1{font-size:20px;margin:0 0 4px}
header p{margin:2px 0;color:#5b6474;font-size:13px}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,460px),1fr));gap:16px;padding:16px 24px}
.widget{background:#fff;border:1px solid #e3e6eb;border-radius:6px;padding:12px 16px;min-width:0}
svg.chart{display:block;width:100%;height:auto;max-width:100%}
.table-wrap{overflow-x:auto}
@media (max-width:480px){header{padding:12px}main{padding:10px;gap:10px}.widget{padding:10px}
th,td{padding:3px 4px}}
.widget h2{font-size:15px;margin:0 0 2px}
.widget .meta{margin:0 0 8px;color:#5b6474;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:12px;margin-top:8px}
th,td{text-align:left;padding:3px 6px;border-top:1px solid #eef0f3}
th{color:#5b6474;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.no-data{color:#5b6474;font-style:italic}
.note{color:#5b6474}
details{font-size:12px;margin-top:6px}
"""


def _value_span(cls: str, item: dict, value: float | None) -> str:
    if value is None:
        text = (item["note"] or NO_LOCAL_DATA).split(":")[0] if not item["seen"] else svg.DASH
        return f'<span class="{cls} no-data" data-metric="{esc(item["id"])}">{esc(text)}</span>'
    return f'<span class="{cls}" data-metric="{esc(item["id"])}" data-value="{value!r}">{esc(fmt_value(value))}</span>'


def _rows(items: list[tuple[int, dict]], show_swatch: bool) -> str:
    rows = []
    for i, item in items:
        swatch = (
            f'<span class="swatch" style="background:{COLORS[i % len(COLORS)]}"></span>'
            if show_swatch and item["has_data"]
            else ""
        )
        what = esc(item.get("stat") or "")
        if item["kind"] == "expression":
            text = item["expression"] if len(item["expression"]) <= 48 else item["expression"][:45] + "\u2026"
            what = f'<span title="{esc(item["expression"])}">= {esc(text)}</span>'
        note = f'<div class="note">{esc(item["note"])}</div>' if item["note"] and item["note"] != NO_LOCAL_DATA else ""
        rows.append(
            f'<tr data-series="{esc(item["id"])}"><td>{swatch}{esc(item["label"])}{note}</td>'
            f'<td>{what}</td><td class="num">{_value_span("latest", item, item["latest"])}</td>'
            f'<td class="num">{_value_span("window", item, item["window"])}</td></tr>'
        )
    return "".join(rows)


def _table(items: list[tuple[int, dict]], window: str, show_swatch: bool) -> str:
    return (
        f'<div class="table-wrap"><table><thead><tr><th>series</th><th>statistic</th><th class="num">latest</th>'
        f'<th class="num">{esc(window)}</th></tr></thead><tbody>{_rows(items, show_swatch)}</tbody></table></div>'
    )


def section(widget: dict) -> str:
    visible = list(enumerate(s for s in widget["series"] if s["visible"]))
    hidden = [(0, s) for s in widget["series"] if not s["visible"]]
    periods = sorted({s["cloudwatch_period"] for s in widget["series"] if s.get("cloudwatch_period")})
    period = widget["period"]
    meta = [
        widget["unit"] or "",
        "one datapoint per hour here" if period >= HOUR else f"one datapoint per {period // 60} min here",
    ]
    if periods and periods != [period]:
        meta.append("CloudWatch period " + ", ".join(_period_text(p) for p in periods))
    if widget["stacked"]:
        meta.append("stacked")
    meta += [f"{a['label']} at {fmt_value(a['value'])}" for a in widget["annotations"]]
    parts = [
        f'<section class="widget" data-widget="{esc(widget["id"])}" aria-labelledby="w-{esc(widget["id"])}">',
        f'<h2 id="w-{esc(widget["id"])}">{esc(widget["title"])}</h2>',
        f'<p class="meta">{esc(" · ".join(m for m in meta if m))}</p>',
        chart(widget),
        _table(visible, widget["window"], True),
    ]
    if hidden:
        parts.append(
            f"<details><summary>inputs of the metric math: {len(hidden)} metrics</summary>"
            f"{_table(hidden, widget['window'], False)}</details>"
        )
    parts.append("</section>")
    return "".join(parts)


def _period_text(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds // 60} min"


def render(model: dict, *, refresh: int = REFRESH_SECONDS, stage: str = "dev") -> str:
    """The HTML page: one section per widget, in the definition's order."""
    collected = model["collected"]
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    head = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="referrer" content="no-referrer">'
        + (f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh > 0 else "")
        + '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>NPS operations dashboard (local, stage {esc(stage)})</title><style>{STYLE}</style></head><body>"
    )
    header = (
        f"<header><h1>NPS operations dashboard — local stack, stage {esc(stage)}</h1>"
        f"<p>The CloudWatch dashboard's definition (chalicelib/ops/dashboard.py) with the metrics this stack "
        f"collected: the EMF lines its functions printed, and what Lambda, SQS and API Gateway would publish "
        f"for its invocations. Last {model['minutes']} minutes to {esc(_readable(model['generated_at']))} "
        "(times in UTC, "
        f"one datapoint per {model['period'] // 60} min; hourly widgets: the last {HOURS} hours, one per hour; "
        f"<code>?minutes=</code> changes the window). "
        + (f"Refreshes every {int(refresh)} s." if refresh > 0 else "")
        + "</p>"
        f"<p>Collected: {collected['series']} series, {collected['samples']} samples from "
        f"{collected['emf_lines']} EMF lines and local measurements"
        + (f", {collected['dropped']} dropped" if collected["dropped"] else "")
        + ". A metric nothing local produces says “no local data”.</p></header>"
    )
    body = "".join(section(w) for w in model["widgets"])
    return head + header + f"<main>{body}</main></body></html>"
