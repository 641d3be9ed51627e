"""The deployment zip as Lambda should get it: without what the Python runtime already provides, and with
bytecode for every module."""

from __future__ import annotations

import compileall
import py_compile
import re
import sys
import tempfile
import zipfile
from pathlib import Path


class ZipError(RuntimeError):
    pass


# The Lambda Python runtime ships boto3 and botocore with their dependencies. Chalice bundles a second copy
# (pynamodb requires botocore), which is most of the zip and is imported from an uncompiled package on every
# cold start. Dropping it trades pinning for speed: the functions then run on the runtime's botocore, which AWS
# updates on its own schedule (PynamoDB only needs botocore's long-stable DynamoDB client). Pin it back with a
# layer if a change in botocore ever matters.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
RUNTIME_DISTRIBUTIONS = {"boto3", "botocore", "s3transfer", "jmespath", "python_dateutil", "urllib3", "six"}


def _distribution(top: str) -> str | None:
    """The normalised project name of a .dist-info/.data directory, else None."""
    match = re.fullmatch(r"(.+?)-[^-]+\.(dist-info|data)", top)
    return match.group(1).lower().replace("-", "_").replace(".", "_") if match else None


def dropped(name: str) -> bool:
    top = name.split("/", 1)[0]
    return top.removesuffix(".py") in RUNTIME_PROVIDED or _distribution(top) in RUNTIME_DISTRIBUTIONS


def trim(zip_path: Path, runtime: str) -> dict:
    """Rewrite the deployment zip: without what the runtime provides, and with
    bytecode for every module (Lambda's /var/task is read-only, so without it every cold start compiles).

    The .py files stay, for readable tracebacks; each gets __pycache__/<name>.cpython-3XX.pyc in unchecked-hash
    mode: used as is, without comparing the source's mtime, which a zip (2-second DOS times) does not keep.
    """
    ours = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != ours or sys.flags.optimize:
        raise ZipError(f"bytecode for {runtime} must be compiled by that Python without -O (this is {ours})")
    before = zip_path.stat().st_size
    removed: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        with zipfile.ZipFile(zip_path) as source:
            kept = []
            for info in source.infolist():
                if dropped(info.filename):
                    removed.add(info.filename.split("/", 1)[0])
                    continue
                source.extract(info, tree)
                kept.append(info)
        ok = compileall.compile_dir(
            tree,
            quiet=2,
            ddir="/var/task",
            workers=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not ok:
            raise ZipError("some modules of the package do not compile")
        pycs = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("__pycache__/*.pyc"))
        if not pycs:
            raise ZipError("compileall wrote no bytecode")
        tmp_zip = zip_path.with_suffix(".trimming")
        with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
            for info in kept:
                target.writestr(info, (tree / info.filename).read_bytes() if not info.is_dir() else b"")
            for rel in pycs:
                info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, (tree / rel).read_bytes())
        tmp_zip.replace(zip_path)
    return {
        "untrimmed_bytes": before,
        "trimmed_bytes": zip_path.stat().st_size,
        "removed": sorted(removed),
        "pyc_files": len(pycs),
        "runtime": runtime,
        "cache_tag": sys.implementation.cache_tag,
    }
