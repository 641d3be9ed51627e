"""The one list of emitted metrics agrees with the README's table and with the names the code emits."""

from __future__ import annotations

import re
from pathlib import Path

from chalicelib.ops.metric_names import BY_NAME, METRICS

ROOT = Path(__file__).resolve().parents[2]


def _readme_rows() -> dict[str, tuple[str, tuple[str, ...], str, str]]:
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"`[A-Za-z]+`", cells[0]) and cells[1] in ("Count", "None"):
            dims = tuple(d.strip(" `") for d in cells[2].split(","))
            rows[cells[0].strip("`")] = (cells[1], dims, cells[3].strip("`"), cells[4])
    return rows


def test_the_readme_table_lists_every_metric_as_defined():
    expected = {m.name: (m.unit, ("service", *m.dimensions), m.emitted_by, m.meaning) for m in METRICS}
    assert _readme_rows() == expected


def test_every_counter_the_stream_and_sweep_emit_is_defined():
    code = "\n".join(
        (ROOT / "chalicelib" / "events" / name).read_text() for name in ("processing.py", "sweep.py", "monthly_job.py")
    )
    emitted = set(re.findall(r'counts\[\("([A-Za-z]+)"', code))
    emitted |= set(re.findall(r'\(\("(Tasks[A-Za-z]+)", ', code))
    emitted |= set(re.findall(r'^\s+"([A-Z][A-Za-z]+)": document\[', code, re.MULTILINE))
    assert {"TaskWriteFailures", "HandlerFailures", "TasksEscalated", "MonthlyNps"} <= emitted
    assert emitted - set(BY_NAME) == set()
