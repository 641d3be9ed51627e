"""CloudWatch's Embedded Metric Format, read: the metric samples one EMF log line carries.

In Lambda, Powertools Metrics prints one JSON line per metric blob and CloudWatch Logs turns it into metrics;
locally `EmfTee` (nps_local/emf_tee.py) reads the lines with `parse_emf` into a `MetricStore`. No AWS import here.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]  # namespace, name, sorted dimensions

MAX_PENDING_LINE = 1 << 20  # a line longer than this (without a newline yet) is not parsed


@dataclass(frozen=True)
class Sample:
    timestamp: float  # epoch seconds
    namespace: str
    name: str
    dimensions: Mapping[str, str]
    value: float
    unit: str = "None"

    @property
    def key(self) -> SeriesKey:
        return series_key(self.namespace, self.name, self.dimensions)


def series_key(namespace: str, name: str, dimensions: Mapping[str, str] | None = None) -> SeriesKey:
    return namespace, name, tuple(sorted((str(k), str(v)) for k, v in (dimensions or {}).items()))


def finite_number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def parse_emf(line: str) -> list[Sample]:
    """The metrics one EMF log line carries (none when the line is not EMF or not valid EMF).

    Each directive of `_aws.CloudWatchMetrics` names a namespace, dimension sets and metrics; every metric is
    recorded once per dimension set (a set naming a key the line lacks is skipped, as CloudWatch rejects it), and
    once per value when the value is a list."""
    if '"_aws"' not in line:
        return []
    try:
        doc = json.loads(line)
    except ValueError:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("_aws"), dict):
        return []
    aws = doc["_aws"]
    directives = aws.get("CloudWatchMetrics")
    stamp = finite_number(aws.get("Timestamp"))
    timestamp = stamp / 1000.0 if stamp is not None else time.time()
    if not isinstance(directives, list):
        return []
    out = []
    for directive in directives:
        if not isinstance(directive, dict) or not isinstance(directive.get("Namespace"), str):
            continue
        dimension_sets = directive.get("Dimensions") or [[]]
        if not isinstance(dimension_sets, list):
            continue
        resolved = []
        for names in dimension_sets:
            if not isinstance(names, list) or not all(isinstance(n, str) and n in doc for n in names):
                continue
            resolved.append({n: str(doc[n]) for n in names})
        for metric in directive.get("Metrics") or []:
            if not isinstance(metric, dict) or not isinstance(metric.get("Name"), str):
                continue
            name = metric["Name"]
            raw = doc.get(name)
            values = [finite_number(v) for v in (raw if isinstance(raw, list) else [raw])]
            unit = str(metric.get("Unit") or "None")
            for dims in resolved:
                out.extend(
                    Sample(timestamp, directive["Namespace"], name, dims, v, unit) for v in values if v is not None
                )
    return out
