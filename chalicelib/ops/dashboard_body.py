"""The dashboard's definition as CloudWatch takes it: the dashboard body's JSON, two widgets per row."""

from __future__ import annotations

import json
from collections.abc import Iterable

from chalicelib.ops.dashboard import Metric, Widget


def metric_spec(metric: Metric) -> list:
    """A metric as one row of a dashboard widget's `metrics` list."""
    row: list = [metric.namespace, metric.name]
    for name, value in metric.dimensions:
        row += [name, value]
    options: dict = {"id": metric.id, "stat": metric.stat, "period": metric.period}
    if metric.label:
        options["label"] = metric.label
    if not metric.visible:
        options["visible"] = False
    return [*row, options]


def dashboard_body(items: Iterable[Widget], region: str, *, start: str = "-PT24H") -> str:
    """The CloudWatch dashboard body (JSON) for these widgets, two per row."""
    out = []
    for n, widget in enumerate(items):
        props: dict = {
            "title": widget.title,
            "region": region,
            "view": "timeSeries",
            "stacked": widget.stacked,
            "metrics": [
                *([{"id": e.id, "expression": e.expression, "label": e.label}] for e in widget.expressions),
                *(metric_spec(m) for m in widget.metrics),
            ],
            "yAxis": {"left": {"label": widget.unit, "showUnits": False}},
        }
        low, high = widget.y_range
        if low is not None:
            props["yAxis"]["left"]["min"] = low
        if high is not None:
            props["yAxis"]["left"]["max"] = high
        if widget.annotations:
            props["annotations"] = {
                "horizontal": [{"label": label, "value": value} for label, value in widget.annotations]
            }
        out.append(
            {"type": "metric", "x": 12 * (n % 2), "y": 6 * (n // 2), "width": 12, "height": 6, "properties": props}
        )
    return json.dumps({"start": start, "periodOverride": "inherit", "widgets": out}, sort_keys=True)
