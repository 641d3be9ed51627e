"""Lambda's asynchronous invocation in the local stack: queued recompute runs, and the first run of a started
wave. A part of `LocalStack` (nps_local/stack.py), which it is mixed into."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("nps.local")


class QueuedRuns:
    def _start_queued_runs(self) -> None:
        """Lambda's asynchronous invocation, for recompute: the monthly_metrics handler runs at once with the queued
        event, and a failed run is tried twice more, as Lambda retries. A queued run goes to a background thread,
        which takes the function lock before it takes the run; a request that waits for its run (the default
        recompute) holds that lock, so between its looks at the run lock it runs the queued runs itself. Either
        way each run is one invocation of its own, one at a time, as everywhere in the local stack."""
        import time
        from collections import deque

        from chalice.local import LambdaContext

        from chalicelib.events import recompute
        from nps_local.gateway import FUNCTION_LOCK

        job = self.scheduler.jobs["monthly_metrics"]
        pending: deque[dict] = deque()

        def work(payload: dict) -> None:
            for attempt in range(3):
                try:
                    job.handler(payload, LambdaContext(job.name, memory_size=1024, max_runtime_ms=900_000))
                except Exception:
                    log.exception("queued run %s of %s failed (attempt %d of 3)", payload["id"], job.name, attempt + 1)
                    continue
                with self._queued_lock:
                    self.queued_runs["succeeded"] += 1
                return
            with self._queued_lock:
                self.queued_runs["failed"] += 1

        def drain() -> bool:
            """Run every pending run in this thread, which holds the function lock; False when none was pending."""
            ran = False
            while True:
                with self._queued_lock:
                    if not pending:
                        return ran
                    payload = pending.popleft()
                work(payload)
                ran = True

        def in_background() -> None:
            with FUNCTION_LOCK:
                drain()

        def run(payload: dict) -> None:
            thread = threading.Thread(target=in_background, name=f"queued-{job.name}", daemon=True)
            with self._queued_lock:
                pending.append(payload)
                self.queued_runs["started"] += 1
                self._queued_threads = [t for t in self._queued_threads if t.is_alive()] + [thread]
            thread.start()

        def wait(seconds: float) -> None:
            with FUNCTION_LOCK:
                if drain():
                    return
            time.sleep(seconds)  # the run is in another invocation (a scheduled run): look again shortly

        recompute.use_local_runner(run, wait)
        self._start_wave_runs()

    def _start_wave_runs(self) -> None:
        """A started wave's queued run: the survey_waves handler runs the event in a background thread, once
        the request that queued it is answered (it holds the function lock), with the function's 15 minutes. A
        run that fails is not tried again (the function's retries are 0): the wave stays due, and the
        scheduler's next survey_waves tick runs it, as in AWS."""
        from chalice.local import LambdaContext

        from chalicelib.events import wave_runs
        from nps_local.gateway import FUNCTION_LOCK

        job = self.scheduler.jobs["survey_waves"]

        def work(payload: dict) -> None:
            with FUNCTION_LOCK:
                try:
                    job.handler(payload, LambdaContext(job.name, memory_size=512, max_runtime_ms=900_000))
                except Exception:
                    log.exception("the queued run of wave %s failed", payload["detail"].get("wave_id"))
                    with self._queued_lock:
                        self.queued_runs["failed"] += 1
                    return
            with self._queued_lock:
                self.queued_runs["succeeded"] += 1

        def run(payload: dict) -> None:
            thread = threading.Thread(target=work, args=(payload,), name="queued-survey_waves", daemon=True)
            with self._queued_lock:
                self.queued_runs["started"] += 1
                self._queued_threads = [t for t in self._queued_threads if t.is_alive()] + [thread]
            thread.start()

        wave_runs.use_local_runner(run)

    def _queued_counts(self) -> dict:
        with self._queued_lock:
            return dict(self.queued_runs)
