"""The IAM policy of each Lambda function, written once, with the stage as a parameter.

Every function gets its own role (Chalice's per-function `iam_policy_file`). This module says what each one
may do; `infra/package.py` writes the documents to `.chalice/policy-<stage>-<function>.json` (generated, not
committed) just before `chalice package` reads them; `python infra/iam.py --stage dev` prints them, and with
`--write` writes them for Chalice run by hand.

A grant is made for one of two callers:
- CODE: the function's own code, through boto3 or PynamoDB. tests/infra/test_iam_calls.py runs every handler
  on moto, records each call, and requires both directions: every call is allowed here, and every (action,
  resource) granted here is called by some path. A grant the code stops using fails that test: delete it.
- LAMBDA: the Lambda service, acting with the function's role: its log stream, X-Ray segments of an actively
  traced function, the dead-letter queue of an asynchronously invoked one, polling the responses stream and
  sending a skipped batch to its on-failure queue. tests/infra/test_iam.py checks these against what
  infra/template.yaml configures for the function (tracing mode, DeadLetterQueue, event-source mapping).

Resources name the stage's own tables, queues, secret and functions; region and account are left as `*` (the
names already carry the stage). Index access is `table/<name>/index/*`, so renaming or adding an index of a
table needs no change here; a new table, queue or AWS call does.

To change what a function may do, edit its entry in POLICIES, then `make package` and
`.venv/bin/python -m pytest tests/infra`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

if str(Path(__file__).resolve().parents[1]) not in sys.path:  # run as a script: python infra/iam.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The stage's tables (nps-<stage>-<name>): the one list, which a test keeps equal to the models'.
from chalicelib.ops.dashboard import TABLES

APP = "nps-backend"
CODE = "code"
LAMBDA = "lambda"


@dataclass(frozen=True)
class Grant:
    """Allow `actions` on `resources` ({stage} stands for the stage's name) to `caller` (CODE or LAMBDA)."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    caller: str = CODE

    def statement(self, stage: str) -> dict:
        return {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": sorted(self.actions),
            "Resource": [r.format(stage=stage) for r in self.resources],
        }


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _table_arn(name: str) -> str:
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}")
    return "arn:aws:dynamodb:*:*:table/nps-{stage}-" + name


def table(name: str, *operations: str) -> Grant:
    """DynamoDB operations (GetItem, Query, ...) on one table itself, not its indexes."""
    return Grant(f"{_camel(name)}Table", tuple(f"dynamodb:{op}" for op in operations), (_table_arn(name),))


def indexes(*names: str) -> Grant:
    """Query on every index of these tables (the only operation the code runs on an index)."""
    return Grant("QueryIndexes", ("dynamodb:Query",), tuple(_table_arn(n) + "/index/*" for n in names))


def function_arn(function: str) -> str:
    return f"arn:aws:lambda:*:*:function:{APP}-{{stage}}-{function}"


def queue_arn(name: str) -> str:
    return "arn:aws:sqs:*:*:nps-{stage}-" + name


# Secrets Manager appends "-" and six random characters to a secret's name in its ARN.
LINK_SIGNING_SECRET = "arn:aws:secretsmanager:*:*:secret:nps-{stage}/link-signing-keys-*"
ASYNC_FAILURE_QUEUE = "async-failures"
SEND_QUEUE = "send"
STREAM_FAILURE_QUEUE = "response-stream-failures"


def own_logs(function: str) -> Grant:
    """Lambda writes the function's log stream in the log group infra/template.yaml creates (so no
    CreateLogGroup)."""
    return Grant(
        "WriteOwnLogs",
        ("logs:CreateLogStream", "logs:PutLogEvents"),
        (f"arn:aws:logs:*:*:log-group:/aws/lambda/{APP}-{{stage}}-{function}:*",),
        LAMBDA,
    )


