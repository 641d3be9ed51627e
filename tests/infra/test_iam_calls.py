"""Each function's IAM policy against what its code really calls.

The real handlers run on moto through Chalice's test client (the API routes with the authorizer in front of
them, the stream handler, the three schedules) with every botocore call recorded, where botocore turns an
operation into a request (`BaseClient._make_api_call`, which PynamoDB's calls pass too), and put down to the
function that made it. Each call is turned into the IAM actions and resources AWS authorises it with (a
transaction is authorised item by item), and then:

- every call a function makes is allowed by the policy infra/iam.py generates for it, so nothing the code does
  is refused in AWS;
- every (action, resource) a policy grants for the code is called by some invocation below, so a grant the code
  no longer needs shows up here and is dropped rather than kept "just in case".

The journey runs under the stage `test` (the tests' table prefix `nps-test-`), for which iam.py generates the
policies the same way as for dev and prod. Each invocation starts as a cold Lambda container would: settings,
link keys and the in-memory caches are forgotten first, so every read a cache might save is still seen.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import threading
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from chalicelib.domain import clock
from infra import iam

STAGE = "test"  # the stage the tests' environment names (NPS_STAGE, TABLE_PREFIX nps-test-)
ACCOUNT = "123456789012"  # moto's account
SHOP = "https://shop.example.com"


@dataclass(frozen=True)
class Call:
    function: str
    action: str
    resource: str
    operation: str  # the botocore operation, for messages


# --- turning a botocore call into what IAM authorises --------------------------------------------------------


def _table(region: str, name: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
SINGLE_TABLE_OPERATIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "DescribeTable"}


def authorised_as(service: str, operation: str, params: dict, region: str) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs AWS checks for one call."""
    if service == "dynamodb":
        if operation in SINGLE_TABLE_OPERATIONS:
            return [(f"dynamodb:{operation}", _table(region, params["TableName"], params.get("IndexName")))]
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [(f"dynamodb:{operation}", _table(region, name)) for name in params["RequestItems"]]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            pairs = []
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                pairs.append((f"dynamodb:{TRANSACT_ITEM_ACTIONS[kind]}", _table(region, body["TableName"])))
            return pairs
    if service == "secretsmanager" and operation == "GetSecretValue":
        secret = params["SecretId"]
        # By name, the ARN ends in "-" and six random characters, which the policy's "-*" stands for.
        arn = (
            secret if secret.startswith("arn:") else f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{secret}-ab12Cd"
        )
        return [("secretsmanager:GetSecretValue", arn)]
    if service == "lambda" and operation == "Invoke":
        name = params["FunctionName"]
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
        return [("lambda:InvokeFunction", arn)]
    if service == "sqs" and operation in ("SendMessage", "SendMessageBatch"):  # a batch is authorised as SendMessage
        queue = params["QueueUrl"].rstrip("/").rsplit("/", 1)[1]
        return [("sqs:SendMessage", f"arn:aws:sqs:{region}:{ACCOUNT}:{queue}")]
    if service == "sesv2" and operation == "SendEmail":  # the From identity, and the configuration set named
        domain = params["FromEmailAddress"].rsplit("@", 1)[1].rstrip(">")
        # Raw content (a whole MIME message) is also checked as ses:SendRawEmail.
        actions = ["ses:SendEmail", *(["ses:SendRawEmail"] if "Raw" in params.get("Content", {}) else [])]
        resources = [f"arn:aws:ses:{region}:{ACCOUNT}:identity/{domain}"]
        if params.get("ConfigurationSetName"):
            resources.append(f"arn:aws:ses:{region}:{ACCOUNT}:configuration-set/{params['ConfigurationSetName']}")
        return [(a, r) for a in actions for r in resources]
    if service == "events" and operation == "PutEvents":  # authorised on each entry's bus
        buses = {entry.get("EventBusName") or "default" for entry in params["Entries"]}
        return [("events:PutEvents", f"arn:aws:events:{region}:{ACCOUNT}:event-bus/{bus}") for bus in sorted(buses)]
    # Not mapped yet: an action no policy grants, so the check below names it and the mapping can be added.
    return [(f"{service}:{operation}", "*")]


