"""`python -m nps_cli import` against the real local stack, through a proxy that drops connections:
lost connections are retried (imports are idempotent), an import that cannot finish says what went through and
exits 3, rejected rows exit 1, usage errors 2, and neither a traceback nor the admin token is ever printed."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class DroppingProxy:
    """A TCP proxy to the stack. Each connection takes the next plan from `plans` (then `then`): "forward" pipes
    it to the stack; "drop" reads the request's first bytes and hangs up without an answer (a connection lost
    mid-request, as when a load balancer or the stack goes away)."""

    def __init__(self, target_port: int, plans: list[str], then: str = "forward"):
        self.target_port = target_port
        self.plans = deque(plans)
        self.then = then
        self.log: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            plan = self.plans.popleft() if self.plans else self.then
            self.log.append(plan)
            threading.Thread(target=self._handle, args=(client, plan), daemon=True).start()

    def _handle(self, client: socket.socket, plan: str) -> None:
        with client:
            if plan == "drop":
                client.recv(1024)
                return
            with socket.create_connection(("127.0.0.1", self.target_port)) as upstream:

                def pipe(src, dst):
                    try:
                        while data := src.recv(65536):
                            dst.sendall(data)
                    except OSError:
                        pass
                    finally:
                        with contextlib.suppress(OSError):
                            dst.shutdown(socket.SHUT_WR)

                back = threading.Thread(target=pipe, args=(upstream, client), daemon=True)
                back.start()
                pipe(client, upstream)
                back.join(60)

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def proxy(stack):
    made: list[DroppingProxy] = []

    def make(plans: list[str], then: str = "forward") -> DroppingProxy:
        made.append(DroppingProxy(stack.port, plans, then))
        return made[-1]

    yield make
    for p in made:
        p.close()


def run_cli(*args: str, token: str | None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("NPS_ADMIN_TOKEN", "NPS_API_URL")}
    if token is not None:
        env["NPS_ADMIN_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "nps_cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def accounts_file(tmp_path: Path, prefix: str, count: int, bad_lines: tuple[int, ...] = ()) -> Path:
    path = tmp_path / f"{prefix}.csv"
    rows = ["account_id,name,segment,2026-01"]
    for i in range(count):
        line = len(rows) + 1
        account = "not valid id" if line in bad_lines else f"{prefix}-{i:03d}"
        rows.append(f"{account},Account {i},smb,{100 + i}")
    path.write_text("\n".join(rows) + "\n")
    return path


def exists(stack, account_id: str) -> bool:
    return stack.get(f"/v1/accounts/{account_id}").status == 200


def assert_quiet(done: subprocess.CompletedProcess, token: str) -> None:
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert token not in output, "the admin token was printed"


def test_a_dropped_connection_is_retried_and_the_import_finishes(stack, proxy, tmp_path):
    path = accounts_file(tmp_path, "cli-drop", 5)
    through = proxy(["forward", "drop"])  # page 1 goes through, page 2's first connection is lost

    done = run_cli(
        "import", "accounts", str(path), "--url", through.url, "--rows-per-page", "2", token=stack.admin_token
    )

    assert done.returncode == 0, done.stderr
    assert_quiet(done, stack.admin_token)
    assert "retrying" in done.stderr
    assert through.log[:4] == ["forward", "drop", "forward", "forward"]
    assert all(exists(stack, f"cli-drop-{i:03d}") for i in range(5))
    report = json.loads(done.stdout)
    assert report["complete"] is True and report["accepted"] == 5 and report["rejected_count"] == 0


def test_an_import_that_cannot_finish_says_what_went_through_and_exits_3(stack, proxy, tmp_path):
    path = accounts_file(tmp_path, "cli-cut", 5)
    through = proxy(["forward"], then="drop")  # the first page goes through, then the API is gone

    done = run_cli(
        "import",
        "accounts",
        str(path),
        "--url",
        through.url,
        "--rows-per-page",
        "2",
        "--attempts",
        "2",
        token=stack.admin_token,
    )

    assert done.returncode == 3, done.stderr
    assert_quiet(done, stack.admin_token)
    assert "import stopped: could not reach the API" in done.stderr
    assert "Went through: lines 2-3 of cli-cut.csv (1 page; accepted 2, rejected 0)" in done.stderr
    assert "Not imported: line 4 on." in done.stderr
    report = json.loads(done.stdout)
    assert report["complete"] is False and report["next_line"] == 4 and report["accepted"] == 2
    assert [exists(stack, f"cli-cut-{i:03d}") for i in range(5)] == [True, True, False, False, False]

    # Run again straight to the stack: idempotent, the rows already in are unchanged.
    again = run_cli("import", "accounts", str(path), "--url", stack.base_url, token=stack.admin_token)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["unchanged"] == 2
    assert all(exists(stack, f"cli-cut-{i:03d}") for i in range(5))


def test_a_stack_that_is_not_there_is_exit_3_without_a_traceback(tmp_path):
    path = accounts_file(tmp_path, "cli-none", 2)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "npsa_0123456789abcdef.cli-test-token-never-printed"

    done = run_cli("import", "accounts", str(path), "--url", f"http://127.0.0.1:{port}", "--attempts", "2", token=token)

    assert done.returncode == 3, done.stderr
    assert_quiet(done, token)
    assert "Nothing went through" in done.stderr and "ConnectionRefusedError" in done.stderr


def test_rejected_rows_exit_1_with_the_file_line_numbers(stack, tmp_path):
    path = accounts_file(tmp_path, "cli-bad", 5, bad_lines=(4,))

    done = run_cli(
        "import", "accounts", str(path), "--url", stack.base_url, "--rows-per-page", "2", token=stack.admin_token
    )

    assert done.returncode == 1, done.stderr
    assert_quiet(done, stack.admin_token)
    report = json.loads(done.stdout)
    assert report["complete"] is True and report["accepted"] == 4
    assert [r["line"] for r in report["rejected"]] == [4]


def test_a_refused_token_is_exit_3_and_the_token_is_not_echoed(stack, tmp_path):
    path = accounts_file(tmp_path, "cli-token", 2)
    token = "npsa_0123456789abcdef.wrong-token-that-must-not-be-printed"

    done = run_cli("import", "accounts", str(path), "--url", stack.base_url, token=token)

    assert done.returncode == 3, done.stderr
    assert_quiet(done, token)
    assert "HTTP 401 unauthorized" in done.stderr
    assert not exists(stack, "cli-token-000")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["import", "accounts", "missing.csv"], "is not a file"),
        (["import", "widgets", "x.csv"], "invalid choice"),
        (["import", "accounts", "{file}", "--url", "ftp://example.com"], "--url must start with"),
        (["import", "accounts", "{file}", "--rows-per-page", "0"], "at least 1"),
    ],
)
def test_usage_errors_exit_2(tmp_path, args, says):
    path = accounts_file(tmp_path, "cli-usage", 1)
    token = "npsa_0123456789abcdef.usage-token"
    done = run_cli(*[a.replace("{file}", str(path)) for a in args], token=token)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert_quiet(done, token)


def test_no_token_is_a_usage_error(tmp_path):
    path = accounts_file(tmp_path, "cli-notoken", 1)
    done = run_cli("import", "accounts", str(path), token=None)
    assert done.returncode == 2
    assert "NPS_ADMIN_TOKEN" in done.stderr and "Traceback" not in done.stderr
