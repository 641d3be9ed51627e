"""End-to-end fixtures: the real local stack (`python -m nps_local.stack`) as a separate process,
spoken to over real HTTP.

`stack` (session-scoped, shared by every e2e test) has `.base_url`, `.admin_token`, `.demo` (the labelled lines
the demo printed: "Demo survey page", "Widget demo page", "Admin token", ...), `.banner`, and helpers:
`.request(method, path, body=None, token=..., headers=None, raw=None)` and `.get/.post/.put/.patch/.delete`
(answers with `.status`, `.headers`, `.body`, `.json`, `.text`), `.drain_stream()` (deliver the responses stream
now, synchronously), `.fire(name)` (run a scheduled handler now) and `.status()` (poller and scheduler counts).
`start_local_stack(demo=..., admin_token=...)` starts another one, for tests that stop it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
# Set for the in-process tests by tests/conftest.py; the stack must start from its own defaults.
TEST_ONLY_ENV = (
    "NPS_STAGE",
    "TABLE_PREFIX",
    "PUBLIC_BASE_URL",
    "LINK_SIGNING_KEYS",
    "LINK_SIGNING_KEY_ID",
    "NPS_ALLOW_DEV_KEYS",  # the stack must allow its development key itself
    "DYNAMODB_ENDPOINT",
    "PORT",
    "NPS_DEMO",
    "NPS_LOCAL_ADMIN_TOKEN",
)


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def json(self):
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StackProcess:
    def __init__(self, process: subprocess.Popen, port: int, admin_token: str, stderr_path: Path):
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.admin_token = admin_token
        self.stderr_path = stderr_path
        self.output: list[str] = []
        self.banner: dict[str, str] = {}
        self.demo: dict[str, str] = {}
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.output.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for_line(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self.output):
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    return False
                self._changed.wait(min(left, 0.5))
        return True

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def describe(self) -> str:
        return "stdout:\n" + "\n".join(self.output[-40:]) + "\nstderr:\n" + self.stderr[-4000:]

    # ---- HTTP -------------------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    def request(self, method, path, body=None, *, token=..., headers=None, raw=None, timeout=30.0) -> Answer:
        h = {"Accept": "application/json"}
        data = None
        if raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
        elif body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        tok = self.admin_token if token is ... else token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        h.update(headers or {})
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return Answer(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as e:
            return Answer(e.code, dict(e.headers), e.read())

    def get(self, path, **kw) -> Answer:
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw) -> Answer:
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw) -> Answer:
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw) -> Answer:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw) -> Answer:
        return self.request("DELETE", path, **kw)

    def drain_stream(self) -> dict:
        """Deliver every record on the responses stream to the stream handler now; the poller's counts."""
        answer = self.post("/local/stream/poll")
        assert answer.status == 200, answer.text
        return answer.json

    def fire(self, name: str) -> Answer:
        return self.post(f"/local/scheduler/fire?name={name}")

    def status(self) -> dict:
        return self.get("/local/status").json

    # ---- lifecycle --------------------------------------------------------------------------------------

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the stack exited with {self.process.returncode}\n{self.describe()}")
            try:
                if self.get("/v1/health", token=None, timeout=10).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)  # not serving yet (the port is bound before the stack is ready): poll again
        raise RuntimeError(f"/v1/health did not answer 200 within {timeout} s\n{self.describe()}")

    def stop(self, sig=signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise
        finally:
            self._reader.join(5)


def start_stack(
    tmp_dir: Path, *, demo: bool = True, admin_token: str | None = None, extra_env=None, ready: bool = True
):
    """Start the local stack on a free port and wait until it is healthy and (unless `ready` is False: the demo
    may still be loading) its banner is printed."""
    from nps_local.banner import READY_LINE, STACK_LABELS, parse_banner

    token = admin_token or f"local-e2e-{secrets.token_urlsafe(24)}"
    last_error = None
    for _attempt in range(3):  # a free port can be taken between choosing it and binding it
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_ENV}
        env.update(
            PORT=str(port),
            NPS_DEMO="1" if demo else "0",
            NPS_LOCAL_ADMIN_TOKEN=token,
            PYTHONUNBUFFERED="1",
            NPS_DEMO_ACCOUNTS="25",
        )
        env.update(extra_env or {})
        stderr_path = Path(tmp_dir) / f"stack-{port}.stderr"
        process = subprocess.Popen(
            [sys.executable, "-m", "nps_local.stack"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr_path.open("w"),
            text=True,
        )
        stack = StackProcess(process, port, token, stderr_path)
        try:
            stack.wait_healthy(START_TIMEOUT)
        except RuntimeError as error:
            last_error = error
            stack.stop(signal.SIGKILL)
            if "could not start" in stack.stderr:
                continue
            raise
        if not ready:
            return stack
        if not stack.wait_for_line(READY_LINE, START_TIMEOUT):
            stack.stop(signal.SIGKILL)
            raise RuntimeError(f"the stack printed no banner\n{stack.describe()}")
        stack.banner = parse_banner(stack.output)
        stack.demo = {k: v for k, v in stack.banner.items() if k not in STACK_LABELS or k == "Admin token"}
        return stack
    raise RuntimeError(f"the stack could not start: {last_error}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The local stack with the demo loaded, shared by the e2e tests of this session."""
    running = start_stack(tmp_path_factory.mktemp("stack"), demo=True)
    yield running
    running.stop()


@pytest.fixture
def start_local_stack(tmp_path):
    """Start another stack (for tests that stop it): `start_local_stack(demo=False, admin_token=None)`."""
    started: list[StackProcess] = []

    def start(**options) -> StackProcess:
        running = start_stack(tmp_path, **options)
        started.append(running)
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            running.stop(signal.SIGKILL)