# --- recording ---------------------------------------------------------------------------------------------------


class Recorder:
    """Every botocore call while active, put down to the function running then.

    `running(name)` marks an invocation (the test runs one at a time; the monthly job's reader threads count for
    it too). Inside an HTTP request the authorizer runs before the route: a call with the authorizer's code on
    the stack is admin_auth's."""

    def __init__(self, authorizer_code) -> None:
        self.calls: list[Call] = []
        self.outside: list[str] = []  # calls of the test itself (setup), not of a function
        self.current: str | None = None
        self.invocations: dict[str, int] = defaultdict(int)
        self._authorizer_code = authorizer_code
        self._lock = threading.Lock()

    def function_now(self) -> str | None:
        if self.current == "api_handler":
            frame = sys._getframe()
            while frame is not None:
                if frame.f_code is self._authorizer_code:
                    return "admin_auth"
                frame = frame.f_back
        return self.current

    def record(self, client, operation: str, params: dict) -> None:
        service = client.meta.service_model.service_name
        function = self.function_now()
        with self._lock:
            if function is None:
                self.outside.append(f"{service}.{operation}")
                return
            for action, resource in authorised_as(service, operation, params, client.meta.region_name):
                self.calls.append(Call(function, action, resource, f"{service}.{operation}"))

    @contextlib.contextmanager
    def active(self):
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        recorder = self

        def recording(client, operation_name, api_params):
            recorder.record(client, operation_name, api_params)
            return original(client, operation_name, api_params)

        BaseClient._make_api_call = recording
        try:
            yield self
        finally:
            BaseClient._make_api_call = original

    @contextlib.contextmanager
    def running(self, function: str, *, cold: bool = True):
        """One invocation of `function`; `cold=False` for one that runs inside another (the local runner)."""
        if cold:
            _cold_start()
        outer, self.current = self.current, function
        self.invocations[function] += 1
        try:
            yield
        finally:
            self.current = outer


def _cold_start() -> None:
    """What a new Lambda container starts without: cached settings, link keys, surveys and accounts."""
    from chalicelib import config
    from chalicelib.events.account_cache import forget_cached_accounts
    from chalicelib.store import surveys

    config.reset()
    config.settings()  # read here: the test client swaps in the dev stage's variables while it invokes
    surveys.clear_cache()
    forget_cached_accounts()


# --- the journey -------------------------------------------------------------------------------------------------


class Journey:
    """Drives the app as its users and schedules do, each request or event one recorded invocation."""

    def __init__(self, client, recorder: Recorder, token: str) -> None:
        from support import Api

        self.client = client
        self.recorder = recorder
        self.api = Api(client, token)

    def http(self, method: str, path: str, body=None, **kw):
        with self.recorder.running("api_handler"):
            return self.api.call(method, path, body, **kw)

    def ok(self, method: str, path: str, body=None, status=(200, 201), **kw):
        r = self.http(method, path, body, **kw)
        statuses = status if isinstance(status, tuple) else (status,)
        assert r.status_code in statuses, f"{method} {path}: {r.status_code} {r.body!r}"
        return r

    def invoke(self, function: str, event: dict):
        with self.recorder.running(function):
            return self.client.lambda_.invoke(function, event).payload

    def stream(self, poller) -> None:
        """Deliver the stream's new records to response_stream, invoked as Lambda invokes it (the poller's
        batches of the template's mapping): every batch succeeds the first time."""
        stats = poller.poll_once()
        assert stats["partial_failures"] == stats["function_errors"] == 0, stats


def _path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _scheduled(at: datetime, **detail) -> dict:
    return {
        "version": "0",
        "id": f"scheduled-{at.timestamp():.0f}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def _queued_function(name: str) -> None:
    """A function the API invokes asynchronously (recompute?wait=false, a started wave), on moto (without Docker:
    an Event invocation is accepted)."""
    import boto3

    role = boto3.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return event\n")
    boto3.client("lambda").create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="handler.handler", Code={"ZipFile": code.getvalue()}
    )


