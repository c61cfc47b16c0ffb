"""The benchmarks import no test module: what they share with the tests lives in testkit/."""

from __future__ import annotations

import ast
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_benchmark_imports_the_tests() -> None:
    scripts = sorted(BENCH.glob("*.py"))
    assert scripts, "no benchmarks found"
    offending = {p.name: sorted(n for n in _imports(p) if n == "tests" or n.startswith("tests."))
                 for p in scripts}
    assert {k: v for k, v in offending.items() if v} == {}
