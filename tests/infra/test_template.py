"""The deployable template and package (`make package`), checked as AWS would see them: dist/sam.json built once
per session by infra/package.py into a temporary directory, and the IAM policies generated from infra/iam.py."""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from infra import deploy as deploying
from infra import iam

ROOT = Path(__file__).resolve().parents[2]
STAGE = "prod"  # what `make deploy` ships; the dev merge template is checked separately below

PUBLIC_ROUTES = {
    "/s/{token}",
    "/u/{token}",
    "/r/{token}",
    "/v1/surveys/{survey_id}/responses",
    "/widget.js",
    "/v1/health",
    "/openapi.json",
    "/v1/surveys/{survey_id}/widget-strings",
}
# Chalice's function names by logical id (FunctionName nps-backend-<stage>-<name>).
CHALICE_NAMES = {
    "APIHandler": "api_handler",
    "AdminAuth": "admin_auth",
    "ResponseStream": "response_stream",
    "SlaSweep": "sla_sweep",
    "MonthlyMetrics": "monthly_metrics",
    "SettlePending": "settle_pending",
    "SurveySender": "survey_sender",
    "MailFeedback": "mail_feedback",
    "EmailDispatch": "email_dispatch",
    "SurveyWaves": "survey_waves",
}
# Invoked asynchronously (schedules; the monthly job also by recompute?wait=false): each needs somewhere for an
# event that still fails after Lambda's retries.
ASYNC_FUNCTIONS = {"SlaSweep", "MonthlyMetrics", "SettlePending", "MailFeedback", "EmailDispatch", "SurveyWaves"}

# What AWS publishes, with the exact dimension set the dashboard and alarms may use.
AWS_METRICS = {
    "AWS/Lambda": {
        name: frozenset({"FunctionName"})
        for name in ("Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions", "IteratorAge")
    },
    "AWS/DynamoDB": {
        "ThrottledRequests": frozenset({"TableName", "Operation"}),
        "ReadThrottleEvents": frozenset({"TableName"}),
        "WriteThrottleEvents": frozenset({"TableName"}),
        "SuccessfulRequestLatency": frozenset({"TableName", "Operation"}),
    },
    "AWS/SQS": {
        name: frozenset({"QueueName"})
        for name in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "NumberOfMessagesSent")
    },
    "AWS/ApiGateway": {
        name: frozenset({"ApiName", "Stage"})
        for name in ("Count", "4XXError", "5XXError", "Latency", "IntegrationLatency")
    },
}
DYNAMODB_OPERATIONS = {
    "GetItem",
    "BatchGetItem",
    "Query",
    "Scan",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
    "GetRecords",
}
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