def run_journey(j: Journey) -> None:
    from chalicelib.domain import tokens
    from chalicelib.store.imports import response_id_for
    from chalicelib.store.models import LoopTask, Response
    from nps_local.responses_stream import responses_poller

    now = clock.utcnow()
    month = now.strftime("%Y-%m")
    reader = responses_poller(handler=lambda event, context: j.invoke("response_stream", event))

    # Public routes (health asks whether the surveys table exists), and the authorizer refusing.
    j.ok("GET", "/v1/health")
    j.ok("GET", "/widget.js", token=None)
    assert j.http("GET", "/v1/surveys", token=None).status_code == 401
    assert j.http("GET", "/v1/surveys", token="npsa_0123456789abcdef.wrong-secret").status_code == 401

    # Tokens.
    created = j.ok("POST", "/v1/admin/tokens", {"name": "reader", "scopes": ["read"]}).json
    j.ok("GET", "/v1/admin/tokens")
    j.ok("DELETE", f"/v1/admin/tokens/{created['token_id']}", status=(200, 204))

    # Surveys.
    body = {
        "name": "Quarterly relationship",
        "drivers": ["price", "support", "product"],
        "allowed_origins": [SHOP],
        "loop_rules": {"categories": ["detractor", "promoter"], "sla_hours": 48, "fallback_owner": "cx@example.com"},
    }
    survey = j.ok("POST", "/v1/surveys", body).json
    sid = survey["survey_id"]
    other = j.ok("POST", "/v1/surveys", {"name": "Onboarding", "kind": "transactional"}).json["survey_id"]
    j.ok("GET", "/v1/surveys")
    j.ok("GET", f"/v1/surveys/{sid}")
    j.ok("PATCH", f"/v1/surveys/{other}", {"name": "Onboarding, renamed"})
    j.ok("POST", f"/v1/surveys/{other}/identity-secret")

    # Accounts, one by one and imported.
    j.ok("PUT", "/v1/accounts/acc-1", {"owner": "olive@example.com", "manager": "max@example.com", "segment": "smb"})
    j.ok("GET", "/v1/accounts/acc-1")
    csv = "account_id,name,segment,owner,manager,status,revenue:" + month + "\n"
    csv += "acc-2,Beta,enterprise,pat@example.com,,active,2000\nacc-3,Gamma,smb,,,active,50\n"
    j.ok("POST", "/v1/accounts/import", raw=csv, content_type="text/csv")
    j.ok("GET", "/v1/accounts")
    j.ok("GET", "/v1/accounts?segment=smb")

    # Invitations, their pages and answers.
    contacts = [
        {"contact_id": "con-1", "account_id": "acc-1", "email": "ana@example.com", "name": "Ana"},
        {"contact_id": "con-2", "account_id": "acc-2"},
        {"contact_id": "con-3", "account_id": "acc-3"},
    ]
    invited = j.ok("POST", f"/v1/surveys/{sid}/invitations", {"contacts": contacts}).json["invitations"]
    j.ok("POST", f"/v1/surveys/{sid}/invitations", {"contacts": contacts[:1]})  # throttled
    ana, bo, cy = invited
    link = _path_of(ana["link"])
    j.ok("GET", link, token=None)
    j.ok("HEAD", link, token=None)
    j.ok("POST", link, {"score": 2, "comment": "Support never answered", "drivers": ["support"]}, token=None)
    # One-click: a page left open without a gesture is kept pending, then settled.
    j.ok("GET", _path_of(bo["score_links"][9]), token=None)
    j.ok("POST", _path_of(bo["link"]), {"score": 9, "signal": "dwell", "view": "view-aaaaaaaa"}, token=None)
    j.ok("POST", _path_of(bo["link"]), {"score": 9, "signal": "dwell", "view": "view-bbbbbbbb"}, token=None)
    unsubscribe = _path_of(cy["unsubscribe_link"])
    j.ok("GET", unsubscribe, token=None)
    j.ok("POST", unsubscribe, token=None, status=(200, 201, 204))

    # The widget, with a signed identity.
    identity = tokens.identity_signature(survey["identity_secret"], "con-1", "acc-1")
    widget = {"score": 10, "comment": "Love it", "contact_id": "con-1", "account_id": "acc-1", "identity": identity}
    j.ok(
        "OPTIONS",
        f"/v1/surveys/{sid}/responses",
        token=None,
        headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"},
        status=(200, 204),
    )
    j.ok("POST", f"/v1/surveys/{sid}/responses", widget, token=None, headers={"Origin": SHOP})
    anonymous = {"score": 6, "comment": "Fine"}
    j.ok("POST", f"/v1/surveys/{sid}/responses", anonymous, token=None, headers={"Origin": SHOP})

    # History import.
    rows = [
        {
            "external_id": "ext-1",
            "survey_id": sid,
            "contact_id": "con-4",
            "account_id": "acc-2",
            "score": 3,
            "comment": "Too expensive",
            "channel": "phone",
            "submitted_at": (now - timedelta(days=40)).isoformat(),
        },
        {
            "external_id": "ext-2",
            "survey_id": sid,
            "contact_id": "con-5",
            "account_id": "acc-3",
            "score": 10,
            "channel": "email",
            "submitted_at": (now - timedelta(hours=2)).isoformat(),
        },
    ]
    ndjson = "\n".join(json.dumps(r) for r in rows)
    j.ok("POST", "/v1/responses/import", raw=ndjson, content_type="application/x-ndjson")

    # The stream turns answers into facts and tasks.
    j.stream(reader)

    # A changed answer: the stream follows it on the open task.
    j.ok("POST", link, {"score": 4, "comment": "Support answered, late"}, token=None)
    j.stream(reader)

    # Reading answers back.
    exported = j.ok("GET", "/v1/responses").json["responses"]
    j.ok("GET", f"/v1/responses?month={month}")
    j.ok("GET", f"/v1/responses?survey_id={sid}")
    j.ok("GET", "/v1/responses?contact_id=con-1")
    j.ok("GET", f"/v1/responses/{exported[0]['response_id']}")

    # Tasks.
    tasks = j.ok("GET", "/v1/tasks").json["tasks"]
    assert tasks, "the detractor answers opened tasks"
    j.ok("GET", "/v1/tasks?status=open")
    j.ok("GET", "/v1/tasks?owner=olive@example.com")
    j.ok("GET", "/v1/tasks?overdue=true")
    j.ok("GET", f"/v1/tasks/{tasks[0]['task_id']}")
    j.ok("PATCH", f"/v1/tasks/{tasks[0]['task_id']}", {"note": "Called back"})
    # Resolved and reopened: each move is published.
    j.ok("PATCH", f"/v1/tasks/{tasks[0]['task_id']}", {"status": "resolved", "root_cause": "support"})
    j.ok("PATCH", f"/v1/tasks/{tasks[0]['task_id']}", {"status": "open"})
    j.stream(reader)

    # The schedules: pending answers settled, an overdue task escalated, the month computed.
    settled = j.invoke("settle_pending", _scheduled(now + timedelta(minutes=5)))
    assert settled["counted"] == 1, settled
    j.stream(reader)
    # Every task overdue (set here, not by a function): one account has a manager to escalate to, the others
    # leave it to the survey's fallback owner.
    accounts = []
    for task in LoopTask.scan():
        task.update(actions=[LoopTask.due_at.set(now - timedelta(hours=1))])
        accounts.append(task.account_id)
    assert {"acc-1", "acc-2"} <= set(accounts), accounts
    swept = j.invoke("sla_sweep", _scheduled(now))
    assert swept == {"overdue": len(accounts), "escalated": len(accounts)}, swept
    j.stream(reader)
    computed = j.invoke("monthly_metrics", _scheduled(now, month=month))
    assert computed.get("status") == "computed", computed

    # Metrics through the API: computed in the call, queued for the function, read, reported, linked.
    from chalicelib.events import recompute

    def run_queued(event):  # the queued run runs at once, as the local stack runs it, and the request waits for it
        with j.recorder.running("monthly_metrics", cold=False):
            assert j.client.lambda_.invoke("monthly_metrics", event).payload["status"] == "computed"

    recompute.use_local_runner(run_queued)
    try:
        j.ok("POST", f"/v1/metrics/{month}/recompute")
    finally:
        recompute.use_local_runner(None)
    queued = j.ok("POST", f"/v1/metrics/{month}/recompute?wait=false", status=202).json
    assert queued["status"] == "started", queued
    again = j.ok("POST", f"/v1/metrics/{month}/recompute?wait=false", status=(200, 202)).json
    assert again["status"] == "running", again
    skipped = j.invoke("monthly_metrics", _scheduled(now, month=month))
    assert skipped.get("status") == "skipped", skipped
    computed = j.invoke("monthly_metrics", {**_scheduled(now, month=month), "id": queued["run_id"]})
    assert computed.get("status") == "computed", computed
    j.ok("GET", f"/v1/metrics/{month}")
    j.ok("GET", f"/v1/reports/{month}")
    report = j.ok("POST", f"/v1/reports/{month}/link").json
    j.ok("GET", _path_of(report["url"]), token=None)

    # The directory.
    j.ok("PUT", "/v1/contacts/con-1", {"account_id": "acc-1", "email": "ana@example.com", "language": "de"})
    j.ok("GET", "/v1/contacts/con-1")
    j.ok("GET", "/v1/contacts?account_id=acc-1")
    j.ok("GET", "/v1/contacts")
    rows = "contact_id,account_id,email\ncon-4,acc-2,dee@example.com\ncon-2,acc-2,bo@example.com\n"
    j.ok("POST", "/v1/contacts/import", raw=rows, content_type="text/csv")

    # Sending: the queued emails delivered to survey_sender as Lambda's SQS mapping does, one bounced back.
    import boto3

    from chalicelib import config
    from chalicelib.domain import mail_feedback
    from chalicelib.store.models import Invitation
    from nps_local.queue_poller import QueuePoller

    [dee] = j.ok("POST", f"/v1/surveys/{sid}/invitations", {"contacts": [{"contact_id": "con-4"}], "send": True}).json[
        "invitations"
    ]
    at = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    planned = {"contacts": [{"contact_id": "con-2"}], "send": True, "send_at": at}
    assert "invitation_id" in j.ok("POST", f"/v1/surveys/{other}/invitations", planned).json["invitations"][0]
    assert j.invoke("email_dispatch", _scheduled(now + timedelta(hours=2)))["queued"] == 1
    settings = config.settings()
    sqs = boto3.client("sqs", region_name=settings.region)
    sender = QueuePoller(sqs, settings.send_queue_url, lambda event, context: j.invoke("survey_sender", event))
    assert sender.poll_once() == 2 and sender.stats.failed == 0
    j.ok("GET", f"/v1/invitations/{dee['invitation_id']}")
    sent = Invitation.get(dee["invitation_id"]).first_email["message_id"]
    bounce = mail_feedback.event_for(
        "bounced",
        invitation_id=dee["invitation_id"],
        kind="invitation",
        message_id=sent,
        configuration_set=f"nps-{STAGE}",
    )
    assert j.invoke("mail_feedback", {**bounce, "id": "evt-1"})["result"] == "bounced"

    # Relationship waves: one started and run at once (as the local stack runs the queued run), read, tallied by
    # the schedule; another queued for Lambda.
    from chalicelib.events import wave_runs

    j.ok("PUT", "/v1/contacts/con-7", {"account_id": "acc-3", "email": "vi@example.com", "role": "decision_maker"})
    j.ok("PUT", "/v1/accounts/acc-4", {"status": "churned"})
    j.ok("PUT", "/v1/contacts/con-8", {"account_id": "acc-4", "email": "ol@example.com"})

    def run_wave(event):
        with j.recorder.running("survey_waves", cold=False):
            assert j.client.lambda_.invoke("survey_waves", event).payload["status"] == "done"

    wave_runs.use_local_runner(run_wave)
    try:
        wave = j.ok("POST", f"/v1/surveys/{other}/waves", {"per_account": 1}, status=202).json
    finally:
        wave_runs.use_local_runner(None)
    assert wave["invited"] >= 1 and wave["skipped"]["account_inactive"] == 1, wave
    j.ok("GET", f"/v1/surveys/{other}/waves")
    j.ok("GET", f"/v1/surveys/{other}/waves/{wave['wave_id']}")
    assert j.invoke("survey_waves", _scheduled(now + timedelta(minutes=5)))["tallied"] >= 1
    queued = j.ok("POST", f"/v1/surveys/{sid}/waves", {"roles": ["decision_maker"]}, status=202).json
    assert j.invoke("survey_waves", _scheduled(now, survey_id=sid, wave_id=queued["wave_id"]))["status"] == "done"
    # A survey's schedule starts a wave by itself; its emails, due at once, are queued; once sent, the next
    # tick tallies its answers.
    always = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "00:00"}
    scheduled = {"name": "Quarterly", "schedule": {"every_days": 90}, "send_window": always}
    quarterly = j.ok("POST", "/v1/surveys", scheduled).json["survey_id"]
    j.ok("PUT", "/v1/contacts/con-9", {"account_id": "acc-5", "email": "mo@example.com"})
    assert j.invoke("survey_waves", _scheduled(clock.utcnow()))["started"] == 1
    # At the journey's SES rate (one a second, shared by two senders) an invocation sends one or two: the rest
    # goes at the next deliveries.
    delivered = 0
    while (batch := sender.poll_once()) and delivered < 20:
        delivered += batch
    assert delivered >= 4
    assert j.invoke("survey_waves", _scheduled(now + timedelta(hours=2)))["tallied"] >= 1
    j.ok("GET", f"/v1/surveys/{quarterly}/waves")

    # Erasure, and the stream carrying it through facts and tasks.
    j.ok("DELETE", "/v1/contacts/con-1")
    j.stream(reader)

    # A response deleted from the table (by hand, by an operator): the stream removes its fact.
    Response(response_id_for("ext-1")).delete()
    j.stream(reader)


