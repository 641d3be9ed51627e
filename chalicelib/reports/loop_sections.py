"""The report's close-the-loop section: the month's tasks, by kind, and whether closing on time keeps customers."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.reports.formatting import (
    DASH,
    as_mapping,
    dig,
    esc,
    fmt_count,
    fmt_pct,
    fmt_time,
    month_title,
    section_html,
    table_html,
)
from chalicelib.reports.svg import finite

KIND_LABELS = {
    "recovery": "Recovery (detractors)",
    "follow_up": "Follow-up (passives)",
    "advocacy": "Advocacy (promoters)",
}
SMALL_GROUP = 10


def _hours(value) -> str:
    v = finite(value)
    if v is None:
        return DASH
    return f"{v:,.1f} h" + (f" ({v / 24:,.1f} days)" if v >= 48 else "")


def loop_section(doc: Mapping) -> str:
    loop = as_mapping(dig(doc, "loop"))
    overdue = "Overdue when computed" if doc.get("partial") is True else "Overdue at month end"
    rows = [
        ["Tasks opened", esc(fmt_count(loop.get("opened")))],
        ["Tasks closed", esc(fmt_count(loop.get("closed")))],
        ["Median time to close", esc(_hours(loop.get("median_hours_to_close")))],
        ["Closed within SLA", esc(fmt_pct(loop.get("within_sla")))],
        [overdue, esc(fmt_count(loop.get("overdue")))],
        ["Escalated", esc(fmt_count(loop.get("escalated")))],
    ]
    parts = [table_html(["", "This month"], rows)]

    by_kind = as_mapping(loop.get("by_kind"))
    if by_kind:
        kind_rows = [
            [
                esc(KIND_LABELS.get(kind, kind)),
                esc(fmt_count(dig(stats, "opened"))),
                esc(fmt_count(dig(stats, "closed"))),
                esc(_hours(dig(stats, "median_hours_to_close"))),
                esc(fmt_pct(dig(stats, "within_sla"))),
                esc(fmt_count(dig(stats, "overdue"))),
                esc(fmt_count(dig(stats, "escalated"))),
            ]
            for kind, stats in sorted(by_kind.items(), key=lambda item: str(item[0]))
        ]
        parts.append("<h3>By kind of task</h3>")
        parts.append(
            table_html(["Kind", "Opened", "Closed", "Median to close", "Within SLA", "Overdue", "Escalated"], kind_rows)
        )

    eff = as_mapping(loop.get("effectiveness"))
    within, late = as_mapping(eff.get("within_sla")), as_mapping(eff.get("late"))
    horizon = eff.get("horizon")
    parts.append("<h3>Does closing the loop on time keep customers?</h3>")
    parts.append(
        '<p class="muted">Detractor accounts with a recovery task opened this month: the share still customers '
        + (f"in {esc(month_title(horizon))} " if horizon else "three months later ")
        + "when every task closed within SLA versus when one was late.</p>"
    )
    parts.append(
        table_html(
            ["Recovery tasks", "Accounts", "Logo retention after 3 months"],
            [
                [
                    "Closed within SLA",
                    esc(fmt_count(within.get("accounts"))),
                    esc(fmt_pct(within.get("logo_retention"))),
                ],
                ["Late or still open", esc(fmt_count(late.get("accounts"))), esc(fmt_pct(late.get("logo_retention")))],
            ],
        )
    )
    pending = eff.get("pending_until")
    if pending:
        parts.append(
            f'<p class="muted">Retention is known once that month has ended: recompute after '
            f"{esc(fmt_time(pending))}.</p>"
        )
    counts = [finite(within.get("accounts")), finite(late.get("accounts"))]
    if any(c is not None and c < SMALL_GROUP for c in counts):
        parts.append(
            f'<p class="muted">Fewer than {SMALL_GROUP} accounts in a group: read the comparison with caution.</p>'
        )
    return section_html("loop", "Close the loop", "".join(parts))
