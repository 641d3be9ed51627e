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

The page fits a phone: one column below ~480 px, charts that scale with their box, tables that wrap.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from html import escape

from chalicelib.ops import dashboard, metric_math
from chalicelib.ops.dashboard import Widget
from chalicelib.reports import svg
from nps_local.metrics_sink import HOUR, MetricStore

DEFAULT_MINUTES = 30
HOURS = 24  # the hourly widgets' window (the store keeps a day of hourly buckets)
REFRESH_SECONDS = 10
NO_LOCAL_DATA = "no local data"
CHART_WIDTH = 520.0  # narrow enough that axis labels stay legible when a phone scales the chart down
CHART_HEIGHT = 240.0
COLORS = (*svg.PALETTE, "#0e7490", "#a16207", "#be185d", "#4d7c0f", "#334155")

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


def _hhmm(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%H:%M")


def _hour(stamp: int) -> str:
    """An hour bucket's axis label: the hour it starts ("14:00")."""
    return datetime.fromtimestamp(stamp, UTC).strftime("%H:00")


def _when(stamp: int, hourly: bool) -> str:
    if not hourly:
        return _hhmm(stamp)
    hour = datetime.fromtimestamp(stamp, UTC)
    return f"{hour:%H}:00\u2013{(hour.hour + 1) % 24:02d}:00"


def _fmt(value: float | None) -> str:
    if value is None:
        return svg.DASH
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _esc(text) -> str:
    return escape(str(text), quote=True)


# ---- the chart --------------------------------------------------------------------------------------------------


def chart(widget: dict) -> str:
    """A time-series chart of the widget's visible series over its own buckets (minutes, or hours for an hourly
    widget): a line and points per series (gaps where there is no datapoint), stacked when the widget is; an
    empty chart saying why when nothing has a datapoint."""
    buckets = widget["buckets"]
    hourly = widget["period"] >= HOUR
    title = widget["title"]
    data_chart = widget["id"]
    shown = [(i, s) for i, s in enumerate(s for s in widget["series"] if s["visible"])]
    plotted = [(i, s) for i, s in shown if s["has_data"]]
    if not plotted:
        message = NO_LOCAL_DATA if not widget["seen"] else f"no datapoint in the {widget['window']}"
        return svg.empty_chart(CHART_WIDTH, 120, data_chart, title, message)

    lines: list[tuple[int, dict, list[float | None]]] = []
    running = [0.0] * len(buckets)
    for i, s in plotted:
        if widget["stacked"]:
            stacked = []
            for n, v in enumerate(s["values"]):
                running[n] += v or 0.0
                stacked.append(running[n] if v is not None else None)
            lines.append((i, s, stacked))
        else:
            lines.append((i, s, s["values"]))
    data = [v for _, _, vals in lines for v in vals if v is not None]
    low, high = widget["y_range"]
    y_min = min([*data, 0.0]) if low is None else float(low)
    if high is None:
        top = max([*data, y_min])
        y_min, y_max = svg.nice_bounds(y_min, top * 1.08 if top > 0 else y_min + 1)
    else:
        y_max = float(high)

    left, right, top_pad, bottom = 56.0, 14.0, 12.0, 28.0
    plot_bottom = CHART_HEIGHT - bottom
    y = svg.linear_scale(y_min, y_max, plot_bottom, top_pad)
    step = (CHART_WIDTH - left - right) / max(len(buckets), 1)
    xs = [left + step * (n + 0.5) for n in range(len(buckets))]

    def clamp(v: float) -> float:
        return min(max(v, y_min), y_max)

    described = [f"{s['label']}: latest {_fmt(s['latest'])}" for _, s, _ in lines]
    parts = [svg.start(CHART_WIDTH, CHART_HEIGHT, data_chart, title, f"{title}. " + "; ".join(described))]
    for tick in svg.nice_ticks(y_min, y_max, 5):
        ty = y(tick)
        parts.append(svg.line(left, ty, CHART_WIDTH - right, ty, cls="grid", stroke=svg.GRID))
        parts.append(svg.text(left - 6, ty + 4, _fmt(tick), anchor="end", fill=svg.MUTED, size=13))
    if y_min < 0 < y_max:
        parts.append(svg.line(left, y(0), CHART_WIDTH - right, y(0), cls="zero-line", stroke=svg.MUTED, width=1.5))
    parts.append(svg.line(left, plot_bottom, CHART_WIDTH - right, plot_bottom, cls="axis", stroke=svg.MUTED))
    every = max(1, math.ceil(len(buckets) / 5))
    for n, stamp in enumerate(buckets):
        if (len(buckets) - 1 - n) % every == 0:
            label = _hour(stamp) if hourly else _hhmm(stamp)
            parts.append(svg.text(xs[n], plot_bottom + 16, label, cls="x-label", fill=svg.MUTED, size=13))
    for label, value in ((a["label"], a["value"]) for a in widget["annotations"]):
        if y_min <= value <= y_max:
            ay = y(value)
            parts.append(
                svg.line(
                    left,
                    ay,
                    CHART_WIDTH - right,
                    ay,
                    cls="annotation",
                    stroke=svg.PALETTE[3],
                    width=1.2,
                    extra=' stroke-dasharray="5 4"',
                )
            )
            parts.append(svg.text(CHART_WIDTH - right, ay - 4, label, anchor="end", fill=svg.PALETTE[3], size=10))

    for i, s, vals in lines:
        color = COLORS[i % len(COLORS)]
        runs, run = [], []
        for n, v in enumerate([*vals, None]):
            if v is None:
                if len(run) > 1:
                    runs.append("M" + " L".join(f"{svg.coord(px)} {svg.coord(py)}" for px, py in run))
                run = []
            else:
                run.append((xs[n], y(clamp(v))))
        if runs:
            parts.append(
                f'<path class="series-line" data-series="{_esc(s["id"])}" d="{" ".join(runs)}" '
                f'fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round"/>'
            )
        for n, v in enumerate(vals):
            if v is None:
                continue
            shown_value = s["values"][n]
            parts.append(
                f'<circle class="point" data-series="{_esc(s["id"])}" data-value="{svg.coord(shown_value)}" '
                f'cx="{svg.coord(xs[n])}" cy="{svg.coord(y(clamp(v)))}" r="3" fill="{color}">'
                f"<title>{_when(buckets[n], hourly)} UTC {_esc(s['label'])}: {_esc(_fmt(shown_value))}</title>"
                "</circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


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
        return f'<span class="{cls} no-data" data-metric="{_esc(item["id"])}">{_esc(text)}</span>'
    return f'<span class="{cls}" data-metric="{_esc(item["id"])}" data-value="{value!r}">{_esc(_fmt(value))}</span>'


def _rows(items: list[tuple[int, dict]], show_swatch: bool) -> str:
    rows = []
    for i, item in items:
        swatch = (
            f'<span class="swatch" style="background:{COLORS[i % len(COLORS)]}"></span>'
            if show_swatch and item["has_data"]
            else ""
        )
        what = _esc(item.get("stat") or "")
        if item["kind"] == "expression":
            text = item["expression"] if len(item["expression"]) <= 48 else item["expression"][:45] + "\u2026"
            what = f'<span title="{_esc(item["expression"])}">= {_esc(text)}</span>'
        note = f'<div class="note">{_esc(item["note"])}</div>' if item["note"] and item["note"] != NO_LOCAL_DATA else ""
        rows.append(
            f'<tr data-series="{_esc(item["id"])}"><td>{swatch}{_esc(item["label"])}{note}</td>'
            f'<td>{what}</td><td class="num">{_value_span("latest", item, item["latest"])}</td>'
            f'<td class="num">{_value_span("window", item, item["window"])}</td></tr>'
        )
    return "".join(rows)


def _table(items: list[tuple[int, dict]], window: str, show_swatch: bool) -> str:
    return (
        f'<div class="table-wrap"><table><thead><tr><th>series</th><th>statistic</th><th class="num">latest</th>'
        f'<th class="num">{_esc(window)}</th></tr></thead><tbody>{_rows(items, show_swatch)}</tbody></table></div>'
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
    meta += [f"{a['label']} at {_fmt(a['value'])}" for a in widget["annotations"]]
    parts = [
        f'<section class="widget" data-widget="{_esc(widget["id"])}" aria-labelledby="w-{_esc(widget["id"])}">',
        f'<h2 id="w-{_esc(widget["id"])}">{_esc(widget["title"])}</h2>',
        f'<p class="meta">{_esc(" · ".join(m for m in meta if m))}</p>',
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
        f"<title>NPS operations dashboard (local, stage {_esc(stage)})</title><style>{STYLE}</style></head><body>"
    )
    header = (
        f"<header><h1>NPS operations dashboard — local stack, stage {_esc(stage)}</h1>"
        f"<p>The CloudWatch dashboard's definition (chalicelib/ops/dashboard.py) with the metrics this stack "
        f"collected: the EMF lines its functions printed, and what Lambda, SQS and API Gateway would publish "
        f"for its invocations. Last {model['minutes']} minutes to {_esc(_readable(model['generated_at']))} "
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