@pytest.fixture(scope="module")
def journey():
    """Run the journey once on a fresh moto account; the recorder's calls, by function."""
    import boto3
    from moto import mock_aws
    from moto.core.models import default_user_config

    with pytest.MonkeyPatch.context() as mp, mock_aws():
        from app import app
        from chalicelib import config
        from chalicelib.api import auth
        from chalicelib.store import admin_tokens, models
        from nps_local.gateway import contract_client

        mp.setitem(default_user_config["lambda"], "use_docker", False)
        secret = boto3.client("secretsmanager").create_secret(
            Name=f"nps-{STAGE}/link-signing-keys", SecretString='{"k2": "second-test-key", "k1": "first-test-key"}'
        )["ARN"]
        mp.setenv("LINK_SIGNING_SECRET", secret)
        sqs = boto3.client("sqs", region_name="us-east-1")
        mp.setenv("SEND_QUEUE_URL", sqs.create_queue(QueueName=f"nps-{STAGE}-send")["QueueUrl"])
        mp.setenv("MAIL_FROM", "Surveys <surveys@nps.example>")
        mp.setenv("SES_CONFIGURATION_SET", f"nps-{STAGE}")
        boto3.client("events", region_name="us-east-1").create_event_bus(Name=f"nps-{STAGE}-events")
        mp.setenv("EVENT_BUS_NAME", f"nps-{STAGE}-events")
        ses = boto3.client("sesv2", region_name="us-east-1")
        ses.create_email_identity(EmailIdentity="nps.example")
        ses.create_configuration_set(ConfigurationSetName=f"nps-{STAGE}")
        mp.delenv("MONTHLY_FUNCTION_NAME", raising=False)
        config.reset()
        models.bind()
        for model in models.MODELS.values():
            model.create_table(billing_mode="PAY_PER_REQUEST")
        _queued_function(config.settings().monthly_function)
        _queued_function(config.settings().waves_function)
        token, _ = admin_tokens.create("iam-journey", ["admin"])
        recorder = Recorder(inspect_code(auth.admin_auth))
        try:
            with recorder.active(), contract_client(app) as client:
                run_journey(Journey(client, recorder, token))
        finally:
            mp.undo()
            _cold_start()
            config.reset()
    return recorder


