"""Package size and a cold-start proxy for each function, before and after trimming, and what the first publish
to the event bus adds for the functions that publish.

    python bench/bench_package.py [--dist dist] [--runs 7]

Needs `make package` first (dist/deployment.zip, dist/deployment-untrimmed.zip, dist/sam.json,
dist/package-report.json). For each function, in a fresh interpreter, it times what Lambda imports at a cold
start: the handler's module (from the template's Handler) plus what the handler imports on its first call, from
the unzipped package. The Lambda runtime's boto3/botocore are simulated by a directory holding only those
packages from this venv, placed after the package on sys.path. The time is divided by `import boto3` in the same
kind of interpreter. The brief's `import app` (+ the lazy module) is measured too, for comparison. The median of
--runs runs is reported; the table is printed and written to dist/bench-package.json.

Events: the functions whose environment names the bus (EVENT_BUS_NAME) make their events client on their first
publish, not at import (chalicelib/store/event_bus.py). In a fresh interpreter, after the function's cold-start
imports, the timer makes the DynamoDB client the function's first request makes anyway, then the events client
as event_bus makes it (from that botocore session), then, for comparison, one as `boto3.client("events")` would.
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
API_GOAL = 1.3

TIMER = """
import sys, time
sys.path[:0] = {paths!r}
start, cpu = time.perf_counter(), time.process_time()
for name in {modules!r}:
    __import__(name)
print(time.perf_counter() - start, time.process_time() - cpu)
"""


FIRST_PUBLISH = """
import os, sys, time
sys.path[:0] = {paths!r}
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
for name in {modules!r}:
    __import__(name)
from chalicelib.store import event_bus, models
models.bind()
start = time.perf_counter()
models.Response._get_connection().connection.client  # the first DynamoDB request's client
dynamodb = time.perf_counter()
event_bus.client_for("us-east-1")  # the first publish's
events = time.perf_counter()
import boto3
boto3.client("events", region_name="us-east-1")  # as a new boto3 session would make it
print(dynamodb - start, events - dynamodb, time.perf_counter() - events)
"""


def simulated_runtime(into: Path) -> Path:
    """A directory with only what the Lambda Python runtime provides (symlinks into this venv)."""
    site = Path(sysconfig.get_paths()["purelib"])
    runtime = into / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        if (site / name).exists():
            (runtime / name).symlink_to(site / name)
    return runtime


def time_import(paths: list[Path], modules: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of importing `modules` in a fresh interpreter whose sys.path is `paths` + stdlib."""
    # -I: no user site, no PYTHON* variables; -S: no site-packages, so sys.path is exactly `paths` + the stdlib;
    # -B: write no bytecode, as on Lambda's read-only /var/task (else the untrimmed case compiles only once).
    code = TIMER.format(paths=[str(p) for p in paths], modules=modules)
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", code], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {modules} failed:\n{done.stderr}")
    wall, cpu = done.stdout.split()
    return float(wall), float(cpu)


def time_first_publish(paths: list[Path], modules: list[str], cwd: Path) -> tuple[float, float, float]:
    """Seconds to make the DynamoDB client, the events client (event_bus), and a boto3 events client."""
    code = FIRST_PUBLISH.format(paths=[str(p) for p in paths], modules=modules)
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", code], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the first publish after {modules} failed:\n{done.stderr}")
    dynamodb, events, fresh = done.stdout.split()
    return float(dynamodb), float(events), float(fresh)


def publishes(sam: dict, logical: str) -> bool:
    """Whether the function's environment names the event bus."""
    own = sam["Resources"][logical]["Properties"].get("Environment", {}).get("Variables", {})
    shared = sam.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    return "EVENT_BUS_NAME" in {**shared, **own}


def lazy_imports(package: Path, handler: str) -> list[str]:
    """The modules a handler function imports inside its body (imported on the first invocation)."""
    module, _, func = handler.rpartition(".")
    source = package / (module.replace(".", "/") + ".py")
    tree = ast.parse(source.read_text())
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == func:
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module:
                    for alias in inner.names:  # `from package import module` imports the module
                        sub = f"{inner.module}.{alias.name}"
                        base = package / sub.replace(".", "/")
                        is_module = base.with_suffix(".py").exists() or (base / "__init__.py").exists()
                        found.append(sub if is_module else inner.module)
                elif isinstance(inner, ast.Import):
                    found.extend(alias.name for alias in inner.names)
    return found


def functions(sam: dict) -> dict[str, str]:
    return {
        name: r["Properties"]["Handler"]
        for name, r in sam["Resources"].items()
        if r.get("Type") == "AWS::Serverless::Function"
    }


