"""Queued runs of the monthly function in tests: what Lambda does with the asynchronous invocation that
`POST /v1/metrics/{month}/recompute` sends, done through the hook the local stack uses
(`recompute.use_local_runner`). The test modules that use its fixtures name it in `pytest_plugins`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest


@dataclass
class QueuedRuns:
    """Runs each queued event with the deployed `monthly_metrics` handler, through chalice's test client as Lambda
    invokes it, while the request that queued it waits (as the local stack does: between the request's looks at
    the run lock). A failed attempt is retried twice, as Lambda retries an asynchronous invocation."""

    client: object
    queued: list[dict] = field(default_factory=list)
    pending: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)  # what each successful run returned
    failures: list[BaseException] = field(default_factory=list)  # every failed attempt

    def queue(self, event: dict) -> None:
        self.queued.append(event)
        self.pending.append(event)

    def wait(self, seconds: float) -> None:
        if not self.pending:
            import time

            time.sleep(seconds)  # what the API does when no run of ours is pending: the product's own pause
            return
        while self.pending:
            self.run(self.pending.pop(0))

    def run(self, event: dict) -> None:
        for _ in range(3):
            try:
                self.results.append(self.client.lambda_.invoke("monthly_metrics", event).payload)
                return
            except Exception as error:  # Lambda records the failure and retries
                self.failures.append(error)


@pytest.fixture
def queued_runs(client):
    from chalicelib.events import recompute

    runs = QueuedRuns(client)
    recompute.use_local_runner(runs.queue, runs.wait)
    yield runs
    recompute.use_local_runner(None)


@dataclass
class BackgroundRuns:
    """Runs each queued event on a thread of its own with the deployed handler (the function Lambda calls), while
    the request waits with the product's own pause: a run in another invocation, as in AWS. (The chalice test
    client swaps os.environ around each call, which two threads cannot do at once, so the thread calls the
    handler itself.)"""

    threads: list[threading.Thread] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def queue(self, event: dict) -> None:
        from chalice.local import LambdaContext

        from app import app

        def work():
            try:
                handler = app.handler_map["monthly_metrics"]
                self.results.append(handler(event, LambdaContext("monthly_metrics", memory_size=1024)))
            except BaseException as error:
                self.errors.append(error)

        thread = threading.Thread(target=work, name="queued-monthly_metrics")
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join()


@pytest.fixture
def background_runs(aws):
    from chalicelib.events import recompute

    runs = BackgroundRuns()
    recompute.use_local_runner(runs.queue)
    yield runs
    recompute.use_local_runner(None)
    runs.join()


@pytest.fixture
def short_wait(monkeypatch):
    """A request waits a fraction of a second for its run instead of 20 s (for runs that do not end)."""
    from chalicelib.events import recompute

    monkeypatch.setattr(recompute, "WAIT_SECONDS", 0.3)
