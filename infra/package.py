"""Build what a stage deploys, and deploy it.

python infra/package.py [--stage dev] [--out dist] [--no-lint] [--checkov .venv-checkov/bin/checkov]
    0. .chalice/policy-<stage>-<function>.json: each function's IAM policy, generated from infra/iam.py (and
       checked against the file names .chalice/config.json gives the stage's functions);
    1. dist/merge.json: infra/template.yaml with the Stage parameter pinned to the stage, plus the dashboard
       body and the alarms generated from chalicelib/ops/dashboard.py and alarms.py;
    2. `chalice package --merge-template dist/merge.json`: dist/sam.json and dist/deployment.zip;
    3. the zip trimmed for cold start (infra/lambda_zip.py), the untrimmed one kept as dist/deployment-untrimmed.zip
       and both sizes in dist/package-report.json;
    4. `cfn-lint --include-checks I dist/sam.json`, which must report nothing;
    5. with --checkov, checkov on dist/sam.json, which must report no failed check (skips are in the template,
       each with its reason).

python infra/package.py deploy --stage prod --bucket CODE_BUCKET [--region R] [--dry-run]
    `aws cloudformation package` (uploads dist/deployment.zip) then `aws cloudformation deploy`, with the
    stack parameters read from the environment (see PARAMETERS in infra/deploy.py).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "template.yaml"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
BIN = Path(sys.executable).parent
DASHBOARD_PLACEHOLDER = "GENERATED"


class PackageError(RuntimeError):
    pass


def _import_repo_modules():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from chalicelib.ops import alarms, dashboard, dashboard_body
    from nps_local import template as cfn

    return cfn, dashboard, dashboard_body, alarms


def stage_config(stage: str) -> dict:
    config = json.loads(CHALICE_CONFIG.read_text())
    if stage not in config.get("stages", {}):
        raise PackageError(f"stage {stage!r} is not in {CHALICE_CONFIG}")
    return config["stages"][stage]


def _iam():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from infra import iam

    return iam


def _deploy():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from infra import deploy

    return deploy


def _lambda_zip():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from infra import lambda_zip

    return lambda_zip


def write_policies(stage: str) -> list[Path]:
    """Generate the stage's policy files from infra/iam.py where .chalice/config.json points Chalice at them.

    The files are not committed (.chalice/.gitignore): infra/iam.py is the only definition. Every function of
    the definition must have its file named in the stage's config, and nothing else may be named there."""
    iam = _iam()
    functions = stage_config(stage).get("lambda_functions", {})
    named = {name: cfg.get("iam_policy_file") for name, cfg in functions.items() if cfg.get("iam_policy_file")}
    expected = {function: iam.policy_file(function, stage) for function in iam.FUNCTIONS}
    if named != expected:
        raise PackageError(
            f"{CHALICE_CONFIG} stages.{stage}.lambda_functions must give exactly these iam_policy_file names "
            f"(generated from infra/iam.py): {expected}; it gives {named}"
        )
    return iam.write(stage, CHALICE_CONFIG.parent)


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z0-9][a-z])", "-", name).lower()


def _dimensions(metric) -> list[dict]:
    return [{"Name": name, "Value": value} for name, value in metric.dimensions]


def _metric_stat(metric) -> dict:
    return {
        "Metric": {"Namespace": metric.namespace, "MetricName": metric.name, "Dimensions": _dimensions(metric)},
        "Period": metric.period,
        "Stat": metric.stat,
    }


def alarm_resource(alarm) -> dict:
    """An AWS::CloudWatch::Alarm for an ops.dashboard.Alarm, notifying the stack's AlarmTopic."""
    props: dict = {
        "AlarmName": {"Fn::Sub": "nps-${Stage}-" + _kebab(alarm.logical_id.removesuffix("Alarm"))},
        "AlarmDescription": alarm.description,
        "ComparisonOperator": alarm.comparison,
        "Threshold": {"Ref": alarm.threshold_parameter} if alarm.threshold_parameter else alarm.threshold,
        "EvaluationPeriods": alarm.evaluation_periods,
        "DatapointsToAlarm": alarm.datapoints_to_alarm,
        "TreatMissingData": alarm.treat_missing_data,
        "AlarmActions": [{"Ref": "AlarmTopic"}],
        "OKActions": [{"Ref": "AlarmTopic"}],
    }
    if alarm.expression is None:
        (metric,) = alarm.metrics
        props.update(
            Namespace=metric.namespace, MetricName=metric.name, Dimensions=_dimensions(metric), Period=metric.period
        )
        if re.fullmatch(r"p\d+(\.\d+)?", metric.stat):
            props["ExtendedStatistic"] = metric.stat
        else:
            props["Statistic"] = metric.stat
    else:
        props["Metrics"] = [
            *({"Id": m.id, "MetricStat": _metric_stat(m), "ReturnData": False} for m in alarm.metrics),
            {
                "Id": alarm.expression.id,
                "Expression": alarm.expression.expression,
                "Label": alarm.expression.label,
                "ReturnData": True,
            },
        ]
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}


