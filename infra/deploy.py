"""Deploy what infra/package.py built for a stage (`python infra/package.py deploy ...`, `make deploy`).

`aws cloudformation package` uploads dist/deployment.zip, then `aws cloudformation deploy` creates or updates the
stack, with the stack parameters read from the environment (PARAMETERS); secret ones are never printed.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

# Stack parameters for `deploy`, from environment variables. Unset ones keep the deployed stack's value.
PARAMETERS = {
    "PublicBaseUrl": "PUBLIC_BASE_URL",
    "LinkSigningKeys": "LINK_SIGNING_KEYS",
    "LinkSigningKeyId": "LINK_SIGNING_KEY_ID",
    "AlarmEmail": "ALARM_EMAIL",
    "TasksOverdueThreshold": "TASKS_OVERDUE_THRESHOLD",
    "Api5xxRateThreshold": "API_5XX_RATE_THRESHOLD",
    "LogRetentionDays": "LOG_RETENTION_DAYS",
    "ApiThrottleRateLimit": "API_THROTTLE_RATE_LIMIT",
    "ApiThrottleBurstLimit": "API_THROTTLE_BURST_LIMIT",
    "ApiGatewayLogs": "API_GATEWAY_LOGS",
    "MailFrom": "MAIL_FROM",
    "MailReplyTo": "MAIL_REPLY_TO",
    "SesSendRate": "SES_SEND_RATE",
    "SenderConcurrency": "SENDER_CONCURRENCY",
    "ContactThrottleDays": "CONTACT_THROTTLE_DAYS",
}
SECRET_PARAMETERS = {"LinkSigningKeys"}
PENDING_BASE_URL = "https://pending.invalid"


class DeployError(RuntimeError):
    pass


def _shown(cmd: list[str]) -> str:
    secret = tuple(f"{p}=" for p in SECRET_PARAMETERS)
    return " ".join(f"{a.split('=', 1)[0]}=****" if a.startswith(secret) else a for a in cmd)


def _stack_output(stack: str, region: str, key: str, runner) -> str | None:
    """An output of the stack, or None (also when the stack does not exist)."""
    cmd = [
        "aws",
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        stack,
        "--region",
        region,
        "--query",
        f"Stacks[0].Outputs[?OutputKey=='{key}'].OutputValue",
        "--output",
        "text",
    ]
    value = runner(cmd, capture=True)
    return value.strip() if value and value.strip() not in ("", "None") else None


def deploy_commands(
    stage: str, bucket: str, region: str, stack: str, out: Path, environ: dict, public_base_url: str | None
) -> tuple[list[str], list[str]]:
    """The `aws cloudformation package` and `deploy` commands for this stage."""
    packaged = out / "packaged.json"
    package_cmd = [
        "aws",
        "cloudformation",
        "package",
        "--template-file",
        str(out / "sam.json"),
        "--s3-bucket",
        bucket,
        "--s3-prefix",
        stack,
        "--output-template-file",
        str(packaged),
        "--use-json",
        "--region",
        region,
    ]
    overrides = [f"{p}={environ[v]}" for p, v in PARAMETERS.items() if environ.get(v) and p != "PublicBaseUrl"]
    if public_base_url:
        overrides.append(f"PublicBaseUrl={public_base_url}")
    deploy_cmd = [
        "aws",
        "cloudformation",
        "deploy",
        "--template-file",
        str(packaged),
        "--stack-name",
        stack,
        "--capabilities",
        "CAPABILITY_IAM",
        "CAPABILITY_AUTO_EXPAND",
        "--region",
        region,
        "--no-fail-on-empty-changeset",
        "--tags",
        "app=nps-backend",
        f"stage={stage}",
    ]
    if overrides:
        deploy_cmd += ["--parameter-overrides", *overrides]
    return package_cmd, deploy_cmd


def deploy(
    stage: str, bucket: str, region: str, stack: str, out: Path, *, dry_run: bool = False, environ: dict | None = None
) -> list[str]:
    """Upload and deploy `out` (already packaged for `stage`); return the commands run.

    PublicBaseUrl: PUBLIC_BASE_URL when given; else, on an existing stack, its current value; else (a first
    deployment) the API's own URL, which exists only once the API does: deploy with a placeholder, read the
    stack's EndpointURL, deploy again with it.
    """
    environ = dict(os.environ if environ is None else environ)
    shown: list[str] = []

    def run(cmd: list[str], capture: bool = False) -> str | None:
        shown.append(_shown(cmd))
        print("+", _shown(cmd), flush=True)
        if dry_run:
            return None
        done = subprocess.run(cmd, capture_output=capture, text=True, check=False)
        if done.returncode != 0 and not capture:
            raise DeployError(f"command failed ({done.returncode}): {_shown(cmd)}")
        return done.stdout if done.returncode == 0 else None

    report = json.loads((out / "package-report.json").read_text())
    if report.get("stage") != stage:
        raise DeployError(f"{out} holds a package for stage {report.get('stage')!r}, not {stage!r}")
    url = environ.get("PUBLIC_BASE_URL")
    first_deployment = not url and _stack_output(stack, region, "EndpointURL", run) is None
    package_cmd, deploy_cmd = deploy_commands(
        stage, bucket, region, stack, out, environ, PENDING_BASE_URL if first_deployment else url
    )
    run(package_cmd)
    run(deploy_cmd)
    if first_deployment:
        endpoint = _stack_output(stack, region, "EndpointURL", run) or ("<EndpointURL>" if dry_run else None)
        if not endpoint:
            raise DeployError(f"stack {stack} has no EndpointURL output")
        run(deploy_commands(stage, bucket, region, stack, out, environ, endpoint)[1])
    return shown