def inspect_code(authorizer):
    """The code object of the authorizer's own function (Chalice wraps it)."""
    func = getattr(authorizer, "func", authorizer)
    return func.__code__


def _allowed(statements: list[dict], action: str, resource: str) -> bool:
    return any(
        action in statement["Action"] and any(iam.matches(pattern, resource) for pattern in statement["Resource"])
        for statement in statements
    )


def _code_statements(function: str) -> list[dict]:
    return [g.statement(STAGE) for g in iam.POLICIES[function] if g.caller == iam.CODE]


def test_every_function_ran_and_called_aws(journey):
    called = {c.function for c in journey.calls}
    assert called == set(iam.FUNCTIONS)
    assert set(journey.invocations) == set(iam.FUNCTIONS) - {"admin_auth"}  # which runs inside API requests
    assert journey.invocations["api_handler"] >= 50
    assert journey.invocations["response_stream"] >= 5


def test_every_call_a_function_makes_is_allowed_by_its_policy(journey):
    refused = sorted(
        {
            f"{c.function}: {c.action} on {c.resource} ({c.operation})"
            for c in journey.calls
            if not _allowed(_code_statements(c.function), c.action, c.resource)
        }
    )
    assert refused == [], "add these to the function's policy in infra/iam.py:\n" + "\n".join(refused)