def _load_packaging():
    spec = importlib.util.spec_from_file_location("nps_infra_package", ROOT / "infra" / "package.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


packaging = _load_packaging()


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    """One package per test session, shared by xdist workers (chalice's build cache allows one build at once)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    out = base / f"nps-package-{STAGE}"
    with open(base / "nps-package.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "package-report.json").exists():
            packaging.package(STAGE, out, run_lint=False)  # linted by its own test, below
    return out


@pytest.fixture(scope="session")
def sam(dist) -> dict:
    return json.loads((dist / "sam.json").read_text())


@pytest.fixture(scope="session")
def resolver(sam):
    from nps_local.template import Resolver

    return Resolver(sam, stage=STAGE, table_prefix=f"nps-{STAGE}-", region="us-east-1")


def resources_of(sam: dict, kind: str) -> dict:
    return {name: r for name, r in sam["Resources"].items() if r.get("Type") == kind}


def functions_of(sam: dict) -> dict:
    return resources_of(sam, "AWS::Serverless::Function")


# --- lint -------------------------------------------------------------------------------------------------------


def test_cfn_lint_with_informational_checks_reports_nothing(dist):
    done = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--include-checks", "I", "--", str(dist / "sam.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.stdout + done.stderr).strip() == ""
    assert done.returncode == 0


# --- checkov ----------------------------------------------------------------------------------------------------

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
# What may be skipped, and where: each skip carries its reason in the template (Metadata.checkov.skip).
ALLOWED_SKIPS = {
    "CKV_AWS_119": "AWS::DynamoDB::Table",  # customer managed KMS key per table
    "CKV_AWS_158": "AWS::Logs::LogGroup",  # customer managed KMS key per log group
    "CKV_AWS_117": "AWS::Serverless::Function",  # a VPC
    "CKV_AWS_173": "AWS::Serverless::Function",  # customer key for the environment
    "CKV_AWS_115": "AWS::Serverless::Function",  # reserved concurrency
    "CKV_AWS_116": "AWS::Serverless::Function",  # a DLQ, on the synchronously invoked functions only
    "CKV_AWS_27": "AWS::SQS::Queue",  # SSE-SQS, which the check does not recognise
    "CKV_AWS_120": "AWS::Serverless::Api",  # response caching
    "CKV_AWS_149": "AWS::SecretsManager::Secret",  # customer managed KMS key for the secret
}


def test_checkov_is_the_pinned_version():
    pinned = re.search(r"^CHECKOV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1)
    assert CHECKOV.exists(), "checkov is installed by `make test` (make .venv-checkov/.installed-<version>)"
    done = subprocess.run([str(CHECKOV), "--version"], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == pinned


def test_checkov_reports_no_failed_check_on_the_packaged_template(dist):
    found = packaging.checkov_findings(dist / "sam.json", CHECKOV)
    assert found["failures"] == [] and found["failed"] == 0
    assert found["passed"] >= 90  # it really checked the template
    assert found["skipped"], "no skip was honoured: checkov did not read the template's Metadata"


def test_every_checkov_skip_is_allowed_and_gives_its_reason(sam):
    skips = []
    for name, resource in sam["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            skips.append((name, resource.get("Type"), skip["id"], skip.get("comment", "")))
    assert skips
    for name, kind, check, comment in skips:
        assert ALLOWED_SKIPS.get(check) == kind, f"{name} skips {check}"
        assert len(comment.split()) >= 8, f"{name} skips {check} without a reason a reviewer can weigh"
        if check == "CKV_AWS_116":
            assert name not in ASYNC_FUNCTIONS, f"{name} is invoked asynchronously: it needs its DLQ"


# --- API ----------------------------------------------------------------------------------------------------------


def _operations(sam):
    body = sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    for path, methods in body["paths"].items():
        for method, spec in methods.items():
            if not method.startswith("x-"):
                yield path, method, spec


def test_every_admin_route_has_the_authorizer(sam):
    body = sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    authorizer = body["securityDefinitions"]["admin_auth"]["x-amazon-apigateway-authorizer"]
    assert "${AdminAuth.Arn}" in authorizer["authorizerUri"]["Fn::Sub"]
    assert authorizer["authorizerResultTtlInSeconds"] == 0  # revocation takes effect at once
    admin = [(p, m, s) for p, m, s in _operations(sam) if p not in PUBLIC_ROUTES and m != "options"]
    assert admin, "no admin routes in the API definition"
    unprotected = [f"{m.upper()} {p}" for p, m, s in admin if s.get("security") != [{"admin_auth": []}]]
    assert unprotected == []


def test_public_routes_need_no_token(sam):
    public = [(p, m, s) for p, m, s in _operations(sam) if p in PUBLIC_ROUTES or m == "options"]
    assert {p for p, _, _ in public} >= PUBLIC_ROUTES
    assert [f"{m.upper()} {p}" for p, m, s in public if s.get("security")] == []


def test_gateway_errors_speak_the_error_contract(sam):
    responses = sam["Resources"]["RestAPI"]["Properties"]["GatewayResponses"]
    expected = {
        "UNAUTHORIZED": ("401", "unauthorized"),
        "ACCESS_DENIED": ("401", "unauthorized"),
        "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found"),
        "THROTTLED": ("429", "throttled"),
        "REQUEST_TOO_LARGE": ("413", "too_large"),
        "DEFAULT_4XX": (None, None),
        "DEFAULT_5XX": (None, None),
    }
    for kind, (status, code) in expected.items():
        response = responses[kind]
        assert response.get("StatusCode") == status, kind
        template = response["ResponseTemplates"]["application/json"]
        body = json.loads(template.replace("$context.error.messageString", '"a message"'))
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, kind
        assert body["error"]["fields"] == {}
        assert re.fullmatch(r"[a-z_]+", body["error"]["code"]), kind
        if code:
            assert body["error"]["code"] == code, kind


def test_the_stage_throttles_every_route_with_rate_and_burst_from_parameters(sam):
    api = sam["Resources"]["RestAPI"]["Properties"]
    (setting,) = api["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurstLimit"}
    params = sam["Parameters"]
    assert params["ApiThrottleRateLimit"]["Type"] == params["ApiThrottleBurstLimit"]["Type"] == "Number"
    assert 0 < params["ApiThrottleRateLimit"]["Default"] <= params["ApiThrottleBurstLimit"]["Default"]
    assert deploying.PARAMETERS["ApiThrottleRateLimit"] == "API_THROTTLE_RATE_LIMIT"
    assert deploying.PARAMETERS["ApiThrottleBurstLimit"] == "API_THROTTLE_BURST_LIMIT"
    # Beyond the limits API Gateway answers itself: in the contract's error shape (checked above).
    assert api["GatewayResponses"]["THROTTLED"]["StatusCode"] == "429"


def test_the_stage_writes_access_logs_without_paths_or_addresses_and_traces(sam, resolver):
    api = sam["Resources"]["RestAPI"]["Properties"]
    assert api["TracingEnabled"] is True
    access = api["AccessLogSetting"]
    assert access["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(access["Format"])
    assert fields["requestId"] == "$context.requestId" and fields["route"] == "$context.resourcePath"
    assert fields["status"] == "$context.status" and fields["error"] == "$context.error.responseType"
    shown = " ".join(fields.values())
    for secret_or_personal in (
        "$context.path",
        "$context.identity.sourceIp",
        "$context.identity.userAgent",
        "$context.authorizer.principalId",
        "$input",
    ):
        assert secret_or_personal not in shown  # paths carry signed link tokens
    group = sam["Resources"]["ApiAccessLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert resolver.resolve(group["LogGroupName"]) == f"/aws/apigateway/nps-backend-{STAGE}-access"


def test_api_gateway_gets_its_account_logs_role_only_when_asked_and_keeps_it(sam):
    param = sam["Parameters"]["ApiGatewayLogs"]
    assert param["AllowedValues"] == ["create", "existing"] and param["Default"] == "create"
    assert sam["Conditions"]["CreateApiGatewayLogsRole"] == {"Fn::Equals": [{"Ref": "ApiGatewayLogs"}, "create"]}
    role, account = sam["Resources"]["ApiGatewayLogsRole"], sam["Resources"]["ApiGatewayAccount"]
    for resource in (role, account):
        assert resource["Condition"] == "CreateApiGatewayLogsRole"
        assert resource["DeletionPolicy"] == "Retain"  # the account setting outlives the stack
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayLogsRole", "Arn"]}
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}
    ]
    # The stage can enable access logs only after the account names a role: its log group waits for it.
    tags = sam["Resources"]["ApiAccessLogGroup"]["Properties"]["Tags"]
    assert {"Fn::If": ["CreateApiGatewayLogsRole", {"Ref": "ApiGatewayAccount"}, "existing"]} in [
        t["Value"] for t in tags
    ]


# --- stream -----------------------------------------------------------------------------------------------------


def test_stream_event_source_reports_item_failures_bisects_and_bounds_retries(sam, resolver):
    mappings = resources_of(sam, "AWS::Lambda::EventSourceMapping")
    assert set(mappings) == {"ResponseStreamEventSource", "SendQueueEventSource"}
    props = mappings["ResponseStreamEventSource"]["Properties"]
    assert props["FunctionName"] == {"Ref": "ResponseStream"}
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["ResponsesTable", "StreamArn"]}
    assert functions_of(sam)["ResponseStream"]["Properties"]["Handler"] == "chalicelib.events.stream.response_stream"
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 <= props["MaximumRetryAttempts"] <= 10
    assert 60 <= props["MaximumRecordAgeInSeconds"] < 86400  # skipped records can still be re-read
    assert props["BatchSize"] == 100
    assert props["StartingPosition"] == "TRIM_HORIZON"
    destination = props["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["ResponseStreamFailureQueue", "Arn"]}
    queue = sam["Resources"]["ResponseStreamFailureQueue"]["Properties"]
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["SqsManagedSseEnabled"] is True
    assert resolver.queue_name("ResponseStreamFailureQueue") == f"nps-{STAGE}-response-stream-failures"
    stream = sam["Resources"]["ResponsesTable"]["Properties"]["StreamSpecification"]
    assert stream == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_the_send_queue_feeds_the_sender_in_batches_and_dead_letters_after_five_deliveries(sam, resolver):
    from chalicelib.events import sender

    props = resources_of(sam, "AWS::Lambda::EventSourceMapping")["SendQueueEventSource"]["Properties"]
    assert props["FunctionName"] == {"Ref": "SurveySender"}
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["SendQueue", "Arn"]}
    assert functions_of(sam)["SurveySender"]["Properties"]["Handler"] == "chalicelib.events.sender.survey_sender"
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and props["BatchSize"] == 10
    assert props["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "SenderConcurrency"}}
    queue = sam["Resources"]["SendQueue"]["Properties"]
    timeout = functions_of(sam)["SurveySender"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout  # a message a sender holds never turns visible again
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["SendDeadLetterQueue", "Arn"]},
        "maxReceiveCount": sender.MAX_RECEIVES,  # the code records `failed` on this delivery
    }
    assert queue["SqsManagedSseEnabled"] is True
    assert resolver.queue_name("SendQueue") == f"nps-{STAGE}-send"
    env = functions_of(sam)["SurveySender"]["Properties"]["Environment"]["Variables"]
    assert env["SES_SEND_RATE"] == {"Ref": "SesSendRate"} and env["SENDER_CONCURRENCY"] == {"Ref": "SenderConcurrency"}
    assert env["MAIL_FROM"] == {"Ref": "MailFrom"}
    api_env = functions_of(sam)["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert api_env["SEND_QUEUE_URL"] == {"Ref": "SendQueue"}


def test_local_stack_reads_the_same_stream_settings():
    """The local poller takes its semantics from infra/template.yaml: it must find the mapping there."""
    from nps_local import template as cfn

    doc = cfn.load(ROOT / "infra" / "template.yaml")
    resolver = cfn.Resolver(doc, stage="dev", table_prefix="nps-dev-", region="us-east-1")
    (mapping,) = cfn.stream_mappings(doc, resolver)  # the send queue's mapping is not a stream's
    assert mapping.table_logical_id == "ResponsesTable"
    assert mapping.report_item_failures and mapping.bisect_on_error
    assert mapping.max_retries == 5 and mapping.batch_size == 100
    assert mapping.starting_position == "TRIM_HORIZON"
    assert mapping.on_failure_queue == "ResponseStreamFailureQueue"
    assert {q.queue_name for q in cfn.queues(doc, resolver)} == {
        "nps-dev-response-stream-failures",
        "nps-dev-async-failures",
        "nps-dev-send",
        "nps-dev-send-dead-letters",
    }


def test_asynchronous_functions_keep_failed_events_and_may_send_them(sam, resolver):
    queue = sam["Resources"]["AsyncFailureQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    queue_name = resolver.queue_name("AsyncFailureQueue")
    assert queue_name == f"nps-{STAGE}-async-failures"
    for logical, function in functions_of(sam).items():
        props = function["Properties"]
        if logical not in ASYNC_FUNCTIONS:
            assert "DeadLetterQueue" not in props, logical  # only asynchronous invocations reach one
            continue
        assert props["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["AsyncFailureQueue", "Arn"]}}
        document = _role_policy(sam, logical)
        sends = [r for st in _statements(document) if "sqs:SendMessage" in st["Action"] for r in st["Resource"]]
        # their own work: emails queued
        queued = [f"arn:aws:sqs:*:*:nps-{STAGE}-send"] if logical in ("EmailDispatch", "SurveyWaves") else []
        assert sorted(sends) == sorted([f"arn:aws:sqs:*:*:{queue_name}", *queued]), logical
    assert all(
        "Schedule" in {e["Type"] for e in functions_of(sam)[f]["Properties"]["Events"].values()}
        for f in ASYNC_FUNCTIONS - {"MailFeedback"}
    )
    # mail_feedback is EventBridge's: its rule retries on its own, then dead-letters to the same queue.
    (target,) = sam["Resources"]["MailFeedbackRule"]["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["MailFeedback", "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["AsyncFailureQueue", "Arn"]}}
    pattern = sam["Resources"]["MailFeedbackRule"]["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.ses"] and set(pattern["detail-type"]) == {"Email Bounced", "Email Complained"}
    sender_env = functions_of(sam)["SurveySender"]["Properties"]["Environment"]["Variables"]
    assert sender_env["SES_CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}
    destination = sam["Resources"]["MailFeedbackDestination"]["Properties"]["EventDestination"]
    assert set(destination["MatchingEventTypes"]) == {"bounce", "complaint"} and "EventBridgeDestination" in destination
    settle = functions_of(sam)["SettlePending"]["Properties"]["EventInvokeConfig"]
    assert settle["MaximumRetryAttempts"] == 0  # the next minute's run settles the same answers


def test_the_functions_that_may_publish_name_the_stages_bus_and_only_they(sam, resolver):
    """The bus is the stage's; a function has EVENT_BUS_NAME exactly when its policy may PutEvents on that bus (a
    function with the name but no grant would fail, one with the grant but no name would publish nothing)."""
    (logical,) = resources_of(sam, "AWS::Events::EventBus")
    assert resolver.resolve(sam["Resources"][logical]["Properties"]["Name"]) == f"nps-{STAGE}-events"
    named, granted = set(), set()
    for function_logical, name in CHALICE_NAMES.items():
        if _function_env(sam, function_logical).get("EVENT_BUS_NAME") is not None:
            assert _function_env(sam, function_logical)["EVENT_BUS_NAME"] == {"Ref": logical}
            named.add(name)
        if any("events:PutEvents" in st["Action"] for st in _statements(iam.policy(name, STAGE))):
            granted.add(name)
    assert named == granted == {"api_handler", "response_stream", "sla_sweep", "monthly_metrics", "mail_feedback"}
    # A sweep retried after its events were refused publishes them again: only within the sweep's window.
    from chalicelib.events.sweep import REPUBLISH_MINUTES

    sweep = functions_of(sam)["SlaSweep"]["Properties"]["EventInvokeConfig"]
    assert sweep["MaximumEventAgeInSeconds"] < REPUBLISH_MINUTES * 60 < 3600 - 300  # the next run, an hour later


def test_the_settle_job_reaches_only_the_responses_table_and_its_indexes():
    for stage in ("dev", "prod"):
        document = iam.policy("settle_pending", stage)
        grants = {(a, r) for st in _statements(document) for a in st["Action"] for r in st["Resource"]}
        assert grants == {
            # by_pending; any index of the table, so that renaming one needs no policy change
            ("dynamodb:Query", f"arn:aws:dynamodb:*:*:table/nps-{stage}-responses/index/*"),
            # read_consistent: BatchGetItem with consistent reads (the index lags the table)
            ("dynamodb:BatchGetItem", f"arn:aws:dynamodb:*:*:table/nps-{stage}-responses"),
            ("dynamodb:UpdateItem", f"arn:aws:dynamodb:*:*:table/nps-{stage}-responses"),
            ("sqs:SendMessage", f"arn:aws:sqs:*:*:nps-{stage}-async-failures"),
            ("logs:CreateLogStream", f"arn:aws:logs:*:*:log-group:/aws/lambda/nps-backend-{stage}-settle_pending:*"),
            ("logs:PutLogEvents", f"arn:aws:logs:*:*:log-group:/aws/lambda/nps-backend-{stage}-settle_pending:*"),
        }


def test_the_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(sam):
    topic = sam["Resources"]["AlarmTopic"]["Properties"]
    # Not alias/aws/sns: CloudWatch alarms cannot publish to a topic under the AWS managed key.
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key = sam["Resources"]["AlarmTopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    statements = key["KeyPolicy"]["Statement"]
    (cloudwatch,) = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert all(s["Principal"] != "*" and s["Principal"] != {"AWS": "*"} for s in statements)


# --- IAM --------------------------------------------------------------------------------------------------------


def _statements(document: dict):
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else statements


def _template_policies(sam: dict):
    for name, resource in sam["Resources"].items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                yield f"{name}/{policy['PolicyName']}", policy["PolicyDocument"]
        elif resource.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield name, props["PolicyDocument"]
        elif resource.get("Type") == "AWS::Serverless::Function":
            for policy in props.get("Policies", []) or []:
                if isinstance(policy, dict) and "Statement" in policy:
                    yield f"{name}/Policies", policy


def _role_policy(sam: dict, logical: str) -> dict:
    """The one policy document of a function's role, as packaged."""
    role = sam["Resources"][functions_of(sam)[logical]["Properties"]["Role"]["Fn::GetAtt"][0]]
    (policy,) = role["Properties"]["Policies"]
    return policy["PolicyDocument"]


