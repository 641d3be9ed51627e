"""The layers and their rules (ARCHITECTURE.md), read from the code's own imports with `ast`.

handlers (chalicelib/api, the event handlers in chalicelib/events) -> use cases (chalicelib/usecases) -> store
-> domain. A lower layer never imports a higher one; the domain is pure Python; deployed code never imports the
tooling.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = ROOT / "chalicelib"
TOOLING = ("nps_local", "nps_demo", "nps_cli", "tests", "bench", "infra", "moto", "yaml")
AWS = ("boto3", "botocore", "pynamodb", "aws_lambda_powertools", "chalice")


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of the file (lazy imports in functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((DEPLOYED / folder).rglob("*.py")) if folder else sorted(DEPLOYED.glob("*.py"))


def under(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_rules_see_the_imports_they_judge():
    # The reader itself: a lazy import inside a function counts, a relative one does not exist here.
    seen = imports_of(DEPLOYED / "api" / "metrics.py")
    assert any(under(name, "chalicelib.store") for name in seen)


@pytest.mark.parametrize(
    "path",
    [*modules(""), *modules("api"), *modules("events"), *modules("usecases"), *modules("store"), *modules("domain")],
    ids=str,
)
def test_deployed_code_never_imports_the_tooling(path):
    assert not [name for name in imports_of(path) if under(name, *TOOLING)]


@pytest.mark.parametrize("path", modules("domain"), ids=lambda p: p.name)
def test_the_domain_is_pure_python(path):
    outside = [
        name
        for name in imports_of(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and name != "__future__"
        and not under(name, "chalicelib.domain")
    ]
    assert not outside, f"{path.name} imports {outside}"


@pytest.mark.parametrize("path", [*modules("reports"), *modules("ops")], ids=lambda p: p.name)
def test_reports_and_operations_are_pure_too(path):
    assert not [name for name in imports_of(path) if under(name, *AWS, "chalicelib.store", "chalicelib.api")]


@pytest.mark.parametrize("path", modules("store"), ids=lambda p: p.name)
def test_the_store_knows_no_http_and_no_handler(path):
    assert not [name for name in imports_of(path) if under(name, "chalice", "chalicelib.api", "chalicelib.events")]


@pytest.mark.parametrize("path", modules("store"), ids=lambda p: p.name)
def test_the_store_never_imports_a_use_case(path):
    assert not [name for name in imports_of(path) if under(name, "chalicelib.usecases")]


@pytest.mark.parametrize("path", modules("usecases"), ids=lambda p: p.name)
def test_the_use_cases_know_no_http_and_no_handler(path):
    assert not [name for name in imports_of(path) if under(name, "chalice", "chalicelib.api", "chalicelib.events")]


def test_the_use_case_rules_see_the_use_cases():
    # The layer exists and is read: an empty folder would pass every rule above.
    assert {p.stem for p in modules("usecases")} >= {"invitations", "task_changes", "imports", "erasure"}
    assert any(under(name, "chalicelib.usecases") for name in imports_of(DEPLOYED / "api" / "tasks.py"))
