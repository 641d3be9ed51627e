"""The local stack's CloudWatch: the metrics its functions print as EMF, and the ones AWS would publish.

In Lambda, Powertools Metrics prints one JSON line per metric blob (CloudWatch's Embedded Metric Format) and
CloudWatch Logs turns it into metrics. Locally, `EmfTee` (nps_local/emf_tee.py) stands in for that, recording
into a `MetricStore`.

`nps_local/emf.py` reads the EMF lines into samples; `AwsMetrics` (nps_local/aws_metrics.py) records what Lambda,
SQS and API Gateway would publish.

The store keeps per-minute buckets (CloudWatch's standard resolution) with count, sum, minimum, maximum and a
bounded sample of the values for percentiles, for a bounded number of series over a bounded retention, and the
same per hour over a day (what hourly widgets chart): the memory it can use is bounded whatever the functions
print. No AWS import here.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from nps_local.emf import Sample, SeriesKey, series_key

RESOLUTION = 60  # seconds per bucket
RETENTION = 3 * 3600  # seconds of buckets kept
HOUR = 3600
HOURLY_RETENTION = 24 * 3600  # seconds of hourly buckets kept
MAX_SERIES = 1000
VALUES_PER_BUCKET = 256  # the sample kept per bucket for percentiles (all values up to this many)
STATS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
_PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d+)?|100)")


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
