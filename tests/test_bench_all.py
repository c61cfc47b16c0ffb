"""`python bench/all.py --quick`: CI's smoke run of every benchmark, one table, one JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = {"match", "ingest", "digest", "relay", "footprint"}


@pytest.mark.postgres
def test_quick_run_prints_one_table_and_a_json_line() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "all.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1])  # the last line is one JSON object
    assert summary["mode"] == "quick"
    if (ROOT / "bench" / "triage.py").exists():
        EXPECTED.add("triage")
    assert set(summary["figures"]) == EXPECTED
    assert not [name for name, f in summary["figures"].items() if "error" in f]
    assert {r["bench"] for r in summary["rows"]} == EXPECTED
    # The table: a header, a rule, then one line per row, every goal judged or marked none.
    table = [line for line in lines[:-1] if line.startswith("| ")]
    header = [c.strip() for c in table[0].strip("|").split("|")]
    assert header == ["bench", "figure", "measured", "goal", "baseline (same run)", "ratio",
                      "pass"]
    assert set(table[1]) <= {"|", "-", " "}
    body = [[c.strip() for c in line.strip("|").split("|")] for line in table[2:]]
    assert len(body) == len(summary["rows"])
    assert all(len(cells) == len(header) for cells in body)
    assert {cells[-1] for cells in body} <= {"pass", "FAIL", "-"}
    for cells, row in zip(body, summary["rows"], strict=True):
        assert cells[0] == row["bench"]
        assert cells[-1] == ("-" if row["ok"] is None else "pass" if row["ok"] else "FAIL")
    # Each bench's own figures came back through its measure() function, not its stdout.
    figures = summary["figures"]
    assert figures["ingest"]["sqlite"]["duplicates"] > 0  # redeliveries are in the stream
    assert figures["ingest"]["postgresql"]["stored"] == figures["ingest"]["sqlite"]["stored"]
    assert figures["match"]["reference_mismatches"] == 0
    assert figures["relay"]["hot_achieved_per_s"] > 0
