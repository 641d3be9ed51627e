"""The local stack's CloudWatch: the metrics its functions print as EMF, and the ones AWS would publish.

In Lambda, Powertools Metrics prints one JSON line per metric blob (CloudWatch's Embedded Metric Format) and
CloudWatch Logs turns it into metrics. Locally, `EmfTee` (nps_local/emf_tee.py) stands in for that, recording
into a `MetricStore`.

`AwsMetrics` records what Lambda, SQS and API Gateway would publish, measured around the stack's own
invocations: Invocations, Errors, Duration and ConcurrentExecutions per function, the stream's IteratorAge,
the on-failure queue's depth, and the API's Count, 4XXError, 5XXError and Latency. Everything has the physical
names and dimensions of `chalicelib.ops.dashboard.Names`, so the dashboard definition finds it as it would
in CloudWatch. What has no local source (throttles, DynamoDB) is simply never recorded.

The store keeps per-minute buckets (CloudWatch's standard resolution) with count, sum, minimum, maximum and a
bounded sample of the values for percentiles, for a bounded number of series over a bounded retention, and the
same per hour over a day (what hourly widgets chart): the memory it can use is bounded whatever the functions
print. No AWS import here.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from chalicelib.ops import dashboard

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]  # namespace, name, sorted dimensions

RESOLUTION = 60  # seconds per bucket
RETENTION = 3 * 3600  # seconds of buckets kept
HOUR = 3600
HOURLY_RETENTION = 24 * 3600  # seconds of hourly buckets kept
MAX_SERIES = 1000
VALUES_PER_BUCKET = 256  # the sample kept per bucket for percentiles (all values up to this many)
MAX_PENDING_LINE = 1 << 20  # a line longer than this (without a newline yet) is not parsed
STATS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
_PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d+)?|100)")


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


def _number(value) -> float | None:
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
    stamp = _number(aws.get("Timestamp"))
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
            values = [_number(v) for v in (raw if isinstance(raw, list) else [raw])]
            unit = str(metric.get("Unit") or "None")
            for dims in resolved:
                out.extend(
                    Sample(timestamp, directive["Namespace"], name, dims, v, unit) for v in values if v is not None
                )
    return out


# ---- the store -----------------------------------------------------------------------------------------------


@dataclass
class _Bucket:
    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    values: list[float] = field(default_factory=list)

    def add(self, value: float, cap: int, rng: random.Random) -> None:
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        if len(self.values) < cap:
            self.values.append(value)
        else:  # a uniform sample of everything seen (reservoir sampling)
            slot = rng.randrange(self.count)
            if slot < cap:
                self.values[slot] = value

    def merge(self, other: _Bucket) -> None:
        self.count += other.count
        self.total += other.total
        self.low = min(self.low, other.low)
        self.high = max(self.high, other.high)
        self.values.extend(other.values)


def statistic(bucket: _Bucket, stat: str) -> float | None:
    """One CloudWatch statistic of a bucket: Sum, Average, Minimum, Maximum, SampleCount or pNN (nearest rank)."""
    if bucket.count == 0:
        return None
    if stat == "Sum":
        return bucket.total
    if stat == "Average":
        return bucket.total / bucket.count
    if stat == "Minimum":
        return bucket.low
    if stat == "Maximum":
        return bucket.high
    if stat == "SampleCount":
        return float(bucket.count)
    match = _PERCENTILE.fullmatch(stat)
    if match is None:
        raise ValueError(f"unsupported statistic {stat!r}")
    ordered = sorted(bucket.values)
    rank = math.ceil(float(match.group(1)) / 100 * len(ordered))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


class MetricStore:
    """Metric samples in per-`resolution` buckets, bounded: at most `max_series` series, each with the buckets of
    the last `retention` seconds, each keeping count, sum, min, max and at most `values_per_bucket` values; and
    the same per hour for the last `hourly_retention` seconds."""

    def __init__(
        self,
        *,
        resolution: int = RESOLUTION,
        retention: int = RETENTION,
        max_series: int = MAX_SERIES,
        values_per_bucket: int = VALUES_PER_BUCKET,
        hourly_retention: int = HOURLY_RETENTION,
        clock: Callable[[], float] = time.time,
    ):
        self.resolution = resolution
        self.retention = retention
        self.max_series = max_series
        self.values_per_bucket = values_per_bucket
        self.clock = clock
        self.max_buckets = retention // resolution + 2  # the window, the current bucket, one in the future
        self.hourly_retention = hourly_retention
        self.max_hour_buckets = hourly_retention // HOUR + 2
        self._series: dict[SeriesKey, dict[int, _Bucket]] = {}
        self._hours: dict[SeriesKey, dict[int, _Bucket]] = {}
        self._units: dict[SeriesKey, str] = {}
        self._lock = threading.Lock()
        self._rng = random.Random(0)
        self.samples = 0
        self.dropped = 0  # too old, or a new series beyond max_series
        self.emf_lines = 0

    def bucket_start(self, timestamp: float) -> int:
        return int(timestamp // self.resolution) * self.resolution

    def add(self, sample: Sample) -> bool:
        """Record one sample; False when it was dropped (older than the retention, or one series too many)."""
        start = self.bucket_start(sample.timestamp)
        key = sample.key
        with self._lock:
            if start < self.clock() - self.retention:
                self.dropped += 1
                return False
            buckets = self._series.get(key)
            if buckets is None:
                if len(self._series) >= self.max_series:
                    self.dropped += 1
                    return False
                buckets = self._series[key] = {}
                self._hours[key] = {}
                self._units[key] = sample.unit
            bucket = buckets.get(start)
            if bucket is None:
                bucket = buckets[start] = _Bucket()
                if len(buckets) > self.max_buckets:
                    self._prune(buckets)
            bucket.add(sample.value, self.values_per_bucket, self._rng)
            hours = self._hours[key]
            hour = int(sample.timestamp // HOUR) * HOUR
            hourly = hours.get(hour)
            if hourly is None:
                hourly = hours[hour] = _Bucket()
                if len(hours) > self.max_hour_buckets:
                    self._prune(hours, HOUR, self.hourly_retention, self.max_hour_buckets)
            hourly.add(sample.value, self.values_per_bucket, self._rng)
            self.samples += 1
            return True

    def add_all(self, samples: Iterable[Sample]) -> int:
        return sum(self.add(s) for s in samples)

    def add_emf(self, samples: list[Sample]) -> int:
        """The samples of one EMF line (counted as one line)."""
        with self._lock:
            self.emf_lines += 1
        return self.add_all(samples)

    def put(
        self,
        namespace: str,
        name: str,
        value: float,
        *,
        dimensions: Mapping[str, str] | None = None,
        unit: str = "None",
        timestamp: float | None = None,
    ) -> bool:
        stamp = self.clock() if timestamp is None else timestamp
        return self.add(Sample(stamp, namespace, name, dict(dimensions or {}), float(value), unit))

    def _prune(
        self,
        buckets: dict[int, _Bucket],
        size: int | None = None,
        retention: int | None = None,
        most: int | None = None,
    ) -> None:
        size, retention, most = size or self.resolution, retention or self.retention, most or self.max_buckets
        cutoff = int((self.clock() - retention) // size) * size
        for start in [s for s in buckets if s < cutoff]:
            del buckets[start]
        for start in sorted(buckets)[: max(len(buckets) - most, 0)]:
            del buckets[start]

    # ---- reading --------------------------------------------------------------------------------------------

    def keys(self) -> list[SeriesKey]:
        with self._lock:
            return list(self._series)

    def seen(self, namespace: str, name: str, dimensions: Mapping[str, str] | None = None) -> bool:
        """Whether this series was ever recorded (still within the retention)."""
        key = series_key(namespace, name, dimensions)
        with self._lock:
            return bool(self._series.get(key)) or bool(self._hours.get(key))

    def unit(self, namespace: str, name: str, dimensions: Mapping[str, str] | None = None) -> str | None:
        with self._lock:
            return self._units.get(series_key(namespace, name, dimensions))

    def _merged(self, key: SeriesKey, start: float, end: float, hourly: bool = False) -> _Bucket:
        out = _Bucket()
        for bucket_start, bucket in ((self._hours if hourly else self._series).get(key) or {}).items():
            if start <= bucket_start < end:
                out.merge(bucket)
        return out

    def datapoints(
        self,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str] | None,
        stat: str,
        *,
        start: float,
        end: float,
        period: int | None = None,
    ) -> list[tuple[int, float | None]]:
        """The statistic per `period` (a multiple of the resolution) from `start` (rounded down) to `end`:
        (period start, value), None where there was no sample, as CloudWatch has no datapoint there. Periods of
        whole hours read the hourly buckets, which reach further back."""
        period = period or self.resolution
        if period % self.resolution:
            raise ValueError(f"the period must be a multiple of {self.resolution} s")
        key = series_key(namespace, name, dimensions)
        first = int(start // period) * period
        hourly = period % HOUR == 0
        with self._lock:
            return [
                (t, statistic(self._merged(key, t, t + period, hourly), stat)) for t in range(first, int(end), period)
            ]

    def aggregate(
        self,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str] | None,
        stat: str,
        *,
        start: float,
        end: float,
        hourly: bool = False,
    ) -> float | None:
        """The statistic over every sample from `start` to `end` (one datapoint for the whole window); `hourly`
        reads the hourly buckets (start and end on whole hours)."""
        with self._lock:
            return statistic(self._merged(series_key(namespace, name, dimensions), start, end, hourly), stat)

    def stored_values(self) -> int:
        """How many values the store holds for percentiles (what bounds its memory, with the bucket count)."""
        with self._lock:
            return sum(
                len(b.values)
                for table in (self._series, self._hours)
                for buckets in table.values()
                for b in buckets.values()
            )

    def bucket_count(self) -> int:
        with self._lock:
            return sum(len(buckets) for buckets in self._series.values())

    def hour_bucket_count(self) -> int:
        with self._lock:
            return sum(len(buckets) for buckets in self._hours.values())

    def describe(self) -> dict:
        with self._lock:
            return {
                "series": len(self._series),
                "samples": self.samples,
                "dropped": self.dropped,
                "emf_lines": self.emf_lines,
                "resolution": self.resolution,
                "retention": self.retention,
            }


# ---- capturing what the functions print ----------------------------------------------------------------------


class AwsMetrics:
    """Records the AWS-published metrics that can be observed locally, with the dashboard's physical names."""

    def __init__(self, store: MetricStore, names: dashboard.Names):
        self.store = store
        self.names = names
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    def _lambda(self, function: str, metric: str, value: float, unit: str) -> None:
        self.store.put(
            dashboard.LAMBDA, metric, value, unit=unit, dimensions={"FunctionName": self.names.function(function)}
        )

    def invoke(self, function: str, call: Callable[[], object]):
        """Run one invocation of `function` (Chalice's name): Invocations, Errors (it raised), Duration and
        ConcurrentExecutions, as Lambda publishes them. The call's result is returned, its exception raised."""
        with self._lock:
            running = self._running[function] = self._running.get(function, 0) + 1
        self._lambda(function, "ConcurrentExecutions", running, "Count")
        started = time.perf_counter()
        failed = True
        try:
            result = call()
            failed = False
            return result
        finally:
            duration = (time.perf_counter() - started) * 1000
            with self._lock:
                self._running[function] -= 1
            self._lambda(function, "Invocations", 1, "Count")
            self._lambda(function, "Errors", 1 if failed else 0, "Count")
            self._lambda(function, "Duration", duration, "Milliseconds")

    def iterator_age(self, function: str, records: list[dict], now: float | None = None) -> None:
        """IteratorAge of a stream batch: how old its last record was when the function received it."""
        created = [_number((r.get("dynamodb") or {}).get("ApproximateCreationDateTime")) for r in records]
        created = [c for c in created if c is not None]
        if not created:
            return
        age = max(0.0, ((time.time() if now is None else now) - max(created)) * 1000)
        self._lambda(function, "IteratorAge", age, "Milliseconds")

    def api_request(self, status: int, latency_ms: float) -> None:
        """One request the API answered (API Gateway's own refusals included), as API Gateway counts it."""
        dims = {"ApiName": self.names.api_name, "Stage": self.names.api_stage}
        put = self.store.put
        put(dashboard.API_GATEWAY, "Count", 1, dimensions=dims, unit="Count")
        put(dashboard.API_GATEWAY, "4XXError", 1 if 400 <= status < 500 else 0, dimensions=dims, unit="Count")
        put(dashboard.API_GATEWAY, "5XXError", 1 if status >= 500 else 0, dimensions=dims, unit="Count")
        put(dashboard.API_GATEWAY, "Latency", latency_ms, dimensions=dims, unit="Milliseconds")

    def queue_depth(self, queue_name: str, visible: int) -> None:
        self.store.put(
            dashboard.SQS,
            "ApproximateNumberOfMessagesVisible",
            visible,
            unit="Count",
            dimensions={"QueueName": queue_name},
        )
