"""infra/iam.py, the one definition of the functions' IAM policies, and the files generated from it.

What the packaged roles hold is checked in test_template.py (against the template) and what the code calls in
test_iam_calls.py (against moto)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra import iam
from infra import package as packaging

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod")


def test_the_definition_names_the_tables_the_models_define():
    from chalicelib.store.models import MODELS

    assert set(iam.TABLES) == set(MODELS)


def test_every_chalice_function_has_a_definition_and_nothing_else_does():
    from app import app

    functions = {
        name
        for name, handler in app.handler_map.items()
        if name not in {r.view_name for methods in app.routes.values() for r in methods.values()}
    }
    assert set(iam.FUNCTIONS) == functions | {"api_handler"}


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_is_the_only_thing_that_differs(stage):
    for function in iam.FUNCTIONS:
        text = iam.render(iam.policy(function, stage))
        assert "{stage}" not in text
        other = {"dev": "prod", "prod": "dev"}[stage]
        assert iam.render(iam.policy(function, other)) == text.replace(f"-{stage}-", f"-{other}-").replace(
            f"nps-{stage}/", f"nps-{other}/"
        )


def test_no_statement_allows_everything_or_denies():
    for stage in STAGES:
        for function in iam.FUNCTIONS:
            for statement in iam.policy(function, stage)["Statement"]:
                assert statement["Effect"] == "Allow"
                assert all(":" in a and "*" not in a for a in statement["Action"]), (function, statement["Sid"])
                assert statement["Resource"], (function, statement["Sid"])


def test_index_access_is_any_index_of_a_named_table():
    """Indexes may be renamed or added without a policy change; tables may not change unnoticed."""
    for function in iam.FUNCTIONS:
        for grant in iam.POLICIES[function]:
            for resource in grant.statement("dev")["Resource"]:
                if "/index/" in resource:
                    assert grant.actions == ("dynamodb:Query",), function
                    table = resource.removeprefix("arn:aws:dynamodb:*:*:table/nps-dev-").removesuffix("/index/*")
                    assert table in iam.TABLES, resource


def test_resource_patterns_match_as_iam_does():
    assert iam.matches(
        "arn:aws:dynamodb:*:*:table/nps-dev-responses/index/*",
        "arn:aws:dynamodb:eu-west-1:1:table/nps-dev-responses/index/by_pending",
    )
    assert not iam.matches(
        "arn:aws:dynamodb:*:*:table/nps-dev-responses", "arn:aws:dynamodb:eu-west-1:1:table/nps-dev-responses/index/x"
    )
    assert not iam.matches(
        "arn:aws:dynamodb:*:*:table/nps-dev-responses", "arn:aws:dynamodb:eu-west-1:1:table/nps-dev-responses_old"
    )
    assert iam.matches(
        "arn:aws:secretsmanager:*:*:secret:nps-dev/link-signing-keys-*",
        "arn:aws:secretsmanager:us-east-1:1:secret:nps-dev/link-signing-keys-AbC123",
    )
    assert not iam.matches("arn:aws:sqs:*:*:nps-dev-async-failures", "arn:aws:sqs:us-east-1:1:nps-dev-async-failures2")
    assert iam.matches("a?c", "abc") and not iam.matches("a?c", "ac") and not iam.matches("a.c", "abc")


def test_packaging_writes_the_files_config_json_names(tmp_path, monkeypatch):
    config = tmp_path / ".chalice" / "config.json"
    config.parent.mkdir()
    config.write_text((ROOT / ".chalice" / "config.json").read_text())
    monkeypatch.setattr(packaging, "CHALICE_CONFIG", config)
    for stage in STAGES:
        written = packaging.write_policies(stage)
        names = json.loads(config.read_text())["stages"][stage]["lambda_functions"]
        assert sorted(p.name for p in written) == sorted(cfg["iam_policy_file"] for cfg in names.values())
        for function, cfg in names.items():
            assert json.loads((config.parent / cfg["iam_policy_file"]).read_text()) == iam.policy(function, stage)
    assert sorted(p.name for p in config.parent.iterdir()) == sorted(
        ["config.json", *(iam.policy_file(f, s) for s in STAGES for f in iam.FUNCTIONS)]
    )


def test_packaging_refuses_a_config_that_names_other_files(tmp_path, monkeypatch):
    document = json.loads((ROOT / ".chalice" / "config.json").read_text())
    document["stages"]["dev"]["lambda_functions"]["sla_sweep"]["iam_policy_file"] = "policy-dev-schedules.json"
    config = tmp_path / "config.json"
    config.write_text(json.dumps(document))
    monkeypatch.setattr(packaging, "CHALICE_CONFIG", config)
    with pytest.raises(packaging.PackageError, match="iam_policy_file"):
        packaging.write_policies("dev")
    del document["stages"]["dev"]["lambda_functions"]["sla_sweep"]["iam_policy_file"]
    config.write_text(json.dumps(document))
    with pytest.raises(packaging.PackageError, match="sla_sweep"):
        packaging.write_policies("dev")
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"], "nothing written"


def test_generated_files_are_not_committed():
    tracked = subprocess.run(
        ["git", "ls-files", "--", ".chalice/"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not [name for name in tracked if Path(name).name.startswith("policy")], tracked
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", ".chalice/policy-prod-api_handler.json"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert ignored.returncode == 0


def test_the_module_prints_a_stages_policies():
    done = subprocess.run(
        [sys.executable, str(ROOT / "infra" / "iam.py"), "--stage", "prod"], capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == {f: iam.policy(f, "prod") for f in iam.FUNCTIONS}


def test_the_module_writes_the_files_chalice_reads():
    done = subprocess.run(
        [sys.executable, str(ROOT / "infra" / "iam.py"), "--stage", "prod", "--write"],
        capture_output=True,
        text=True,
        check=True,
    )
    written = [Path(line) for line in done.stdout.split()]
    assert [p.name for p in written] == [iam.policy_file(f, "prod") for f in iam.FUNCTIONS]
    for function, path in zip(iam.FUNCTIONS, written, strict=True):
        assert path.parent == ROOT / ".chalice"
        assert json.loads(path.read_text()) == iam.policy(function, "prod")


def test_infra_readme_lists_every_function_and_where_its_policy_is_defined():
    text = (ROOT / "infra" / "README.md").read_text()
    section = text[text.index("### IAM") :]
    section = section[: section.index("\n### ", 1)]
    assert "infra/iam.py" in section and "tests/infra/test_iam_calls.py" in section
    rows = {line.split("|")[1].strip().strip("`") for line in section.splitlines() if line.startswith("| `")}
    assert rows == set(iam.FUNCTIONS)
