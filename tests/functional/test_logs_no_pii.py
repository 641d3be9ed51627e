"""No person's data in the logs: a whole capture-and-process flow runs in-process (admin calls, email links, the
HTML form, the widget with an identity, unsubscribe, the stream, the SLA sweep, the monthly job, erasure and a
few refused requests) while every log line is captured, both what reaches stdout/stderr and every log record;
none may contain an email, a name, comment text, a link token, the admin token or an identity signature. The
JSON lines must carry a correlation id: one per request, and the stream record's on each record's lines.

App loggers (the `nps` tree, the Chalice app's) are captured at DEBUG; third-party libraries at INFO, the
most a deployed function would ever print for them (botocore's DEBUG output echoes request bodies by design
and is never enabled in Lambda)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from support import path_of

from chalicelib.domain import clock, tokens
from chalicelib.events.sweep import run_sweep
from nps_local.poller import default_handler
from nps_local.responses_stream import responses_poller

pytest_plugins = ["support_runs"]  # queued_runs: recompute's queued run goes to the monthly function

SHOP = "https://shop.example.com"
ZELDA = {
    "contact_id": "pii-c1",
    "account_id": "pii-a1",
    "email": "zelda.pii-check@example.org",
    "name": "Zelda Quixotic",
}
YORICK = {
    "contact_id": "pii-c2",
    "account_id": "pii-a2",
    "email": "yorick.pii-check@example.org",
    "name": "Yorick Pemberton-Vance",
}
LINK_COMMENT = "my secret complaint xyzzy"
FORM_COMMENT = "another private remark plugh"
WIDGET_COMMENT = "widget grievance frobozz"
TOO_LONG_COMMENT = "overlong confidential rant quuxly " * 70  # over 2,000 characters: refused
BOGUS_ADMIN_TOKEN = "bogus-admin-token-qwertyuiop"
# The lines a stream record produces while it is being handled.
RECORD_MESSAGES = {
    "response processed",
    "response removed",
    "skipped a key-only image",
    "skipped a record that is not from the responses table",
}


class Records(logging.Handler):
    """Every record, whichever logger it comes from (some app loggers may not propagate to the root)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not any(r is record for r in self.records[-50:]):
            self.records.append(record)


def rendered(record: logging.LogRecord) -> str:
    """A record as any formatter could print it: message, arguments, extra keys, exception and stack."""
    parts = [record.getMessage(), repr(record.args)]
    for key, value in vars(record).items():
        if key not in ("args", "msg", "exc_info"):
            parts.append(f"{key}={value!r}")
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def header(response, name: str) -> str | None:
    return next((v for k, v in (response.headers or {}).items() if k.lower() == name.lower()), None)


class LogCapture:
    """Every log line and record of a test: `start()` in the test body, then `read()`."""

    APP_LOGGERS = ("nps", "nps-backend", "chalicelib")

    def __init__(self, caplog, capfd) -> None:
        self.caplog, self.capfd = caplog, capfd
        self.records = Records()
        self.watched = [logging.getLogger(), *(logging.getLogger(n) for n in self.APP_LOGGERS)]
        self.powertools = getattr(logging.getLogger("nps"), "powertools_handler", None)
        self.old_stream = None

    def start(self) -> None:
        self.caplog.set_level(logging.INFO)
        for name in self.APP_LOGGERS:
            self.caplog.set_level(logging.DEBUG, logger=name)
        for lg in self.watched:
            lg.addHandler(self.records)
        # Powertools' handler keeps the stdout of the moment its Logger was made (under pytest, some earlier
        # capture's file, maybe closed by now): point it at this test's captured stdout, as Lambda's would be.
        assert self.powertools is not None, "the stream module configures the service's JSON logger"
        self.old_stream = self.powertools.stream
        self.powertools.stream = sys.stdout
        self.capfd.readouterr()

    def read(self) -> tuple[str, list[dict], list[logging.LogRecord]]:
        out, err = self.capfd.readouterr()
        text = out + "\n" + err + "\n" + self.caplog.text
        return text, json_lines(out + "\n" + err), list(self.records.records)

    def stop(self) -> None:
        for lg in self.watched:
            lg.removeHandler(self.records)
        if self.old_stream is not None:
            self.powertools.stream = self.old_stream  # not setStream(): it flushes this test's closed capture


@pytest.fixture
def logs(aws, caplog, capfd):
    capture = LogCapture(caplog, capfd)
    yield capture
    capture.stop()