def _generated_policies():
    """Every function's policy for both stages, as infra/iam.py generates them."""
    for stage in ("dev", "prod"):
        for function in iam.FUNCTIONS:
            yield iam.policy_file(function, stage), iam.policy(function, stage)


def test_no_iam_statement_grants_wildcard_actions(sam):
    documents = [*_template_policies(sam), *_generated_policies()]
    assert len(documents) >= 5
    bad = []
    for where, document in documents:
        for statement in _statements(document):
            assert "NotAction" not in statement, where
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            bad += [f"{where}: {a}" for a in actions if "*" in a]
    assert bad == []


def test_each_function_runs_with_its_stage_policy(sam):
    """Each function's role holds exactly what infra/iam.py generates for it and this stage, and no two functions
    share a role."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["autogen_policy"] is False
    assert "iam_policy_file" not in config  # no shared fallback: a function without its own policy fails to package
    assert set(functions_of(sam)) == set(CHALICE_NAMES)
    assert set(iam.FUNCTIONS) == set(CHALICE_NAMES.values())
    roles = set()
    for logical, function in functions_of(sam).items():
        name = CHALICE_NAMES[logical]
        policy_file = config["stages"][STAGE]["lambda_functions"][name]["iam_policy_file"]
        assert policy_file == iam.policy_file(name, STAGE)
        assert _role_policy(sam, logical) == iam.policy(name, STAGE), logical
        roles.add(function["Properties"]["Role"]["Fn::GetAtt"][0])
    assert len(roles) == len(CHALICE_NAMES)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stage_policies_reach_only_that_stage(stage):
    other = {"dev": "prod", "prod": "dev"}[stage]
    for function in iam.FUNCTIONS:
        path = Path(iam.policy_file(function, stage))  # named for the messages
        for statement in _statements(iam.policy(function, stage)):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                assert other not in resource, f"{path.name}: {resource}"
                if resource == "*":  # only for actions without resource-level permissions
                    assert set(statement["Action"]) <= {
                        "xray:PutTraceSegments",
                        "xray:PutTelemetryRecords",
                        "dynamodb:ListStreams",
                    }, path.name
                elif ":dynamodb:" in resource:
                    assert f":table/nps-{stage}-" in resource, f"{path.name}: {resource}"
                elif ":logs:" in resource:
                    assert f"/aws/lambda/nps-backend-{stage}-" in resource, f"{path.name}: {resource}"
                elif ":sqs:" in resource:
                    assert resource.endswith(
                        (f":nps-{stage}-response-stream-failures", f":nps-{stage}-async-failures", f":nps-{stage}-send")
                    ), f"{path.name}: {resource}"
                elif ":ses:" in resource:  # only the sender emails
                    assert function == "survey_sender", path.name
                    assert statement["Action"] == ["ses:SendEmail", "ses:SendRawEmail"], path.name
                elif ":secretsmanager:" in resource:  # only the API, the sender and waves sign or verify links
                    assert function in ("api_handler", "survey_sender", "survey_waves"), path.name
                    assert statement["Action"] == ["secretsmanager:GetSecretValue"], path.name
                    assert resource == f"arn:aws:secretsmanager:*:*:secret:nps-{stage}/link-signing-keys-*"
                elif ":events:" in resource:  # the stage's own bus, to publish on
                    assert statement["Action"] == ["events:PutEvents"], path.name
                    assert resource == f"arn:aws:events:*:*:event-bus/nps-{stage}-events", path.name
                elif ":lambda:" in resource:  # the API starts the monthly job and a wave's first run, nothing else
                    assert function == "api_handler", path.name
                    assert statement["Action"] == ["lambda:InvokeFunction"], path.name
                    assert resource in (
                        f"arn:aws:lambda:*:*:function:nps-backend-{stage}-monthly_metrics",
                        f"arn:aws:lambda:*:*:function:nps-backend-{stage}-survey_waves",
                    )
                else:
                    pytest.fail(f"{path.name}: unexpected resource {resource}")


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_api_may_start_exactly_the_functions_it_names(stage, sam, monkeypatch):
    """recompute?wait=false invokes the monthly function, a started wave the waves function: the API policy must
    allow that one call on those two functions, under the names the template gives them and the code uses."""
    from chalicelib import config

    grants = [
        s for s in _statements(iam.policy("api_handler", stage)) if any(a.startswith("lambda:") for a in s["Action"])
    ]
    assert all((g["Effect"], g["Action"]) == ("Allow", ["lambda:InvokeFunction"]) for g in grants)
    monkeypatch.setenv("NPS_STAGE", stage)
    monkeypatch.delenv("MONTHLY_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("WAVES_FUNCTION_NAME", raising=False)
    config.reset()
    try:
        names = {config.settings().monthly_function, config.settings().waves_function}
    finally:
        monkeypatch.undo()
        config.reset()
    assert sorted(r for g in grants for r in g["Resource"]) == sorted(f"arn:aws:lambda:*:*:function:{n}" for n in names)
    deployed = {
        sam["Resources"][logical]["Properties"]["FunctionName"]["Fn::Sub"].replace("${Stage}", stage)
        for logical in ("MonthlyMetrics", "SurveyWaves")
    }
    assert deployed == names
    for other in set(iam.FUNCTIONS) - {"api_handler"}:
        document = iam.policy(other, stage)
        assert not any(a.startswith("lambda:") for s in _statements(document) for a in s["Action"]), other


def test_what_lambda_does_with_each_role_is_granted_as_the_template_configures_the_function(sam, resolver):
    """The grants for the Lambda service itself (iam.LAMBDA) follow the function's configuration here: its own
    log group; X-Ray only when tracing is Active; the dead-letter queue it is given; the stream and on-failure
    queue of its event-source mapping. Nothing else is granted to the service."""
    log_groups = {
        resolver.resolve(r["Properties"]["LogGroupName"]) for r in resources_of(sam, "AWS::Logs::LogGroup").values()
    }
    mappings = {
        m["Properties"]["FunctionName"]["Ref"]: m["Properties"]
        for m in resources_of(sam, "AWS::Lambda::EventSourceMapping").values()
    }
    tables = {
        name: resolver.resolve(t["Properties"]["TableName"])
        for name, t in resources_of(sam, "AWS::DynamoDB::Table").items()
    }
    for logical, function in functions_of(sam).items():
        props = function["Properties"]
        name = CHALICE_NAMES[logical]
        expected = {}
        group = f"/aws/lambda/{resolver.resolve(props['FunctionName'])}"
        assert group in log_groups, logical
        expected["WriteOwnLogs"] = (
            {"logs:CreateLogStream", "logs:PutLogEvents"},
            [f"arn:aws:logs:*:*:log-group:{group}:*"],
        )
        if props["Tracing"] == "Active":
            expected["SendTraces"] = ({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, ["*"])
        if "DeadLetterQueue" in props:
            queue = resolver.queue_name(props["DeadLetterQueue"]["TargetArn"]["Fn::GetAtt"][0])
            expected["SendFailedInvocationsToDeadLetterQueue"] = ({"sqs:SendMessage"}, [f"arn:aws:sqs:*:*:{queue}"])
        if logical == "SurveySender":
            queue = resolver.queue_name(mappings[logical]["EventSourceArn"]["Fn::GetAtt"][0])
            expected["ReceiveFromSendQueue"] = (
                {"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"},
                [f"arn:aws:sqs:*:*:{queue}"],
            )
        elif logical in mappings:
            mapping = mappings[logical]
            table = tables[mapping["EventSourceArn"]["Fn::GetAtt"][0]]
            expected["ReadResponsesStream"] = (
                {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
                [f"arn:aws:dynamodb:*:*:table/{table}/stream/*"],
            )
            expected["ListStreamsHasNoResourceLevelPermission"] = ({"dynamodb:ListStreams"}, ["*"])
            queue = resolver.queue_name(mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0])
            expected["SendSkippedBatchesToOnFailureQueue"] = ({"sqs:SendMessage"}, [f"arn:aws:sqs:*:*:{queue}"])
        granted = {
            g.sid: (set(g.actions), g.statement(STAGE)["Resource"])
            for g in iam.POLICIES[name]
            if g.caller == iam.LAMBDA
        }
        assert granted == expected, logical


def test_policies_cover_the_dynamodb_calls_the_code_makes():
    """Policies grant PynamoDB's item, batch and query calls. Transactions are authorised per item, with
    ConditionCheckItem for condition checks, and Model.describe_table (Model.exists) needs DescribeTable: add
    them when used. (tests/infra/test_iam_calls.py checks every call the functions make, in both directions.)"""
    code = "\n".join(p.read_text() for p in (ROOT / "chalicelib").rglob("*.py"))
    for stage in ("dev", "prod"):
        actions = {a for s in _statements(iam.policy("api_handler", stage)) for a in s["Action"]}
        assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"} <= actions
        if "TransactWrite" in code:
            assert "dynamodb:ConditionCheckItem" in actions, stage
        if ".describe_table(" in code or ".exists()" in code:
            assert "dynamodb:DescribeTable" in actions, stage


# --- functions --------------------------------------------------------------------------------------------------


def test_each_function_has_log_retention_and_a_chosen_tracing_mode(sam, dist, resolver):
    merge = json.loads((dist / "merge.json").read_text())
    log_groups = {
        resolver.resolve(r["Properties"]["LogGroupName"]): r for r in resources_of(sam, "AWS::Logs::LogGroup").values()
    }
    for logical, function in functions_of(sam).items():
        props = function["Properties"]
        name = resolver.resolve(props["FunctionName"])
        group = log_groups[f"/aws/lambda/{name}"]
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        # Set in infra/template.yaml on purpose, not left to Chalice's default.
        assert merge["Resources"][logical]["Properties"]["Tracing"] in ("Active", "PassThrough")
        assert props["Tracing"] == merge["Resources"][logical]["Properties"]["Tracing"]
    assert functions_of(sam)["APIHandler"]["Properties"]["Tracing"] == "Active"
    assert set(CHALICE_NAMES) == set(functions_of(sam))  # every function, the settle job included
    assert functions_of(sam)["ResponseStream"]["Properties"]["Tracing"] == "PassThrough"


def _function_env(sam: dict, logical: str) -> dict:
    """A function's environment as SAM deploys it: Globals, then the function's own variables."""
    merged = dict(sam.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    merged.update(functions_of(sam)[logical]["Properties"].get("Environment", {}).get("Variables", {}))
    return merged


def test_link_keys_live_in_secrets_manager_not_in_the_environment(sam):
    params = sam["Parameters"]
    assert params["LinkSigningKeys"]["NoEcho"] is True
    secret = sam["Resources"]["LinkSigningSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    props = secret["Properties"]
    assert props["Name"] == {"Fn::Sub": "nps-${Stage}/link-signing-keys"}
    # From the NoEcho parameter when given, else generated once as {"k1": "<random>"}.
    assert props["SecretString"] == {
        "Fn::If": ["HasLinkSigningKeys", {"Ref": "LinkSigningKeys"}, {"Ref": "AWS::NoValue"}]
    }
    generated = props["GenerateSecretString"]["Fn::If"][2]
    assert generated["GenerateStringKey"] == "k1" and generated["PasswordLength"] >= 32
    assert re.fullmatch(params["LinkSigningKeys"]["AllowedPattern"], "")
    assert re.fullmatch(params["LinkSigningKeys"]["AllowedPattern"], "k2:" + "x" * 16 + ",k1:" + "y" * 16)
    for logical in functions_of(sam):
        env = _function_env(sam, logical)
        assert env["LINK_SIGNING_SECRET"] == {"Ref": "LinkSigningSecret"}, logical  # none starts without it
        assert "LINK_SIGNING_KEYS" not in env, logical
        assert not [v for v in env.values() if v == {"Ref": "LinkSigningKeys"}], logical
        assert env["TABLE_PREFIX"] == f"nps-{STAGE}-" and env["NPS_STAGE"] == STAGE, logical
    assert _function_env(sam, "APIHandler")["PUBLIC_BASE_URL"] == {"Ref": "PublicBaseUrl"}
    assert params["Stage"]["AllowedValues"] == [STAGE]


def test_only_the_api_and_the_sender_may_read_the_link_signing_secret(sam):
    readers = {}
    for logical, function in functions_of(sam).items():
        role = sam["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
        (policy,) = role["Properties"]["Policies"]
        grants = [
            r
            for st in _statements(policy["PolicyDocument"])
            if any(a.startswith("secretsmanager:") for a in st["Action"])
            for r in st["Resource"]
        ]
        if grants:
            readers[logical] = grants
    name = sam["Resources"]["LinkSigningSecret"]["Properties"]["Name"]["Fn::Sub"].replace("${Stage}", STAGE)
    # Secrets Manager appends "-" and six random characters to the name in the ARN.
    grant = [f"arn:aws:secretsmanager:*:*:secret:{name}-*"]
    # the sender signs the links it emails, a wave those of its invitations
    assert readers == {"APIHandler": grant, "SurveySender": grant, "SurveyWaves": grant}


def test_merge_template_is_pinned_to_the_packaged_stage():
    doc = packaging.merge_template("dev")
    assert doc["Parameters"]["Stage"]["AllowedValues"] == ["dev"]
    assert doc["Parameters"]["Stage"]["Default"] == "dev"
    body = doc["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert "nps-backend-dev-response_stream" in body and "nps-prod" not in body


def test_deploy_uploads_then_deploys_with_capabilities_and_parameters(dist, capsys):
    environ = {
        "LINK_SIGNING_KEYS": "k1:0123456789abcdef0123",
        "ALARM_EMAIL": "ops@example.com",
        "API_THROTTLE_RATE_LIMIT": "25",
        "API_THROTTLE_BURST_LIMIT": "50",
    }
    shown = deploying.deploy(STAGE, "code-bucket", "eu-west-1", f"nps-{STAGE}", dist, dry_run=True, environ=environ)
    package_cmd = next(c for c in shown if " cloudformation package " in c)
    deploys = [c for c in shown if " cloudformation deploy " in c]
    assert "--s3-bucket code-bucket" in package_cmd and str(dist / "sam.json") in package_cmd
    assert len(deploys) == 2  # the first deployment learns the API's URL, then sets PUBLIC_BASE_URL to it
    for cmd in deploys:
        assert f"--stack-name nps-{STAGE}" in cmd
        assert "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND" in cmd
        assert "AlarmEmail=ops@example.com" in cmd and "LinkSigningKeys=****" in cmd
        assert "ApiThrottleRateLimit=25" in cmd and "ApiThrottleBurstLimit=50" in cmd
    assert "0123456789abcdef" not in capsys.readouterr().out
    assert "PublicBaseUrl=<EndpointURL>" in deploys[1]


# --- tables -----------------------------------------------------------------------------------------------------


def _schema_of_table(props: dict) -> dict:
    return {
        "keys": {(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]},
        "attributes": {(a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]},
        "indexes": {
            g["IndexName"]: (
                {(k["AttributeName"], k["KeyType"]) for k in g["KeySchema"]},
                g["Projection"]["ProjectionType"],
                sorted(g["Projection"].get("NonKeyAttributes", [])),
            )
            for g in props.get("GlobalSecondaryIndexes", [])
        },
        "local_indexes": props.get("LocalSecondaryIndexes", []),
    }


def _schema_of_model(model) -> dict:
    schema = model._get_schema()
    return {
        "keys": {(k["AttributeName"], k["KeyType"]) for k in schema["key_schema"]},
        "attributes": {(a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]},
        "indexes": {
            g["index_name"]: (
                {(k["AttributeName"], k["KeyType"]) for k in g["key_schema"]},
                g["projection"]["ProjectionType"],
                sorted(g["projection"].get("NonKeyAttributes", [])),
            )
            for g in schema.get("global_secondary_indexes", [])
        },
        "local_indexes": schema.get("local_secondary_indexes", []),
    }


def test_tables_match_the_pynamodb_models(sam, resolver):
    from chalicelib.store.models import MODELS

    tables = {
        resolver.resolve(r["Properties"]["TableName"]): r["Properties"]
        for r in resources_of(sam, "AWS::DynamoDB::Table").values()
    }
    assert set(tables) == {f"nps-{STAGE}-{key}" for key in MODELS}
    for key, model in MODELS.items():
        props = tables[f"nps-{STAGE}-{key}"]
        assert _schema_of_table(props) == _schema_of_model(model), key
        view = getattr(model.Meta, "stream_view_type", None)
        assert (props.get("StreamSpecification") or {}).get("StreamViewType") == view, key


def test_every_table_is_protected(sam):
    for name, table in resources_of(sam, "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain", name
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}, name
        assert props["SSESpecification"]["SSEEnabled"] is True, name


# --- dashboard and alarms ---------------------------------------------------------------------------------------


def _dashboard_metrics(sam) -> list[tuple[str, str, dict]]:
    body = sam["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body.replace("${AWS::Region}", "us-east-1"))["widgets"]
    assert len(widgets) >= 10
    found = []
    for widget in widgets:
        for row in widget["properties"]["metrics"]:
            values = row[:-1] if isinstance(row[-1], dict) else row
            if not values:  # an expression row
                assert row[-1]["expression"]
                continue
            namespace, name, *dims = values
            found.append((namespace, name, dict(zip(dims[::2], dims[1::2], strict=True))))
    return found


def _alarm_metrics(sam) -> list[tuple[str, str, dict]]:
    found = []
    alarms = resources_of(sam, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 5
    for alarm in alarms.values():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        if "MetricName" in props:
            metrics = [props]
        else:
            metrics = [m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m]
        for m in metrics:
            found.append((m["Namespace"], m["MetricName"], {d["Name"]: d["Value"] for d in m.get("Dimensions", [])}))
    return found


def test_every_dashboard_and_alarm_metric_exists(sam, resolver):
    from chalicelib.ops.metric_names import BY_NAME, NAMESPACE, SERVICE

    functions = {resolver.resolve(f["Properties"]["FunctionName"]) for f in functions_of(sam).values()}
    tables = {
        resolver.resolve(t["Properties"]["TableName"]) for t in resources_of(sam, "AWS::DynamoDB::Table").values()
    }
    queues = {resolver.queue_name(q) for q in resources_of(sam, "AWS::SQS::Queue")}
    api = sam["Resources"]["RestAPI"]["Properties"]
    known_values = {
        "FunctionName": functions,
        "TableName": tables,
        "QueueName": queues,
        "ApiName": {resolver.resolve(api["Name"])},
        "Stage": {api["StageName"]},
        "Operation": DYNAMODB_OPERATIONS,
    }
    metrics = _dashboard_metrics(sam) + _alarm_metrics(sam)
    problems = []
    for namespace, name, dims in metrics:
        where = f"{namespace} {name} {dims}"
        if namespace == NAMESPACE:
            definition = BY_NAME.get(name)
            if definition is None:
                problems.append(f"{where}: not emitted by the code")
            elif set(dims) != {"service", *definition.dimensions} or dims.get("service") != SERVICE:
                problems.append(f"{where}: the code emits dimensions service+{definition.dimensions}")
        elif name not in AWS_METRICS.get(namespace, {}):
            problems.append(f"{where}: not an AWS metric on the allow-list")
        elif set(dims) != AWS_METRICS[namespace][name]:
            problems.append(f"{where}: AWS publishes it with {sorted(AWS_METRICS[namespace][name])}")
        else:
            problems += [f"{where}: no {k} {v!r} in the template" for k, v in dims.items() if v not in known_values[k]]
    assert problems == []
    names = {name for _, name, _ in metrics}
    for required in (
        "Responses",
        "Promoters",
        "Passives",
        "Detractors",
        "TasksOpened",
        "TasksOverdue",
        "TasksEscalated",
        "Errors",
        "Throttles",
        "Duration",
        "ConcurrentExecutions",
        "IteratorAge",
        "ApproximateNumberOfMessagesVisible",
        "4XXError",
        "5XXError",
        "Latency",
        "ThrottledRequests",
    ):
        assert required in names, required


def test_alarms_watch_what_ops_must_know(sam):
    alarms = {name: a["Properties"] for name, a in resources_of(sam, "AWS::CloudWatch::Alarm").items()}
    age = alarms["StreamIteratorAgeAlarm"]
    assert (age["MetricName"], age["Threshold"], age["ComparisonOperator"]) == (
        "IteratorAge",
        300000,
        "GreaterThanThreshold",
    )
    assert alarms["StreamHandlerErrorsAlarm"]["MetricName"] == "Errors"
    monthly = alarms["MonthlyMetricsErrorsAlarm"]
    assert (monthly["MetricName"], monthly["Threshold"], monthly["Dimensions"]) == (
        "Errors",
        0,
        [{"Name": "FunctionName", "Value": f"nps-backend-{STAGE}-monthly_metrics"}],
    )
    queue = alarms["StreamFailureQueueAlarm"]
    assert (queue["MetricName"], queue["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 0)
    rate = alarms["Api5xxRateAlarm"]
    (expression,) = [m for m in rate["Metrics"] if m.get("ReturnData")]
    stats = {m["Id"]: m["MetricStat"]["Metric"]["MetricName"] for m in rate["Metrics"] if "MetricStat" in m}
    assert expression["Expression"].replace(" ", "") == "/".join(
        next(i for i, n in stats.items() if n == wanted) for wanted in ("5XXError", "Count")
    )
    assert rate["Threshold"] == {"Ref": "Api5xxRateThreshold"}
    assert alarms["TasksOverdueAlarm"]["Threshold"] == {"Ref": "TasksOverdueThreshold"}
    subscription = next(iter(resources_of(sam, "AWS::SNS::Subscription").values()))["Properties"]
    assert subscription == {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}


def test_dashboard_definition_names_what_the_code_defines(sam):
    from chalicelib.ops import dashboard, metric_math
    from chalicelib.store.models import MODELS

    assert set(dashboard.TABLES) == set(MODELS)
    names = dashboard.Names(STAGE)
    assert {names.function(f) for f in dashboard.FUNCTIONS} == {
        f"nps-backend-{STAGE}-{n}" for n in CHALICE_NAMES.values()
    }
    for widget in dashboard.widgets(names):
        ids = {m.id for m in widget.metrics}
        for expression in widget.expressions:
            assert metric_math.evaluate(expression.expression, dict.fromkeys(ids, 1.0)) is not None, widget.title
    nps = metric_math.evaluate(
        "100 * (promoters - detractors) / (promoters + passives + detractors)",
        {"promoters": 6, "passives": 2, "detractors": 2},
    )
    assert nps == 40.0


# --- the deployment zip -----------------------------------------------------------------------------------------


def test_trimmed_zip_has_bytecode_and_no_bundled_botocore(dist, sam):
    runtime = packaging.runtime_of(sam)
    assert runtime == f"python{sys.version_info.major}.{sys.version_info.minor}"
    report = json.loads((dist / "package-report.json").read_text())
    assert report["trimmed_bytes"] < report["untrimmed_bytes"] / 3
    with zipfile.ZipFile(dist / "deployment.zip") as z:
        names = z.namelist()
        tops = {n.split("/", 1)[0] for n in names}
        assert not tops & {"boto3", "botocore", "s3transfer", "urllib3", "dateutil", "jmespath", "six.py"}
        assert not [n for n in names if n.startswith("botocore-")]
        # Only the app and its libraries are deployed: the tooling lives outside chalicelib/.
        assert not tops & {"nps_local", "nps_demo", "nps_cli", "tests", "bench", "infra"}
        tag = sys.implementation.cache_tag
        for module in (
            "app.py",
            "chalicelib/api/auth.py",
            "pynamodb/models.py",
            "aws_lambda_powertools/utilities/batch/__init__.py",
        ):
            folder, _, file = module.rpartition("/")
            pyc = f"{folder + '/' if folder else ''}__pycache__/{file[:-3]}.{tag}.pyc"
            data = z.read(pyc)
            assert data[:4] == importlib.util.MAGIC_NUMBER, pyc
            assert int.from_bytes(data[4:8], "little") == 0b01, pyc  # hash-based, unchecked: no mtime check


def test_trimmed_package_imports_on_the_runtime_alone_and_uses_its_bytecode(dist, sam, tmp_path):
    """Every shipped module imports with only the Lambda runtime's packages beside it, from bytecode."""
    package = tmp_path / "task"
    with zipfile.ZipFile(dist / "deployment.zip") as z:
        z.extractall(package)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for name in RUNTIME_PACKAGES:
        with contextlib.suppress(FileNotFoundError):
            (runtime / name).symlink_to(site / name, target_is_directory=(site / name).is_dir())
    # Spoil a few sources: the unchecked pycs must be what runs.
    for source in ("app.py", "chalicelib/api/auth.py", "chalicelib/events/stream.py"):
        with open(package / source, "a") as f:
            f.write("\nraise SystemExit('the source was read instead of the bytecode')\n")
    handlers = [f["Properties"]["Handler"] for f in functions_of(sam).values()]
    code = f"""
import importlib, pkgutil, sys
sys.path[:0] = [{str(package)!r}, {str(runtime)!r}]
for handler in {handlers!r}:
    module, _, attr = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), attr)), handler
import chalicelib
for info in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    importlib.import_module(info.name)
import botocore
assert botocore.__file__.startswith({str(runtime)!r}), botocore.__file__
"""
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
