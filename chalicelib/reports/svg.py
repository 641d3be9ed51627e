"""What charts are drawn with, as inline SVG (the report's charts in chalicelib/reports/charts.py, and the local
dashboard's): round scales and ticks, numbers read safely, and the SVG elements (the opening tag with its
role="img", aria-label and `<title>`, text, lines, a legend, the empty chart). All text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

Format = Callable[[float], str]

PALETTE = ("#1f4fd1", "#e07b00", "#1a7f37", "#b42318", "#6b4fbb")
INK = "#1d2433"
MUTED = "#5b6474"
GRID = "#e3e6eb"
GAP_FILL = "#f1f2f4"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
DASH = "\u2014"


def plain(value: float) -> str:
    """Default value format: integers without decimals, other numbers with one."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def finite(value) -> float | None:
    """The value as a float when it is a finite number (bools and strings are not numbers), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def linear_scale(d0: float, d1: float, r0: float, r1: float) -> Callable[[float], float]:
    """Map the domain [d0, d1] linearly onto the range [r0, r1] (the midpoint of the range if d0 == d1)."""
    if d1 == d0:
        return lambda _value: (r0 + r1) / 2
    k = (r1 - r0) / (d1 - d0)
    return lambda value: r0 + (value - d0) * k


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    step = _nice_step((hi - lo) / max(count - 1, 1))
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [_clean(i * step) for i in range(first, last + 1)]


def nice_bounds(lo: float, hi: float, count: int = 5) -> tuple[float, float]:
    """[lo, hi] widened outwards to whole tick steps, so the axis ends on a labelled tick."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return 0.0, 1.0
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    step = _nice_step((hi - lo) / max(count - 1, 1))
    return _clean(math.floor(lo / step + 1e-9) * step), _clean(math.ceil(hi / step - 1e-9) * step)


def _nice_step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if multiple * magnitude >= raw * (1 - 1e-9):
            return multiple * magnitude
    return 10 * magnitude


def _clean(value: float) -> float:
    value = round(value, 10)
    return 0.0 if value == 0 else value


# ---- drawing primitives -------------------------------------------------------------------------------------


def coord(value: float) -> str:
    """A coordinate, two decimals at most."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def esc(text) -> str:
    return escape(str(text), quote=True)


def one_line(label: str) -> str:
    return " ".join(str(label).split())


def start(width: float, height: float, data_chart: str, title: str, label: str) -> str:
    return (
        f'<svg class="chart" data-chart="{esc(data_chart)}" viewBox="0 0 {coord(width)} {coord(height)}" role="img" '
        f'aria-label="{esc(label)}" preserveAspectRatio="xMidYMid meet" style="width:100%;height:auto;'
        f'display:block" font-family="{FONT}" font-size="12" fill="{INK}"><title>{esc(title)}</title>'
    )


def text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "middle",
    cls: str = "",
    fill: str = "",
    size: float | None = None,
    weight: str = "",
) -> str:
    """A text element; newlines in `text` become stacked lines."""
    attrs = f'x="{coord(x)}" y="{coord(y)}" text-anchor="{anchor}"'
    if cls:
        attrs += f' class="{cls}"'
    if fill:
        attrs += f' fill="{fill}"'
    if size:
        attrs += f' font-size="{coord(size)}"'
    if weight:
        attrs += f' font-weight="{weight}"'
    lines = str(text).split("\n")
    if len(lines) == 1:
        return f"<text {attrs}>{esc(text)}</text>"
    spans = "".join(
        f'<tspan x="{coord(x)}" dy="{"0" if i == 0 else "1.2em"}">{esc(line)}</tspan>' for i, line in enumerate(lines)
    )
    return f"<text {attrs}>{spans}</text>"


def line(
    x1: float, y1: float, x2: float, y2: float, *, cls: str, stroke: str, width: float = 1, extra: str = ""
) -> str:
    return (
        f'<line class="{cls}" x1="{coord(x1)}" y1="{coord(y1)}" x2="{coord(x2)}" y2="{coord(y2)}" stroke="{stroke}" '
        f'stroke-width="{coord(width)}"{extra}/>'
    )


def truncate(label: str, limit: int) -> str:
    label = one_line(label)
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "\u2026"


def fits(label_width: float) -> int:
    """How many characters of 12px text fit left of a chart's axis (about 7px a character, with padding)."""
    return max(int((label_width - 14) / 7.2), 4)


def legend(series: Sequence[str], colors: Sequence[str], x: float, y: float) -> str:
    parts = []
    for i, name in enumerate(series):
        color = colors[i % len(colors)]
        parts.append(
            f'<g class="legend-item"><rect x="{coord(x)}" y="{coord(y - 10)}" width="12" height="12" rx="2" '
            f'fill="{color}"/>{text(x + 18, y, name, anchor="start")}</g>'
        )
        x += 30 + 7 * len(str(name))
    return f'<g class="legend">{"".join(parts)}</g>'


def empty_chart(width: float, height: float, data_chart: str, title: str, message: str) -> str:
    return (
        start(width, height, data_chart, title, f"{title}: {message}")
        + text(width / 2, height / 2 + 4, message, cls="empty", fill=MUTED)
        + "</svg>"
    )
