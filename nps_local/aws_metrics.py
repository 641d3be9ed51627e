"""The metrics AWS would publish, for the local stack's CloudWatch (nps_local/metrics_sink.py).

`AwsMetrics` records what Lambda, SQS and API Gateway would publish, measured around the stack's own
invocations: Invocations, Errors, Duration and ConcurrentExecutions per function, the stream's IteratorAge,
the on-failure queue's depth, and the API's Count, 4XXError, 5XXError and Latency. Everything has the physical
names and dimensions of `chalicelib.ops.dashboard.Names`, so the dashboard definition finds it as it would
in CloudWatch. What has no local source (throttles, DynamoDB) is simply never recorded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from chalicelib.ops import dashboard
from nps_local.emf import finite_number
from nps_local.metrics_sink import MetricStore


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
        created = [finite_number((r.get("dynamodb") or {}).get("ApproximateCreationDateTime")) for r in records]
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
