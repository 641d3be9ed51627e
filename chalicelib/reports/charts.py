"""The report's charts, as inline SVG: a line with error bars, grouped bars, horizontal bars, intervals.

Each chart is one `<svg class="chart" data-chart="...">` with role="img", an aria-label that reads out the data
and a `<title>`; colours and fonts are set as attributes so a chart also renders outside the report's stylesheet.
Values that are None (or not finite numbers) are shown as gaps or "—", never as zero. All text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.reports import svg
from chalicelib.reports.svg import (
    DASH,
    GAP_FILL,
    GRID,
    INK,
    MUTED,
    PALETTE,
    Format,
    coord,
    empty_chart,
    esc,
    finite,
    fits,
    legend,
    line,
    linear_scale,
    nice_bounds,
    nice_ticks,
    one_line,
    plain,
    start,
    truncate,
)


def line_chart(
    series: Sequence[tuple[str, float | None, float | None]],
    *,
    data_chart: str,
    title: str,
    width: float = 640,
    height: float = 300,
    y_min: float = 0.0,
    y_max: float = 100.0,
    y_ticks: Sequence[float] | None = None,
    value_format: Format = plain,
    tick_format: Format | None = None,
    sublabels: Sequence[str | None] | None = None,
    hollow: Sequence[bool] | None = None,
    gap_text: str = "no data",
) -> str:
    """Points joined by a line, one per (label, value, error) in order, with error bars value ± error.

    A None value is a gap: the line breaks there and the slot is shaded. Each value gets a `circle.point`, each
    value with an error a `line.error-bar` (clipped to [y_min, y_max]; clipped ones carry data-clipped="true").
    `sublabels` go under the x labels (e.g. sample sizes); `hollow` draws a point unfilled (e.g. a low sample).
    Labels may hold a newline to stack two lines."""
    left, right, top = 46.0, 14.0, 14.0
    bottom = 40.0 + (16.0 if sublabels else 0.0)
    plot_bottom = height - bottom
    y = linear_scale(y_min, y_max, plot_bottom, top)

    def clamp(v: float) -> float:
        return min(max(v, y_min), y_max)

    count = len(series)
    step = (width - left - right) / max(count, 1)
    xs = [left + step * (i + 0.5) for i in range(count)]
    values = [finite(v) for _, v, _ in series]
    errors = [finite(e) if v is not None else None for (_, _, e), v in zip(series, values, strict=True)]

    described = []
    for i, (label, _, _) in enumerate(series):
        v, e = values[i], errors[i]
        text = gap_text if v is None else value_format(v) + ("" if e is None else f" \u00b1 {value_format(e)}")
        if sublabels and i < len(sublabels) and sublabels[i]:
            text += f" ({sublabels[i]})"
        described.append(f"{one_line(label)}: {text}")
    parts = [start(width, height, data_chart, title, f"{title}. " + "; ".join(described) if described else title)]

    for i, v in enumerate(values):
        if v is None:
            parts.append(
                f'<rect class="gap" x="{coord(xs[i] - step / 2 + 1)}" y="{coord(top)}" '
                f'width="{coord(max(step - 2, 0))}" '
                f'height="{coord(plot_bottom - top)}" fill="{GAP_FILL}"><title>{esc(one_line(series[i][0]))}: '
                f"{esc(gap_text)}</title></rect>"
            )
    for tick in y_ticks if y_ticks is not None else nice_ticks(y_min, y_max):
        ty = y(tick)
        parts.append(line(left, ty, width - right, ty, cls="grid", stroke=GRID))
        parts.append(svg.text(left - 6, ty + 4, (tick_format or value_format)(tick), anchor="end", fill=MUTED, size=11))
    if y_min < 0 < y_max:
        parts.append(line(left, y(0), width - right, y(0), cls="zero-line", stroke=MUTED, width=1.5))
    parts.append(line(left, plot_bottom, width - right, plot_bottom, cls="axis", stroke=MUTED))

    path: list[str] = []
    run: list[tuple[float, float]] = []
    for i, v in enumerate([*values, None]):
        if v is None:
            if len(run) > 1:
                path.append("M" + " L".join(f"{coord(px)} {coord(py)}" for px, py in run))
            run = []
        else:
            run.append((xs[i], y(clamp(v))))
    if path:
        parts.append(
            f'<path class="trend-line" d="{" ".join(path)}" fill="none" stroke="{PALETTE[0]}" '
            'stroke-width="2" stroke-linejoin="round"/>'
        )

    for i, (v, e) in enumerate(zip(values, errors, strict=True)):
        if v is None or e is None:
            continue
        lo, hi = v - abs(e), v + abs(e)
        clipped = ' data-clipped="true"' if lo < y_min or hi > y_max else ""
        y1, y2 = y(clamp(lo)), y(clamp(hi))
        parts.append(
            line(
                xs[i],
                y1,
                xs[i],
                y2,
                cls="error-bar",
                stroke=INK,
                width=1.5,
                extra=f' data-value="{coord(v)}" data-error="{coord(abs(e))}"{clipped}',
            )
        )
        for cap_y in (y1, y2):
            parts.append(line(xs[i] - 5, cap_y, xs[i] + 5, cap_y, cls="error-cap", stroke=INK, width=1.5))

    for i, v in enumerate(values):
        if v is None:
            continue
        is_hollow = bool(hollow and i < len(hollow) and hollow[i])
        fill = "#ffffff" if is_hollow else PALETTE[0]
        flag = ' data-hollow="true"' if is_hollow else ""
        parts.append(
            f'<circle class="point" cx="{coord(xs[i])}" cy="{coord(y(clamp(v)))}" r="4.5" fill="{fill}" '
            f'stroke="{PALETTE[0]}" stroke-width="2" data-value="{coord(v)}"{flag}><title>{esc(described[i])}'
            "</title></circle>"
        )

    for i, (label, _, _) in enumerate(series):
        parts.append(svg.text(xs[i], plot_bottom + 16, label, cls="x-label", size=11))
        sublabel = sublabels[i] if sublabels and i < len(sublabels) else None
        if sublabel:
            lines = str(label).count("\n") + 1
            parts.append(
                svg.text(xs[i], plot_bottom + 16 + 14 * lines + 2, sublabel, cls="x-sublabel", fill=MUTED, size=10)
            )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    groups: Sequence[tuple[str, Sequence[float | None]]],
    *,
    series: Sequence[str],
    data_chart: str,
    title: str,
    width: float = 640,
    height: float = 300,
    y_min: float = 0.0,
    y_max: float | None = None,
    value_format: Format = plain,
    tick_format: Format | None = None,
    sublabels: Sequence[str | None] | None = None,
    reference: tuple[float, str] | None = None,
    colors: Sequence[str] = PALETTE,
) -> str:
    """Vertical bars grouped by label: each group holds one value per name in `series` (one series is a plain
    bar chart). Bars are `rect.bar` with data-group, data-series and data-value; a None value is a "—".
    `reference` = (value, label) draws a dashed line (e.g. 100%). y_max defaults to a round value above the data."""
    data = [v for _, values in groups for v in map(finite, values) if v is not None]
    if y_max is None:
        top_value = max([*data, reference[0] if reference else y_min + 1])
        _, y_max = nice_bounds(y_min, top_value * 1.08 if top_value > 0 else top_value)
    legend_h = 24.0 if len(series) > 1 else 0.0
    left, right, top = 50.0, 14.0, 14.0 + legend_h
    bottom = 28.0 + (16.0 if sublabels else 0.0)
    plot_bottom = height - bottom
    y = linear_scale(y_min, y_max, plot_bottom, top)

    def clamp(v: float) -> float:
        return min(max(v, y_min), y_max)

    described = []
    for label, values in groups:
        cells = [
            f"{name} {DASH if (number := finite(v)) is None else value_format(number)}"
            for name, v in zip(series, values, strict=False)
        ]
        described.append(f"{one_line(label)}: " + ", ".join(cells))
    parts = [start(width, height, data_chart, title, f"{title}. " + "; ".join(described))]
    if legend_h:
        parts.append(legend(series, colors, left, 16))
    for tick in nice_ticks(y_min, y_max):
        ty = y(tick)
        parts.append(line(left, ty, width - right, ty, cls="grid", stroke=GRID))
        parts.append(svg.text(left - 6, ty + 4, (tick_format or value_format)(tick), anchor="end", fill=MUTED, size=11))
    baseline = y(clamp(0.0))
    parts.append(line(left, baseline, width - right, baseline, cls="axis", stroke=MUTED))

    group_w = (width - left - right) / max(len(groups), 1)
    inner = group_w * 0.78
    bar_w = inner / max(len(series), 1)
    for g, (label, values) in enumerate(groups):
        x0 = left + g * group_w + (group_w - inner) / 2
        for s, name in enumerate(series):
            v = finite(values[s]) if s < len(values) else None
            cx = x0 + bar_w * (s + 0.5)
            if v is None:
                parts.append(svg.text(cx, baseline - 6, DASH, cls="missing", fill=MUTED))
                continue
            vy = y(clamp(v))
            parts.append(
                f'<rect class="bar" x="{coord(x0 + bar_w * s + 1)}" y="{coord(min(vy, baseline))}" '
                f'width="{coord(max(bar_w - 2, 1))}" height="{coord(abs(baseline - vy))}" '
                f'fill="{colors[s % len(colors)]}" '
                f'data-group="{esc(one_line(label))}" data-series="{esc(name)}" data-value="{coord(v)}">'
                f"<title>{esc(one_line(label))}, {esc(name)}: {esc(value_format(v))}</title></rect>"
            )
            parts.append(svg.text(cx, min(vy, baseline) - 4, value_format(v), cls="bar-value", size=10))
        parts.append(svg.text(left + group_w * (g + 0.5), plot_bottom + 16, label, cls="x-label"))
        sublabel = sublabels[g] if sublabels and g < len(sublabels) else None
        if sublabel:
            parts.append(
                svg.text(left + group_w * (g + 0.5), plot_bottom + 31, sublabel, cls="x-sublabel", fill=MUTED, size=10)
            )
    if reference is not None and y_min <= reference[0] <= y_max:
        ry = y(reference[0])
        parts.append(
            line(left, ry, width - right, ry, cls="reference", stroke=MUTED, width=1.2, extra=' stroke-dasharray="5 4"')
        )
        parts.append(svg.text(width - right, ry - 4, reference[1], anchor="end", fill=MUTED, size=10))
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(
    items: Sequence[tuple[str, float | None]],
    *,
    data_chart: str,
    title: str,
    width: float = 640,
    value_format: Format = plain,
    x_max: float | None = None,
    color: str = PALETTE[0],
    label_width: float = 180,
    empty_text: str = "No data",
) -> str:
    """Horizontal bars, one row per (label, value), longest label cut with "…" (the full one is in the bar's
    title). Bars are `rect.bar` with data-label and data-value; None is a "—"; no items draws `empty_text`."""
    if not items:
        return empty_chart(width, 56, data_chart, title, empty_text)
    row_h, top, right = 30.0, 8.0, 90.0
    height = top * 2 + row_h * len(items)
    values = [finite(v) for _, v in items]
    top_value = x_max if x_max is not None else max([v for v in values if v is not None] + [0.0])
    x = linear_scale(0, top_value or 1.0, label_width, width - right)
    described = [
        f"{one_line(label)}: {DASH if v is None else value_format(v)}"
        for (label, _), v in zip(items, values, strict=True)
    ]
    parts = [start(width, height, data_chart, title, f"{title}. " + "; ".join(described))]
    parts.append(line(label_width, top, label_width, height - top, cls="axis", stroke=MUTED))
    for i, ((label, _), v) in enumerate(zip(items, values, strict=True)):
        cy = top + row_h * (i + 0.5)
        parts.append(svg.text(label_width - 8, cy + 4, truncate(label, fits(label_width)), anchor="end", cls="y-label"))
        if v is None:
            parts.append(svg.text(label_width + 8, cy + 4, DASH, anchor="start", cls="missing", fill=MUTED))
            continue
        end = x(min(max(v, 0.0), top_value or 1.0))
        parts.append(
            f'<rect class="bar" x="{coord(label_width)}" y="{coord(cy - row_h * 0.32)}" '
            f'width="{coord(end - label_width)}" '
            f'height="{coord(row_h * 0.64)}" fill="{color}" data-label="{esc(one_line(label))}" '
            f'data-value="{coord(v)}"><title>{esc(described[i])}</title></rect>'
        )
        parts.append(svg.text(end + 6, cy + 4, value_format(v), anchor="start", cls="bar-value", size=11))
    parts.append("</svg>")
    return "".join(parts)


def interval_chart(
    items: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    data_chart: str,
    title: str,
    width: float = 640,
    value_format: Format = plain,
    tick_format: Format | None = None,
    x_min: float | None = None,
    x_max: float | None = None,
    label_width: float = 110,
    empty_text: str = "not enough data",
    include_zero: bool = True,
) -> str:
    """Point estimates with their intervals on a shared horizontal axis, one row per (label, value, low, high).

    The interval is a `line.interval` with caps, the estimate a `circle.estimate`; a None value shows
    `empty_text`. The axis includes zero unless `include_zero` is False, so the distance from no effect shows."""
    rows = [(label, finite(v), finite(lo), finite(hi)) for label, v, lo, hi in items]
    known = [n for _, v, lo, hi in rows for n in (v, lo, hi) if n is not None and v is not None]
    if include_zero:
        known.append(0.0)
    lo_d, hi_d = nice_bounds(min(known or [0.0]), max(known or [1.0]))
    lo_d = lo_d if x_min is None else x_min
    hi_d = hi_d if x_max is None else x_max
    row_h, top, right, bottom = 44.0, 10.0, 24.0, 30.0
    height = top + row_h * max(len(rows), 1) + bottom
    axis_y = height - bottom
    x = linear_scale(lo_d, hi_d, label_width, width - right)

    def clamp(v: float) -> float:
        return min(max(v, lo_d), hi_d)

    described = []
    for label, v, lo, hi in rows:
        text = empty_text if v is None else value_format(v)
        if v is not None and lo is not None and hi is not None:
            text += f" (interval {value_format(lo)} to {value_format(hi)})"
        described.append(f"{one_line(label)}: {text}")
    parts = [start(width, height, data_chart, title, f"{title}. " + "; ".join(described))]
    if any(v is not None for _, v, _, _ in rows):  # an axis with nothing on it would only show made-up ticks
        for tick in nice_ticks(lo_d, hi_d):
            tx = x(tick)
            parts.append(line(tx, top, tx, axis_y, cls="grid", stroke=GRID))
            parts.append(svg.text(tx, axis_y + 16, (tick_format or value_format)(tick), fill=MUTED, size=11))
        if lo_d <= 0 <= hi_d:
            parts.append(line(x(0), top, x(0), axis_y, cls="zero-line", stroke=MUTED, width=1.5))
        parts.append(line(label_width, axis_y, width - right, axis_y, cls="axis", stroke=MUTED))
    for i, (label, v, lo, hi) in enumerate(rows):
        cy = top + row_h * (i + 0.5)
        parts.append(
            svg.text(label_width - 10, cy + 4, truncate(label, fits(label_width)), anchor="end", cls="y-label")
        )
        if v is None:
            parts.append(svg.text(label_width + 10, cy + 4, empty_text, anchor="start", cls="missing", fill=MUTED))
            continue
        if lo is not None and hi is not None:
            x1, x2 = x(clamp(min(lo, hi))), x(clamp(max(lo, hi)))
            parts.append(
                line(
                    x1,
                    cy,
                    x2,
                    cy,
                    cls="interval",
                    stroke=PALETTE[0],
                    width=3,
                    extra=f' data-low="{coord(lo)}" data-high="{coord(hi)}"',
                )
            )
            for cap_x in (x1, x2):
                parts.append(line(cap_x, cy - 7, cap_x, cy + 7, cls="interval-cap", stroke=PALETTE[0], width=2))
        parts.append(
            f'<circle class="estimate" cx="{coord(x(clamp(v)))}" cy="{coord(cy)}" r="6" fill="{INK}" stroke="#ffffff" '
            f'stroke-width="2" data-value="{coord(v)}"><title>{esc(described[i])}</title></circle>'
        )
        parts.append(svg.text(x(clamp(v)), cy - 12, value_format(v), cls="estimate-value", size=11, weight="600"))
    parts.append("</svg>")
    return "".join(parts)
