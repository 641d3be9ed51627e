"""One widget of the local operations dashboard drawn as a time-series chart in inline SVG (the report's SVG
elements, chalicelib/reports/svg.py), with the value and time formats the page shares."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape

from chalicelib.reports import svg
from nps_local.metrics_sink import HOUR

NO_LOCAL_DATA = "no local data"
CHART_WIDTH = 520.0  # narrow enough that axis labels stay legible when a phone scales the chart down
CHART_HEIGHT = 240.0
COLORS = (*svg.PALETTE, "#0e7490", "#a16207", "#be185d", "#4d7c0f", "#334155")


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


def fmt_value(value: float | None) -> str:
    if value is None:
        return svg.DASH
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def esc(text) -> str:
    return escape(str(text), quote=True)


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

    described = [f"{s['label']}: latest {fmt_value(s['latest'])}" for _, s, _ in lines]
    parts = [svg.start(CHART_WIDTH, CHART_HEIGHT, data_chart, title, f"{title}. " + "; ".join(described))]
    for tick in svg.nice_ticks(y_min, y_max, 5):
        ty = y(tick)
        parts.append(svg.line(left, ty, CHART_WIDTH - right, ty, cls="grid", stroke=svg.GRID))
        parts.append(svg.text(left - 6, ty + 4, fmt_value(tick), anchor="end", fill=svg.MUTED, size=13))
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
                f'<path class="series-line" data-series="{esc(s["id"])}" d="{" ".join(runs)}" '
                f'fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round"/>'
            )
        for n, v in enumerate(vals):
            if v is None:
                continue
            shown_value = s["values"][n]
            parts.append(
                f'<circle class="point" data-series="{esc(s["id"])}" data-value="{svg.coord(shown_value)}" '
                f'cx="{svg.coord(xs[n])}" cy="{svg.coord(y(clamp(v)))}" r="3" fill="{color}">'
                f"<title>{_when(buckets[n], hourly)} UTC {esc(s['label'])}: {esc(fmt_value(shown_value))}</title>"
                "</circle>"
            )
    parts.append("</svg>")
    return "".join(parts)
