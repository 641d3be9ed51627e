"""The Makefile's user-facing targets, run as a user runs them: `make run` stops on SIGTERM to make itself, and
`make import` keeps the admin token out of every command line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[2]
# Set for the in-process tests by tests/conftest.py; `make run` must start the stack from its own defaults.
TEST_ONLY_ENV = (
    "NPS_STAGE",
    "TABLE_PREFIX",
    "PUBLIC_BASE_URL",
    "LINK_SIGNING_KEYS",
    "LINK_SIGNING_KEY_ID",
    "LINK_SIGNING_SECRET",
    "NPS_ALLOW_DEV_KEYS",
    "DYNAMODB_ENDPOINT",
    "PORT",
    "NPS_DEMO",
    "NPS_LOCAL_ADMIN_TOKEN",
    "NPS_ADMIN_TOKEN",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
)


def _environ() -> dict:
    return {k: v for k, v in os.environ.items() if k not in TEST_ONLY_ENV}


def _make(*args: str) -> list[str]:
    # -o: treat the venv as installed (the test runs inside it); a requirements change must not reinstall here.
    return ["make", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed", *args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _descendants(pid: int) -> list[int]:
    try:
        children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []
    return [*children, *(d for c in children for d in _descendants(c))]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_sigterm_to_make_run_stops_the_local_stack(tmp_path):
    port = _free_port()
    log = (tmp_path / "run.log").open("w")
    make = subprocess.Popen(
        _make("run", f"PORT={port}", "NPS_DEMO=0"),
        env=_environ(),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    stack_pids: list[int] = []
    try:
        _until(lambda: _healthy(port) or make.poll() is not None, 90, "the local stack to answer /v1/health")
        assert make.poll() is None, (tmp_path / "run.log").read_text()
        stack_pids = _descendants(make.pid)
        assert stack_pids, "make run has no child process"
        make.send_signal(signal.SIGTERM)
        make.wait(timeout=60)
        _until(lambda: not any(_alive(p) for p in stack_pids), 60, "the stack process to exit")
        assert not _healthy(port)
    finally:
        for pid in [*stack_pids, make.pid]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        make.wait(timeout=10)
        log.close()


class _ImportApi(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cli = [
            Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            for p in os.listdir("/proc")
            if p.isdigit() and Path(f"/proc/{p}/cmdline").exists()
        ]
        self.seen.append(
            {
                "authorization": self.headers.get("Authorization"),
                "path": self.path,
                "lines": body.decode().count("\n"),
                "cmdlines": cli,
            }
        )
        answer = json.dumps({"accepted": 1, "rejected": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def _import_through_make(
    tmp_path, token_args: list[str], extra_env: dict
) -> tuple[subprocess.CompletedProcess, list[dict]]:
    rows = tmp_path / "accounts.csv"
    rows.write_text("account_id,name\nacc-1,Acme\n")
    _ImportApi.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImportApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        done = subprocess.run(
            _make(
                "import",
                "KIND=accounts",
                f"FILE={rows}",
                f"URL=http://127.0.0.1:{server.server_address[1]}",
                *token_args,
            ),
            env={**_environ(), **extra_env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    return done, _ImportApi.seen


def test_make_import_takes_the_token_from_the_environment_and_never_shows_it(tmp_path):
    token = "npsa_0123456789abcdef.make-import-secret-token"
    done, seen = _import_through_make(tmp_path, [], {"NPS_ADMIN_TOKEN": token})
    assert done.returncode == 0, done.stdout + done.stderr
    assert [s["authorization"] for s in seen] == [f"Bearer {token}"]
    assert seen[0]["path"] == "/v1/accounts/import"
    assert token not in done.stdout + done.stderr  # make echoes its recipe
    assert not [c for c in seen[0]["cmdlines"] if token in c]  # nor in any process's argv (ps)


def test_make_import_token_variable_is_exported_not_spelled_out(tmp_path):
    token = "npsa_0123456789abcdef.make-variable-secret-token"
    done, seen = _import_through_make(tmp_path, [f"TOKEN={token}"], {})
    assert done.returncode == 0, done.stdout + done.stderr
    assert [s["authorization"] for s in seen] == [f"Bearer {token}"]
    assert token not in done.stdout + done.stderr
    cli = [c for c in seen[0]["cmdlines"] if "nps_cli" in c]
    assert cli and not [c for c in cli if token in c]
