"""CloudWatch Logs' part, locally: `EmfTee` wraps `sys.stdout`, writes everything through unchanged (EMF lines
included, as Lambda sends them to the log too), and records the metrics of every complete line that carries an
`_aws.CloudWatchMetrics` directive into a `MetricStore` (nps_local/metrics_sink.py)."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterable, Iterator

from nps_local.emf import MAX_PENDING_LINE, parse_emf
from nps_local.metrics_sink import MetricStore


class EmfTee:
    """A stand-in for a text stream (sys.stdout) that writes everything through at once and records the EMF
    metrics of each complete line into `store`. Lines are assembled per thread, so two functions printing at the
    same time never mix their halves of a line; writes through are serialised by a lock.

    With `echo_emf=False` the EMF lines are recorded but not written through (Lambda sends them to CloudWatch
    Logs, not to anyone's console). Powertools prints one as two writes, the JSON then the newline; everything
    else still goes through at once, partial lines included."""

    def __init__(self, stream, store: MetricStore, *, echo_emf: bool = True):
        self.stream = stream
        self.store = store
        self.echo_emf = echo_emf
        self._lock = threading.Lock()
        self._pending = threading.local()

    def _shown(self, text: str) -> str:
        if self.echo_emf:
            return text
        if text.startswith('{"_aws"'):
            if text.endswith("\n"):
                return ""
            self._pending.emf_open = True  # the newline that ends it comes next, on its own
            return ""
        if getattr(self._pending, "emf_open", False):
            self._pending.emf_open = False
            if text.startswith("\n"):
                return text[1:]
        return text

    def write(self, text: str) -> int:
        if text.startswith('{"_aws"'):  # an EMF line starts here: what this thread left unfinished is not part of it
            self._pending.parts = None
        shown = self._shown(text)
        with self._lock:
            if shown:
                self.stream.write(shown)
        written = len(text)
        if "\n" not in text:
            self._hold(text)
            return written
        head, *middle, tail = text.split("\n")
        held = getattr(self._pending, "parts", None)
        lines = ["".join(held) + head if held else head, *middle]
        self._pending.parts = None
        self._pending.size = 0
        if tail:
            self._hold(tail)
        for line in lines:
            self._parse(line)
        return written

    def _hold(self, text: str) -> None:
        parts = getattr(self._pending, "parts", None)
        if parts is None:
            parts = self._pending.parts = []
            self._pending.size = 0
        self._pending.size += len(text)
        if self._pending.size > MAX_PENDING_LINE:  # not a line anyone prints as EMF: stop holding it
            parts.clear()
            self._pending.size = 0
            return
        parts.append(text)

    def _parse(self, line: str) -> None:
        if '"_aws"' not in line or "CloudWatchMetrics" not in line:
            return
        samples = parse_emf(line)
        if samples:
            self.store.add_emf(samples)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        with self._lock:
            self.stream.flush()

    def __getattr__(self, name: str):  # encoding, fileno, isatty, buffer...: the wrapped stream's
        return getattr(self.stream, name)


@contextlib.contextmanager
def capturing_stdout(store: MetricStore) -> Iterator[EmfTee]:
    """Install an `EmfTee` as sys.stdout for the duration."""
    tee = install(store)
    try:
        yield tee
    finally:
        uninstall(tee)


def install(store: MetricStore, *, echo_emf: bool = True) -> EmfTee:
    tee = EmfTee(sys.stdout, store, echo_emf=echo_emf)
    sys.stdout = tee
    return tee


def uninstall(tee: EmfTee) -> None:
    """Put the wrapped stream back. Whatever kept a reference to the tee (a log handler) still writes through."""
    if sys.stdout is tee:
        sys.stdout = tee.stream


# ---- what AWS would publish ------------------------------------------------------------------------------------