def bench(dist: Path, runs: int) -> dict:
    sam = json.loads((dist / "sam.json").read_text())
    report = json.loads((dist / "package-report.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        runtime = simulated_runtime(tmp_path)
        packages = {}
        for kind, zip_name in (("trimmed", "deployment.zip"), ("untrimmed", "deployment-untrimmed.zip")):
            packages[kind] = tmp_path / kind
            with zipfile.ZipFile(dist / zip_name) as z:
                z.extractall(packages[kind])
        cases: dict[str, tuple[str, list[Path], list[str]]] = {"boto3": ("baseline", [runtime], ["boto3"])}
        rows = []
        for name, handler in functions(sam).items():
            lazy = lazy_imports(packages["trimmed"], handler)
            module = handler.rpartition(".")[0]
            row = {"function": name, "handler": handler, "lazy": lazy}
            for kind in ("trimmed", "untrimmed"):
                cases[f"{name}:{kind}"] = (name, [packages[kind], runtime], [module, *lazy])
            cases[f"{name}:app"] = (name, [packages["trimmed"], runtime], ["app", *lazy])
            rows.append(row)
        samples: dict[str, list[tuple[float, float]]] = {key: [] for key in cases}
        first_publish: dict[str, list[tuple[float, float, float]]] = {
            row["function"]: [] for row in rows if publishes(sam, row["function"])
        }
        for _ in range(runs):  # interleaved, so drift in machine load hits every case alike
            for key, (_, paths, modules) in cases.items():
                samples[key].append(time_import(paths, modules, tmp_path))
            for name, timings in first_publish.items():
                _, paths, modules = cases[f"{name}:trimmed"]
                timings.append(time_first_publish(paths, modules, tmp_path))
    wall = {key: statistics.median(w for w, _ in values) for key, values in samples.items()}
    cpu = {key: statistics.median(c for _, c in values) for key, values in samples.items()}
    for row in rows:
        name = row["function"]
        for kind in ("trimmed", "untrimmed", "app"):
            key = f"{name}:{kind}"
            row[f"{kind}_ms"] = round(wall[key] * 1000, 1)
            row[f"{kind}_ratio"] = round(wall[key] / wall["boto3"], 2)
            row[f"{kind}_cpu_ratio"] = round(cpu[key] / cpu["boto3"], 2)
    for row in rows:
        timings = first_publish.get(row["function"])
        if timings:
            dynamodb, events, fresh = (statistics.median(t[k] for t in timings) for k in range(3))
            row["first_publish"] = {
                "dynamodb_client_ms": round(dynamodb * 1000, 1),
                "events_client_ms": round(events * 1000, 1),
                "events_client_ratio": round(events / wall["boto3"], 3),
                "boto3_events_client_ms": round(fresh * 1000, 1),
                "boto3_events_client_ratio": round(fresh / wall["boto3"], 3),
            }
    api = next((r for r in rows if r["handler"] == "app.app"), None)
    return {
        "runs": runs,
        "python": sys.version.split()[0],
        "package": {
            "untrimmed_bytes": report["untrimmed_bytes"],
            "trimmed_bytes": report["trimmed_bytes"],
            "ratio": round(report["trimmed_bytes"] / report["untrimmed_bytes"], 3),
            "pyc_files": report["pyc_files"],
            "removed": report["removed"],
        },
        "boto3_ms": round(wall["boto3"] * 1000, 1),
        "boto3_cpu_ms": round(cpu["boto3"] * 1000, 1),
        "functions": rows,
        "api_goal": API_GOAL,
        "api_ratio": api["trimmed_ratio"] if api else None,
        "api_cpu_ratio": api["trimmed_cpu_ratio"] if api else None,
        "api_within_goal": bool(api and api["trimmed_ratio"] <= API_GOAL),
    }


def print_table(result: dict) -> None:
    pkg = result["package"]
    print(
        f"package: {pkg['untrimmed_bytes']:,} bytes untrimmed -> {pkg['trimmed_bytes']:,} bytes trimmed "
        f"({pkg['ratio']:.1%}); {pkg['pyc_files']} .pyc"
    )
    print(
        f"import boto3 (simulated Lambda runtime): {result['boto3_ms']} ms wall, {result['boto3_cpu_ms']} ms CPU; "
        f"medians of {result['runs']} fresh interpreters. Ratios: x import boto3 (wall, CPU in brackets)."
    )
    header = (
        "function",
        "imports at cold start",
        "trimmed ms",
        "ratio",
        "untrimmed ms",
        "ratio",
        "app+lazy ms",
        "ratio",
    )
    lines = [header]
    for row in result["functions"]:
        imports = " + ".join([row["handler"].rpartition(".")[0], *row["lazy"]])
        lines.append(
            (
                row["function"],
                imports,
                f"{row['trimmed_ms']}",
                f"{row['trimmed_ratio']} ({row['trimmed_cpu_ratio']})",
                f"{row['untrimmed_ms']}",
                f"{row['untrimmed_ratio']} ({row['untrimmed_cpu_ratio']})",
                f"{row['app_ms']}",
                f"{row['app_ratio']} ({row['app_cpu_ratio']})",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = zip(line, widths, strict=True)
        print("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(cells)))
    publishing = [row for row in result["functions"] if row.get("first_publish")]
    if publishing:
        print(
            "first publish to the event bus (after the cold-start imports and the DynamoDB client): the events "
            "client, x import boto3 (as boto3.client would make it, in brackets)"
        )
        for row in publishing:
            fp = row["first_publish"]
            print(
                f"  {row['function']}: {fp['events_client_ms']} ms = {fp['events_client_ratio']} "
                f"({fp['boto3_events_client_ms']} ms = {fp['boto3_events_client_ratio']})"
            )
    verdict = "within" if result["api_within_goal"] else "ABOVE"
    print(
        f"API function: {result['api_ratio']} x import boto3 wall ({result['api_cpu_ratio']} CPU), "
        f"{verdict} the goal of {result['api_goal']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    if not (args.dist / "package-report.json").exists():
        print(f"{args.dist}/package-report.json is missing: run `make package` first", file=sys.stderr)
        return 2
    result = bench(args.dist, args.runs)
    print_table(result)
    (args.dist / "bench-package.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