def merge_template(stage: str) -> dict:
    """infra/template.yaml for one stage, with the generated dashboard body and alarms."""
    cfn, dashboard, dashboard_body, alarms = _import_repo_modules()
    doc = cfn.load(TEMPLATE)
    cfg = stage_config(stage)
    prefix = cfg.get("environment_variables", {}).get("TABLE_PREFIX", f"nps-{stage}-")
    if prefix != f"nps-{stage}-":
        raise PackageError(f"TABLE_PREFIX {prefix!r} of stage {stage} is not the template's nps-{stage}-")
    names = dashboard.Names(stage, table_prefix=prefix, api_stage=cfg.get("api_gateway_stage") or stage)

    # The package is built for one stage (its policies and environment name that stage's tables): pin it.
    param = doc["Parameters"]["Stage"]
    param["AllowedValues"] = [stage]
    param["Default"] = stage

    resources = doc["Resources"]
    body_holder = resources["Dashboard"]["Properties"]
    if not str(body_holder.get("DashboardBody", "")).startswith(DASHBOARD_PLACEHOLDER):
        raise PackageError("infra/template.yaml's Dashboard must keep its GENERATED DashboardBody placeholder")
    body = dashboard_body.dashboard_body(dashboard.widgets(names), region="${AWS::Region}")
    if body.replace("${AWS::Region}", "").find("${") >= 0:
        raise PackageError("the dashboard body has a ${...} other than the region: Fn::Sub would read it")
    body_holder["DashboardBody"] = {"Fn::Sub": body}

    for alarm in alarms.alarms(names):
        if alarm.logical_id in resources:
            raise PackageError(f"{alarm.logical_id} is both generated and in infra/template.yaml")
        if alarm.threshold_parameter and alarm.threshold_parameter not in doc["Parameters"]:
            raise PackageError(f"{alarm.logical_id} needs parameter {alarm.threshold_parameter}")
        resources[alarm.logical_id] = alarm_resource(alarm)
    return doc


