"""Every benchmark in one run, and one table: figure, goal, baseline, ratio, pass or fail.

    python bench/all.py            # full: the figures the docs point at (about 10 minutes)
    python bench/all.py --quick    # CI's smoke run: small sizes, every bench, well under a minute
    python bench/all.py --only match,ingest

Runs, in this order, each through the function its script exposes (no output is scraped):
footprint (bench/footprint.py; first, while this process is small: its children's peak RSS
counts the pages of the process they fork from), match (bench/match.py `measure`), ingest on
SQLite and PostgreSQL (bench/ingest.py), digest on both (bench/digest.py), relay
(bench/relay.py), and triage when
bench/triage.py exists (its `measure(quick: bool) -> dict`; rows from its `table_rows(figures)`
if it has one, else one row saying it ran). PostgreSQL is a throwaway cluster
(testkit/pgcluster.py).

Every goal is judged on WALL time. A baseline is measured in the same run: the fastest raw
multi-pattern scan for the engine, matching alone for ingest, the cold build for the digest,
Slack's per-channel limit for the relay, `python -c "import typer"` for start-up. In quick mode
the sizes are far below the goals' (100 brands, a few thousand posts): its pass/fail column says
whether the small run met the goal, which is no claim about the full one.

The benchmarks' own progress goes to standard error; standard output gets the table, then
one line that is one JSON object: {"mode", "commit", "machine", "rows": [...], "figures": {...},
"passed", "failed"}.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

# Footprint first: its children's peak RSS comes from the kernel (wait4), and a child forked
# from this process once the other benches have grown it counts their pages until its exec.
NAMES = ("footprint", "match", "ingest", "digest", "relay", "triage")


@dataclass
class Row:
    """One line of the table."""

    bench: str
    figure: str
    value: float | int | str | None
    unit: str = ""
    goal: str = ""
    baseline: str = ""
    ratio: float | None = None
    ok: bool | None = None  # None: a figure with no goal


def _fmt(value: float | int | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 100):
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"


def _at_least(value: float | None, goal: float) -> bool | None:
    return None if value is None else value >= goal


def _at_most(value: float | None, goal: float) -> bool | None:
    return None if value is None else value <= goal


# --- each benchmark: its run and its rows ---------------------------------------------------


def run_match(quick: bool) -> dict[str, Any]:
    import match

    if quick:
        return match.measure(queries=1000, posts=4000, regex_sample=20, rounds=1)
    return match.measure(queries=10_000, posts=100_000, regex_sample=100, rounds=3)


def rows_match(f: dict[str, Any]) -> list[Row]:
    many, fastest = f["posts_per_s_engine_many"], f["posts_per_s_fastest_raw"]
    raw = f"{f['fastest_raw'].removeprefix('raw_')} {fastest:,}/s"
    q = f"{f['queries']:,} queries"
    return [
        Row("match", f"engine posts/s per core ({q}, {f['scanner']})", many, "posts/s",
            ">= 400,000", raw, round(many / fastest, 3), _at_least(many, 400_000)),
        Row("match", "engine / fastest raw scan, same run", round(many / fastest, 3), "x",
            ">= 0.5", raw, round(many / fastest, 3), _at_least(many / fastest, 0.5)),
        Row("match", f"build, {q}", f["build_s"], "s", "<= 2 s",
            f"pyahocorasick {f['build_s_portable']} s", None, _at_most(f["build_s"], 2.0)),
        Row("match", f"engine vs per-query regex (same {f['regex_sample']} posts, same tries)",
            f["posts_per_s_engine_many_on_regex_sample"], "posts/s", "",
            f"regex {f['posts_per_s_regex']:,}/s", f["ratio_many_regex"], None),
        Row("match", f"same results as the reference evaluator ({f['posts']:,} posts)",
            f["reference_mismatches"], "differ", "0",
            f"{f['posts_matched']:,} posts match", None,
            f["reference_mismatches"] == 0 and f["scanners_agree"]
            and f["regex_agrees_with_engine"]),
    ]


_PG: list[Any] = []  # the one PostgreSQL cluster of the run, started on first use


def _pg() -> Any:
    if not _PG:
        from testkit.pgcluster import PgCluster

        cluster = PgCluster()
        cluster.__enter__()
        _PG.append(cluster)
    return _PG[0]


def run_ingest(quick: bool) -> dict[str, Any]:
    import ingest

    if quick:
        return ingest.measure(posts=4000, brands=100, batch=1000, pg=_pg())
    return ingest.measure(posts=200_000, brands=1000, batch=2000, pg=_pg())


def rows_ingest(f: dict[str, Any]) -> list[Row]:
    rows = []
    for key, name, goal in (("sqlite", "SQLite", f["goal_posts_per_s_sqlite"]),
                            ("postgresql", "PostgreSQL", f["goal_posts_per_s_postgresql"])):
        if key not in f:
            continue
        g = f[key]
        rows.append(Row(
            "ingest", f"{name} posts/s wall ({f['brands']:,} brands, {g['stored']:,} stored, "
            f"{g['duplicates']:,} duplicates, {g['echoes']:,} reposts)", g["posts_per_s"],
            "posts/s", f">= {goal:,}", f"matching alone {g['match_only_posts_per_s']:,}/s",
            round(g["posts_per_s"] / g["match_only_posts_per_s"], 3),
            _at_least(g["posts_per_s"], goal)))
    return rows


def run_digest(quick: bool) -> dict[str, Any]:
    import digest

    if quick:
        return digest.measure(mentions=20_000, runs=3, pg=_pg())
    return digest.measure(mentions=1_000_000, runs=20, pg=_pg())


def rows_digest(f: dict[str, Any]) -> list[Row]:
    rows = []
    for key, name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        if key not in f:
            continue
        g = f[key]
        rows.append(Row(
            "digest", f"{name} hot median ({f['mentions']:,} mentions, {f['runs']} runs)",
            g["median_ms"], "ms", f"<= {f['goal_ms']} ms", f"cold {g['cold_ms']} ms",
            round(g["median_ms"] / g["cold_ms"], 3) if g["cold_ms"] else None,
            _at_most(g["median_ms"], f["goal_ms"])))
    return rows


def run_relay(quick: bool) -> dict[str, Any]:
    import relay

    if quick:
        return relay.measure(minutes=0.1, rate=4.0, channels=5, burst=0)
    return relay.measure(minutes=1.5, rate=10.0, channels=20, burst=10_000)


def rows_relay(f: dict[str, Any]) -> list[Row]:
    limit = f["limit_per_channel"]
    hot = f["hot_achieved_per_s"]
    over = max(v for ch, v in f["achieved_per_s"].items())
    rows = [
        Row("relay", f"ingest->chat p99, {f['steady_cards']:,} cards "
            f"({f['steady_seconds']} s, shipped pacing)", f["p99_ms"], "ms", "< 1,000 ms",
            f"p50 {f['p50_ms']} ms", None, f["p99_ms"] < 1000
            and f["steady_cards"] == f["steady_mentions"]),
        Row("relay", f"hot channel msgs/s (offered {f['offered_per_s'][f['hot_channel']]}/s), "
            f"p99 {f['hot_p99_ms']} ms", hot, "msg/s", ">= 0.95 x limit, no 429",
            f"Slack limit {limit}/s", round(hot / limit, 3),
            hot >= 0.95 * limit and over <= limit * 1.05 and f.get("http_429", 0) == 0),
        Row("relay", "fake Slack: 429 answers and broken rules", f["http_429"]
            + f["slack_violations"], "", "0", "", None,
            f["http_429"] == 0 and f["slack_violations"] == 0),
    ]
    if "burst_mentions" in f:
        rows += [
            Row("relay", f"burst: {f['burst_mentions']:,} mentions in one channel, stored",
                f["burst_stored"], "mentions", "all", f"{f['burst_channel_messages']} messages "
                f"to the channel", None, f["burst_stored"] == f["burst_mentions"]),
            Row("relay", "slash-command ack p99 during the burst", f["slash_ack_p99_ms"], "ms",
                "< 200 ms", f"p50 {f['slash_ack_p50_ms']} ms", None,
                f["slash_ack_p99_ms"] < 200),
        ]
    return rows


def run_footprint(quick: bool) -> dict[str, Any]:
    import footprint

    if quick:
        return footprint.measure(runs=1, brands=20, timeout=60)
    return footprint.measure(runs=7, brands=1000, timeout=300)


def rows_footprint(f: dict[str, Any]) -> list[Row]:
    rows = []
    start = f.get("startup", {})
    base = start.get("python -c 'import typer'")
    for name in ("echtzeit --help", "echtzeit cmd help"):
        if name in start:
            g = start[name]
            rows.append(Row(
                "footprint", f"`{name}` wall, median of {start['runs']}",
                g["wall_s"]["median"], "s", f"< {start['goal_s']} s",
                f"import typer {base['wall_s']['median']} s" if base else "",
                g.get("ratio_to_typer", {}).get("median"), g.get("goal_met")))
    run = f.get("run")
    if run:
        rows.append(Row(
            "footprint", f"`echtzeit run` peak RSS ({run['brands']:,} brands)",
            run["peak_rss_mb"], "MB", f"< {run['goal_mb']:.0f} MB",
            f"imports {run['import_floor_mb']} MB",
            round(run["peak_rss_mb"] / run["import_floor_mb"], 2)
            if run["peak_rss_mb"] and run["import_floor_mb"] else None, run["goal_met"]))
        rows.append(Row("footprint", "SIGTERM to exit", run["stop_s"], "s", "< 10 s, exit 0",
                        "", None, run["exit"] == 0 and run["stop_s"] < 10))
    return rows


def run_triage(quick: bool) -> dict[str, Any]:
    triage = importlib.import_module("triage")
    result: dict[str, Any] = triage.measure(quick=quick)
    return result


def rows_triage(f: dict[str, Any]) -> list[Row]:
    triage = importlib.import_module("triage")
    table_rows = getattr(triage, "table_rows", None)
    if table_rows is None:
        return [Row("triage", "bench/triage.py ran (no table_rows: see the JSON)", "yes")]
    return [r if isinstance(r, Row) else Row(**r) for r in table_rows(f)]


BENCHES: dict[str, tuple[Callable[[bool], dict[str, Any]],
                         Callable[[dict[str, Any]], list[Row]]]] = {
    "footprint": (run_footprint, rows_footprint),
    "match": (run_match, rows_match),
    "ingest": (run_ingest, rows_ingest),
    "digest": (run_digest, rows_digest),
    "relay": (run_relay, rows_relay),
    "triage": (run_triage, rows_triage),
}


# --- the run --------------------------------------------------------------------------------


def table(rows: list[Row]) -> list[str]:
    """The rows as a Markdown table (it reads as plain text too)."""
    head = ("bench", "figure", "measured", "goal", "baseline (same run)", "ratio", "pass")
    body = [(r.bench, r.figure, f"{_fmt(r.value)} {r.unit}".strip(), r.goal or "-",
             r.baseline or "-", _fmt(r.ratio),
             "-" if r.ok is None else ("pass" if r.ok else "FAIL")) for r in rows]
    widths = [max(len(c) for c in col) for col in zip(head, *body, strict=True)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
             for line in (head, *body)]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return lines


def _commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=False)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "") or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: CI's smoke run")
    parser.add_argument("--only", default="", help=f"comma-separated, of: {', '.join(NAMES)}")
    args = parser.parse_args(argv)
    only = [n.strip() for n in args.only.split(",") if n.strip()] or list(NAMES)
    unknown = [n for n in only if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(NAMES)}")
    if "triage" in only and not (BENCH / "triage.py").exists():
        only.remove("triage")
        if args.only:
            print("bench/triage.py does not exist here: triage left out", file=sys.stderr)

    import logging

    logging.basicConfig(level=logging.ERROR)
    mode = "quick" if args.quick else "full"
    rows: list[Row] = []
    figures: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    try:
        for name in only:
            run, to_rows = BENCHES[name]
            print(f"[bench/all.py] {name} ({mode}) ...", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                with contextlib.redirect_stdout(sys.stderr):  # stdout: the table and JSON only
                    figures[name] = run(args.quick)
                rows += to_rows(figures[name])
            except Exception as exc:  # one failing bench must not hide the others' figures
                figures[name] = {"error": f"{type(exc).__name__}: {exc}"}
                rows.append(Row(name, f"did not finish: {type(exc).__name__}: {exc}", None,
                                ok=False))
            seconds[name] = round(time.perf_counter() - t0, 1)
    finally:
        for cluster in _PG:
            cluster.__exit__(None, None, None)
    total = round(time.perf_counter() - started, 1)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    commit = _commit()
    print(f"bench/all.py {mode}, commit {commit}, {total} s, wall time; "
          f"{os.cpu_count()} CPUs, load average at the end "
          f"{', '.join(f'{x:.1f}' for x in load) if load else 'unknown'}")
    for line in table(rows):
        print(line)
    failed = sum(1 for r in rows if r.ok is False)
    print(json.dumps({
        "mode": mode, "commit": commit, "seconds": total, "bench_seconds": seconds,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average": [round(x, 2) for x in load] if load else None,
                    "platform": platform.platform()},
        "rows": [asdict(r) for r in rows], "figures": figures,
        "passed": sum(1 for r in rows if r.ok), "failed": failed,
    }, default=str))
    errors = sum(1 for f in figures.values() if "error" in f)
    # Quick mode checks that every bench runs and reports; its small sizes judge no goal.
    return 1 if errors or (failed and not args.quick) else 0


if __name__ == "__main__":
    raise SystemExit(main())
