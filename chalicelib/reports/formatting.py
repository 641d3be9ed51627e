"""The report's formatting: figures as people read them ("$142,000", "12.5%", "—" for no value), and the HTML
pieces every section is built of (a section, a table, a chart's box, a card). Everything escapes its text."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from chalicelib.domain.months import NAMES, Month, is_month
from chalicelib.reports.money import format_money
from chalicelib.reports.svg import finite

DASH = "\u2014"


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


def esc(text) -> str:
    return escape(str(text), quote=True)


def dig(doc, *keys):
    """doc[k1][k2]... or None when any level is missing or not a mapping."""
    for key in keys:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(key)
    return doc


def as_mapping(value) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def month_title(month) -> str:
    """ "2026-10" -> "October 2026"; anything else as given."""
    return Month.parse(month).title() if is_month(month) else str(month)


def section_html(key: str, heading: str, content: str) -> str:
    return f'<section id="{key}" aria-labelledby="{key}-h"><h2 id="{key}-h">{esc(heading)}</h2>{content}</section>'


def table_html(headers: list[str], rows: list[list[str]], caption: str = "") -> str:
    """A table of already-escaped cells (headers are escaped here)."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<th scope="row">{c}</th>' if i == 0 else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    cap = f'<caption class="muted">{esc(caption)}</caption>' if caption else ""
    return f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def chart_box(chart: str, *, wide: bool = False, narrow: bool = False) -> str:
    """A chart in a box that scrolls sideways on a narrow screen rather than shrinking a wide chart unreadably
    (wide), or that stops a small chart from growing oversized on a large screen (narrow)."""
    kind = " wide" if wide else " narrow" if narrow else ""
    return f'<div class="chart-wrap{kind}">{chart}</div>'


def card_html(heading: str, figure: str, lines: list[str]) -> str:
    extra = "".join(f"<div>{line}</div>" for line in lines)
    return f'<div class="card"><h3>{esc(heading)}</h3><div class="figure">{figure}</div>{extra}</div>'


def sentence(text) -> str:
    """A reason from the document as a sentence: capital first letter, full stop."""
    text = str(text).strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def interval(value) -> tuple[float | None, float | None]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return finite(value[0]), finite(value[1])
    return None, None