@contextlib.contextmanager
def _chalice_lock():
    # chalice package caches its dependency zip under .chalice/deployments: one build at a time.
    with open(Path(tempfile.gettempdir()) / "nps-backend-chalice-package.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def chalice_package(stage: str, merge_path: Path, out: Path) -> None:
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION", "us-east-1"))  # chalice insists on a region
    with tempfile.TemporaryDirectory(dir=out) as tmp, _chalice_lock():
        write_policies(stage)  # what chalice reads as each function's role policy
        target = Path(tmp) / "chalice"
        cmd = [
            str(BIN / "chalice"),
            "--project-dir",
            str(ROOT),
            "package",
            "--stage",
            stage,
            "--merge-template",
            str(merge_path),
            str(target),
        ]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PackageError(f"chalice package failed:\n{done.stdout}{done.stderr}")
        for name in ("sam.json", "deployment.zip"):
            shutil.move(target / name, out / name)


def runtime_of(sam: dict) -> str:
    runtimes = {
        r["Properties"]["Runtime"] for r in sam["Resources"].values() if r.get("Type") == "AWS::Serverless::Function"
    }
    if len(runtimes) != 1:
        raise PackageError(f"functions use several runtimes: {sorted(runtimes)}")
    return runtimes.pop()


def lint(sam_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "cfn-lint"), "--include-checks", "I", "--", str(sam_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = (done.stdout + done.stderr).strip()
    if done.returncode != 0 or findings:
        raise PackageError(f"cfn-lint --include-checks I {sam_path} reported:\n{findings}")


def checkov_findings(sam_path: Path, checkov: Path) -> dict:
    """checkov's CloudFormation checks on the packaged template: {"passed", "failed", "skipped", "failures"}.

    Offline: --skip-download keeps it from fetching guidelines (this machine has no network beyond the package
    registries, and a check must not depend on one)."""
    done = subprocess.run(
        [str(checkov), "--file", str(sam_path), "--framework", "cloudformation", "--output", "json", "--skip-download"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        raise PackageError(f"checkov gave no JSON report ({done.returncode}):\n{done.stdout}{done.stderr}") from None
    if isinstance(report, list):  # one report per framework; only cloudformation was asked for
        (report,) = report
    if not report.get("results") and report.get("passed") == 0 and report.get("failed") == 0:
        raise PackageError(f"checkov checked nothing in {sam_path}")
    results = report.get("results", {})
    summary = report.get("summary", {})
    failures = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in results.get("failed_checks", [])]
    return {
        "passed": summary.get("passed", len(results.get("passed_checks", []))),
        "failed": summary.get("failed", len(failures)),
        "skipped": [(c["check_id"], c["resource"]) for c in results.get("skipped_checks", [])],
        "failures": failures,
    }


def run_checkov(sam_path: Path, checkov: Path) -> dict:
    found = checkov_findings(sam_path, checkov)
    if found["failed"] or found["failures"]:
        raise PackageError(f"checkov {sam_path} failed {found['failed']} checks:\n" + "\n".join(found["failures"]))
    return found


def package(
    stage: str = "dev", out: Path = ROOT / "dist", *, run_lint: bool = True, checkov: Path | None = None
) -> dict:
    """Write merge.json, sam.json, deployment.zip (trimmed), deployment-untrimmed.zip and package-report.json."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    merge_path = out / "merge.json"
    merge_path.write_text(json.dumps(merge_template(stage), indent=2) + "\n")
    chalice_package(stage, merge_path, out)
    sam = json.loads((out / "sam.json").read_text())
    # The merge amends Chalice's resources by logical id: one that Chalice did not generate (a function not
    # registered, or renamed) would be left as a fragment without a Type.
    fragments = sorted(name for name, resource in sam["Resources"].items() if "Type" not in resource)
    if fragments:
        raise PackageError(f"infra/template.yaml amends {', '.join(fragments)}, which Chalice did not generate")
    shutil.copyfile(out / "deployment.zip", out / "deployment-untrimmed.zip")
    zips = _lambda_zip()
    try:
        report = {"stage": stage, **zips.trim(out / "deployment.zip", runtime_of(sam))}
    except zips.ZipError as error:
        raise PackageError(str(error)) from None
    (out / "package-report.json").write_text(json.dumps(report, indent=2) + "\n")
    if run_lint:
        lint(out / "sam.json")
    if checkov is not None:
        report["checkov"] = run_checkov(out / "sam.json", checkov)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", choices=("package", "deploy"), default="package")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--no-lint", action="store_true", help="package without running cfn-lint")
    parser.add_argument("--checkov", type=Path, help="the checkov executable to check dist/sam.json with")
    parser.add_argument("--bucket", help="deploy: the S3 bucket `aws cloudformation package` uploads the code to")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--stack", help="deploy: the stack name (default nps-<stage>)")
    parser.add_argument("--dry-run", action="store_true", help="deploy: print the aws commands, run nothing")
    args = parser.parse_args(argv)
    deploying = _deploy()
    try:
        if args.command == "package":
            report = package(args.stage, args.out, run_lint=not args.no_lint, checkov=args.checkov)
            ratio = report["trimmed_bytes"] / report["untrimmed_bytes"]
            checked = report.get("checkov")
            print(
                f"{args.out}/sam.json and {args.out}/deployment.zip for stage {args.stage}: "
                f"{report['untrimmed_bytes']:,} -> {report['trimmed_bytes']:,} bytes ({ratio:.1%}), "
                f"{report['pyc_files']} .pyc; cfn-lint: {'skipped' if args.no_lint else 'no findings'}; "
                f"checkov: "
                + (f"{checked['passed']} passed, 0 failed, {len(checked['skipped'])} skipped" if checked else "not run")
            )
            return 0
        if not args.bucket:
            parser.error("deploy needs --bucket (make deploy CODE_BUCKET=...)")
        if not args.region:
            parser.error("deploy needs --region or AWS_REGION (make deploy AWS_REGION=...)")
        deploying.deploy(
            args.stage, args.bucket, args.region, args.stack or f"nps-{args.stage}", args.out, dry_run=args.dry_run
        )
        return 0
    except (PackageError, deploying.DeployError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