def test_a_full_flow_logs_no_personal_data_and_correlates_every_line(api, logs, queued_runs):
    logs.start()
    correlation_ids: list[str] = []
    event_ids: set[str] = set()
    request_ids: set[str] = set()  # of the stream function's invocations: a batch's own lines carry its id
    stream = None

    def response_stream(event, context):
        """The app's stream function, invoked by the poller with a Lambda context whose request id is noted."""
        request_ids.add(context.aws_request_id)
        return default_handler()(event, context)

    def call(method, path, body=None, **kw):
        response = api.call(method, path, body, **kw)
        cid = header(response, "X-Correlation-Id")
        if cid:
            correlation_ids.append(cid)
        return response

    def process_stream():
        nonlocal stream
        stream = stream or responses_poller(handler=response_stream)
        records = stream.read_new()
        event_ids.update(r["eventID"] for r in records)
        assert stream.deliver(records) == []
        return records

    # An admin creates a survey and invites two people.
    r = call(
        "POST",
        "/v1/surveys",
        {
            "name": "PII check",
            "drivers": ["price", "support"],
            "allowed_origins": [SHOP],
            "loop_rules": {"categories": ["detractor", "promoter"], "sla_hours": 24, "fallback_owner": "cx-team"},
        },
    )
    assert r.status_code == 201, r.body
    survey = r.json
    sid, secret = survey["survey_id"], survey["identity_secret"]
    r = call("POST", f"/v1/surveys/{sid}/invitations", {"contacts": [ZELDA, YORICK]})
    assert r.status_code == 201, r.body
    zelda, yorick = r.json["invitations"]
    link_tokens = [path_of(inv["link"]).split("/")[2] for inv in (zelda, yorick)]
    unsubscribe_tokens = [path_of(inv["unsubscribe_link"]).split("/")[2] for inv in (zelda, yorick)]

    # Zelda opens a score link (safe), then her page's script records the score and her comment.
    assert call("GET", path_of(zelda["score_links"][2]), token=None).status_code == 200
    r = call("POST", path_of(zelda["link"]), {"score": 2}, token=None)
    assert r.status_code == 201, r.body
    r = call(
        "POST",
        path_of(zelda["link"]),
        {"score": 2, "comment": LINK_COMMENT, "drivers": ["support"]},
        token=None,
        headers={"X-Correlation-Id": "client-chosen-id-1"},
    )
    assert r.status_code == 200, r.body
    assert header(r, "X-Correlation-Id") == "client-chosen-id-1"

    # Yorick answers with the plain HTML form (no script), then unsubscribes.
    form = urlencode({"score": "9", "comment": FORM_COMMENT, "drivers": "price"})
    r = call("POST", path_of(yorick["link"]), raw=form, token=None, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 201, r.body
    r = call("POST", path_of(yorick["unsubscribe_link"]), token=None, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.body

    # Zelda also answers through the widget on a page that knows who she is.
    identity = tokens.identity_signature(secret, ZELDA["contact_id"], ZELDA["account_id"])
    r = call(
        "POST",
        f"/v1/surveys/{sid}/responses",
        {
            "score": 1,
            "comment": WIDGET_COMMENT,
            "contact_id": ZELDA["contact_id"],
            "account_id": ZELDA["account_id"],
            "identity": identity,
            "page": f"{SHOP}/account?email={quote(ZELDA['email'])}",
        },
        token=None,
        headers={"Origin": SHOP, "Idempotency-Key": "pii-widget-1"},
    )
    assert r.status_code == 201, r.body

    # The stream opens close-the-loop tasks; the sweep escalates them once they are overdue.
    process_stream()
    r = call("GET", "/v1/tasks")
    assert r.status_code == 200 and len(r.json["tasks"]) == 3, r.body
    assert run_sweep(now=clock.utcnow() + timedelta(days=2))["escalated"] == 3
    month = clock.utcnow().strftime("%Y-%m")
    assert call("POST", f"/v1/metrics/{month}/recompute").status_code == 200
    assert call("GET", f"/v1/responses?survey_id={sid}").status_code == 200

    # Zelda asks to be forgotten; the stream scrubs what the tasks kept of her comments.
    r = call("DELETE", f"/v1/contacts/{ZELDA['contact_id']}")
    assert r.status_code == 200, r.body
    process_stream()

    # Refused requests: a tampered link, a wrong admin token, and invalid answers echoing personal data.
    tampered = link_tokens[0][:-4] + ("AAAA" if not link_tokens[0].endswith("AAAA") else "BBBB")
    assert call("POST", f"/s/{tampered}", {"score": 5}, token=None).status_code == 403
    assert call("GET", f"/s/{tampered}?score=3", token=None).status_code == 403
    assert call("POST", f"/u/{unsubscribe_tokens[0][:-3]}xyz", token=None).status_code in (403, 404)
    assert call("GET", "/v1/surveys", token=BOGUS_ADMIN_TOKEN).status_code == 401
    r = call("POST", path_of(yorick["link"]), {"score": 11, "comment": FORM_COMMENT}, token=None)
    assert r.status_code == 422, r.body
    r = call("POST", path_of(zelda["link"]), {"score": 3, "comment": TOO_LONG_COMMENT}, token=None)
    assert r.status_code == 422, r.body
    r = call(
        "POST",
        f"/v1/surveys/{sid}/responses",
        {"score": 4, "contact_id": ZELDA["contact_id"], "identity": "0" * 64},
        token=None,
        headers={"Origin": SHOP},
    )
    assert r.status_code == 403, r.body
    r = call(
        "POST", f"/v1/surveys/{sid}/invitations", {"contacts": [{**ZELDA, "email": "not-an-email " + ZELDA["email"]}]}
    )
    assert r.status_code == 422, r.body

    text, lines, records = logs.read()

    # ---- nothing personal or secret, anywhere ----
    secrets_ = {
        "email": [ZELDA["email"], YORICK["email"], "zelda.pii-check", "yorick.pii-check", quote(ZELDA["email"])],
        "name": ["Zelda", "Quixotic", "Yorick", "Pemberton-Vance"],
        "comment": [LINK_COMMENT, FORM_COMMENT, WIDGET_COMMENT, "xyzzy", "plugh", "frobozz", "quuxly"],
        "link token": [*link_tokens, *unsubscribe_tokens, tampered]
        + [t.split(".")[1] for t in link_tokens + unsubscribe_tokens],
        "admin token": [api.token, BOGUS_ADMIN_TOKEN],
        "identity": [identity, secret],
    }
    everything = text + "\n" + "\n".join(rendered(r) for r in records)
    assert len(everything) > 1000 and lines and records, "the flow logged something to check"
    leaks = [
        (kind, value, next(line for line in everything.splitlines() if value.lower() in line.lower())[:300])
        for kind, values in secrets_.items()
        for value in values
        if value.lower() in everything.lower()
    ]
    assert not leaks, "personal data or secrets in the logs:\n" + "\n".join(map(repr, leaks))

    # ---- one JSON request line per request, with its correlation id ----
    requests = [line for line in lines if line.get("message") == "request"]
    assert requests, "request lines are JSON lines"
    assert all(line.get("correlation_id") for line in requests), [x for x in requests if not x.get("correlation_id")]
    assert all(str(line.get("route")).startswith("/") for line in requests), "the route template is logged"
    logged = [line["correlation_id"] for line in requests]
    assert sorted(logged) == sorted(correlation_ids), "each answered request logs exactly one line"
    assert len(set(correlation_ids)) == len(correlation_ids)
    assert "client-chosen-id-1" in logged
    for line in requests:
        assert "/s/ey" not in json.dumps(line) and "/u/ey" not in json.dumps(line), "a concrete tokened path"

    # ---- every line about a stream record carries that record's id ----
    about_records = [line for line in lines if line.get("message") in RECORD_MESSAGES]
    assert len([line for line in about_records if line["message"] == "response processed"]) >= 4
    missing = [line for line in about_records if line.get("correlation_id") not in event_ids]
    assert not missing, missing
    # And the JSON lines are the service's: structured, levelled, timestamped.
    service_lines = [line for line in lines if line.get("service") == "nps" and "_aws" not in line]  # not EMF
    assert service_lines and all({"level", "timestamp", "message"} <= set(line) for line in service_lines)

    # ---- and every other line too: a request's lines (the queued monthly run's included) carry the request's
    # id, a stream batch's own lines the invocation's; only the sweep, called here without its handler, has none.
    assert request_ids, "the stream function ran"
    known = set(correlation_ids) | event_ids | request_ids
    sweep = {"task escalated", "sla sweep done"}
    uncorrelated = [x for x in service_lines if x["message"] not in sweep and x.get("correlation_id") not in known]
    assert not uncorrelated, uncorrelated[:5]
    assert any(x["message"] != "request" and x.get("correlation_id") in correlation_ids for x in service_lines)


PROBE = r"""
import json
from moto import mock_aws
with mock_aws():
    from chalicelib.store import models
    models.bind()
    for model in models.MODELS.values():
        model.create_table(billing_mode="PAY_PER_REQUEST")
    from chalice.test import Client
    from app import app
    with Client(app) as client:
        answer = client.http.get("/v1/health", headers={"X-Correlation-Id": "probe-correlation-1"})
    assert answer.status_code == 200, answer.body
    from chalicelib.events.sweep import run_sweep
    run_sweep()
"""


def test_a_fresh_function_process_prints_its_request_and_sweep_lines_as_json():
    """What a deployed API or scheduled function prints: a fresh interpreter with only `app` imported."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=root, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = json_lines(done.stdout)
    requests = [line for line in lines if line.get("message") == "request"]
    assert [line.get("correlation_id") for line in requests] == ["probe-correlation-1"], done.stdout[-2000:]
    assert any(line.get("message") == "sla sweep done" for line in lines), done.stdout[-2000:]