# X-Ray has no resource-level permissions.
TRACES = Grant("SendTraces", ("xray:PutTelemetryRecords", "xray:PutTraceSegments"), ("*",), LAMBDA)
DEAD_LETTERS = Grant(
    "SendFailedInvocationsToDeadLetterQueue", ("sqs:SendMessage",), (queue_arn(ASYNC_FAILURE_QUEUE),), LAMBDA
)
READ_RESPONSES_STREAM = (
    Grant(
        "ReadResponsesStream",
        ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"),
        (_table_arn("responses") + "/stream/*",),
        LAMBDA,
    ),
    # ListStreams has no resource-level permission.
    Grant("ListStreamsHasNoResourceLevelPermission", ("dynamodb:ListStreams",), ("*",), LAMBDA),
    Grant("SendSkippedBatchesToOnFailureQueue", ("sqs:SendMessage",), (queue_arn(STREAM_FAILURE_QUEUE),), LAMBDA),
)
# Lambda polls the send queue for the sender (the queue's redrive policy, not the role, dead-letters).
READ_SEND_QUEUE = Grant(
    "ReceiveFromSendQueue",
    ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"),
    (queue_arn(SEND_QUEUE),),
    LAMBDA,
)
# The stage's event bus (infra/template.yaml EventBus): the functions that publish what changed.
PUBLISH_EVENTS = Grant("PublishEvents", ("events:PutEvents",), ("arn:aws:events:*:*:event-bus/nps-{stage}-events",))
# SES v2 SendEmail is authorised on the From identity and on the configuration set it names; with raw content
# (a whole MIME message, as the sender sends) SES checks ses:SendRawEmail as well.
SEND_EMAIL = Grant(
    "SendSurveyEmails",
    ("ses:SendEmail", "ses:SendRawEmail"),
    ("arn:aws:ses:*:*:identity/*", "arn:aws:ses:*:*:configuration-set/*"),
)


POLICIES: dict[str, tuple[Grant, ...]] = {
    # The API: every route (capture pages and widget, admin routes, imports, erasure, queuing the monthly job and
    # reading its figures; the job itself runs in monthly_metrics).
    "api_handler": (
        # DescribeTable: GET /v1/health asks whether the surveys table exists.
        table("surveys", "BatchGetItem", "DescribeTable", "GetItem", "PutItem", "Scan", "UpdateItem"),
        # UpdateItem: an emailed invitation's plan cleared once its email is queued.
        table("invitations", "BatchGetItem", "DeleteItem", "GetItem", "PutItem", "UpdateItem"),
        table("responses", "BatchGetItem", "BatchWriteItem", "GetItem", "PutItem", "Scan", "UpdateItem"),
        # ConditionCheckItem: an answer with a contact is written in a transaction that checks the person was
        # not erased.
        table("contacts", "BatchGetItem", "ConditionCheckItem", "GetItem", "Scan", "UpdateItem"),
        table("accounts", "BatchGetItem", "BatchWriteItem", "GetItem", "PutItem", "Scan"),
        table("admin_tokens", "GetItem", "PutItem", "Scan", "UpdateItem"),
        table("tasks", "GetItem", "Scan", "UpdateItem"),
        table("monthly_metrics", "BatchGetItem", "GetItem", "UpdateItem"),
        indexes("responses", "tasks", "response_facts", "contacts"),
        Grant("ReadLinkSigningKeys", ("secretsmanager:GetSecretValue",), (LINK_SIGNING_SECRET,)),
        # "send": true on invitations queues each email.
        Grant("QueueEmails", ("sqs:SendMessage",), (queue_arn(SEND_QUEUE),)),
        # POST /v1/metrics/{month}/recompute queues the monthly job.
        Grant("StartMonthlyJob", ("lambda:InvokeFunction",), (function_arn("monthly_metrics"),)),
        # POST /v1/surveys/{id}/waves stores the wave and queues its first run.
        table("waves", "GetItem", "PutItem", "Query"),
        Grant("StartWaves", ("lambda:InvokeFunction",), (function_arn("survey_waves"),)),
        # A task resolved, reopened or escalated by hand; a contact unsubscribed.
        PUBLISH_EVENTS,
        own_logs("api_handler"),
        TRACES,
    ),
    # The authorizer: one consistent read of the presented token.
    "admin_auth": (
        table("admin_tokens", "GetItem"),
        own_logs("admin_auth"),
        TRACES,
    ),
    # The responses stream: facts written and removed, tasks opened, followed and anonymised.
    "response_stream": (
        table("surveys", "GetItem"),
        table("accounts", "BatchGetItem"),
        table("tasks", "BatchGetItem", "GetItem", "PutItem", "UpdateItem"),
        table("response_facts", "DeleteItem", "PutItem"),
        PUBLISH_EVENTS,  # answers recorded and updated, tasks opened
        *READ_RESPONSES_STREAM,
        own_logs("response_stream"),
    ),
    # Hourly: overdue tasks escalated to the account's manager (or the survey's fallback owner).
    "sla_sweep": (
        table("surveys", "GetItem"),
        table("accounts", "BatchGetItem"),
        table("tasks", "UpdateItem"),
        indexes("tasks"),
        PUBLISH_EVENTS,  # tasks escalated
        DEAD_LETTERS,
        own_logs("sla_sweep"),
    ),
    # The send queue: each email claimed and recorded on its invitation, the contact read from the directory,
    # an answer looked for, the links signed, the email sent through SES.
    "survey_sender": (
        table("surveys", "GetItem"),
        table("invitations", "GetItem", "UpdateItem"),
        table("contacts", "BatchGetItem"),
        table("responses", "GetItem"),
        Grant("ReadLinkSigningKeys", ("secretsmanager:GetSecretValue",), (LINK_SIGNING_SECRET,)),
        SEND_EMAIL,
        READ_SEND_QUEUE,
        own_logs("survey_sender"),
    ),
    # Every five minutes: the planned emails that are due (a later send_at, reminders) queued, then cleared.
    "email_dispatch": (
        table("invitations", "UpdateItem"),
        indexes("invitations"),
        Grant("QueueEmails", ("sqs:SendMessage",), (queue_arn(SEND_QUEUE),)),
        DEAD_LETTERS,
        own_logs("email_dispatch"),
    ),
    # Every five minutes (and queued by the API): relationship waves started, run a day at a time, tallied. A run
    # reads the directory (no address, no name), invites through the invitation path and queues the emails.
    "survey_waves": (
        table("surveys", "GetItem", "Scan"),
        table("waves", "GetItem", "PutItem", "Query", "UpdateItem"),
        table("contacts", "BatchGetItem", "Scan", "UpdateItem"),
        table("accounts", "Scan"),
        table("invitations", "BatchGetItem", "PutItem", "UpdateItem"),
        table("responses", "BatchGetItem"),
        indexes("invitations"),
        Grant("ReadLinkSigningKeys", ("secretsmanager:GetSecretValue",), (LINK_SIGNING_SECRET,)),
        Grant("QueueEmails", ("sqs:SendMessage",), (queue_arn(SEND_QUEUE),)),
        DEAD_LETTERS,
        own_logs("survey_waves"),
    ),
    # SES bounces and complaints (EventBridge): a line in the invitation's history, the contact's status.
    "mail_feedback": (
        table("invitations", "GetItem", "UpdateItem"),
        table("contacts", "UpdateItem"),
        PUBLISH_EVENTS,  # contacts bounced or complained
        DEAD_LETTERS,
        own_logs("mail_feedback"),
    ),
    # Monthly (and queued by the API): a month's figures computed from facts, accounts, invitations, tasks.
    "monthly_metrics": (
        table("surveys", "Scan"),
        table("invitations", "BatchGetItem"),  # whether each emailed invitation was sent (the response rate)
        table("responses", "BatchGetItem"),
        table("accounts", "Scan"),
        table("monthly_metrics", "GetItem", "UpdateItem"),
        indexes("invitations", "tasks", "response_facts"),
        PUBLISH_EVENTS,  # months computed, accounts' health changed
        DEAD_LETTERS,
        own_logs("monthly_metrics"),
    ),
    # Every minute: pending one-click answers found by their index, read consistently, settled.
    "settle_pending": (
        table("responses", "BatchGetItem", "UpdateItem"),
        indexes("responses"),
        DEAD_LETTERS,
        own_logs("settle_pending"),
    ),
}
FUNCTIONS = tuple(POLICIES)