def test_every_grant_for_the_code_is_used_by_some_call(journey):
    by_function = defaultdict(set)
    for c in journey.calls:
        by_function[c.function].add((c.action, c.resource))
    unused = []
    for function in iam.FUNCTIONS:
        for grant in iam.POLICIES[function]:
            if grant.caller != iam.CODE:
                continue
            statement = grant.statement(STAGE)
            for action in statement["Action"]:
                for pattern in statement["Resource"]:
                    if not any(a == action and iam.matches(pattern, r) for a, r in by_function[function]):
                        unused.append(f"{function}: {grant.sid} {action} on {pattern}")
    assert unused == [], "no path calls these: drop them from infra/iam.py (or add the path here)\n" + "\n".join(unused)


def test_the_functions_only_call_aws_through_the_services_the_policies_know(journey):
    services = {c.action.split(":", 1)[0] for c in journey.calls}
    assert services == {"dynamodb", "events", "secretsmanager", "lambda", "ses", "sqs"}
    # What changed is published by the functions that change it; the others publish nothing.
    assert {c.function for c in journey.calls if c.action.startswith("events:")} == {
        "api_handler",
        "response_stream",
        "sla_sweep",
        "monthly_metrics",
        "mail_feedback",
    }
    assert {c.function for c in journey.calls if c.action.startswith("lambda:")} == {"api_handler"}
    # Only the API and the sender sign links; only the sender emails.
    assert {c.function for c in journey.calls if c.action.startswith("secretsmanager:")} == {
        "api_handler",
        "survey_sender",
        "survey_waves",
    }
    assert {c.function for c in journey.calls if c.action.startswith("ses:")} == {"survey_sender"}
    # The API and the dispatcher queue emails; nothing else sends to a queue itself.
    assert {c.function for c in journey.calls if c.action.startswith("sqs:")} == {
        "api_handler",
        "email_dispatch",
        "survey_waves",
    }