def policy(function: str, stage: str) -> dict:
    """The IAM policy document of `function` in `stage`."""
    grants = POLICIES[function]
    sids = [g.sid for g in grants]
    if len(set(sids)) != len(sids):
        raise ValueError(f"{function}: statement ids repeat: {sids}")
    return {"Version": "2012-10-17", "Statement": [g.statement(stage) for g in grants]}


def policy_file(function: str, stage: str) -> str:
    """The file name, in .chalice/, that .chalice/config.json gives `function` in `stage`."""
    return f"policy-{stage}-{function}.json"


def matches(pattern: str, arn: str) -> bool:
    """Whether an IAM resource pattern covers `arn` ("*" any run of characters, "?" any one, case-sensitive)."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, arn, re.DOTALL) is not None


def render(document: dict) -> str:
    return json.dumps(document, indent=2) + "\n"


def write(stage: str, directory: Path) -> list[Path]:
    """Write every function's policy for `stage` into `directory`; each file is replaced whole, at once."""
    written = []
    for function in FUNCTIONS:
        path = Path(directory) / policy_file(function, stage)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(render(policy(function, stage)))
        tmp.replace(path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print (or write to .chalice/) every function's IAM policy for a stage."
    )
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--write", action="store_true", help="write .chalice/policy-<stage>-<function>.json instead")
    args = parser.parse_args(argv)
    if args.write:
        for path in write(args.stage, Path(__file__).resolve().parents[1] / ".chalice"):
            print(path)
        return 0
    sys.stdout.write(render({f: policy(f, args.stage) for f in FUNCTIONS}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
