"""Footprint benchmark: how fast the command line starts, how much memory a running bot takes.

Start-up: the wall time of `echtzeit --help` and of `echtzeit cmd help` (the light commands),
each run --runs times in turn with `python -c "import typer"` (the one import the command line
needs at start, measured in the same run as the yardstick); median, min and max, and the ratio
to the yardstick taken pair by pair. Each child's peak RSS comes from the kernel (wait4).

Memory: the peak RSS of a headless `echtzeit run`: standard input /dev/null, SQLite in a
temporary data directory, --brands brands (the bundled sample's three and generated ones, each
with a query and a console route, written through bot.store before the start), the bundled
replay at ECHTZEIT_REPLAY_SPEED=0, /healthz on ECHTZEIT_HTTP_PORT, and every network configured
against a local port where nothing listens, so that their clients and sources are built (and
fail politely). VmHWM is read from /proc/PID/status until the replay is played, its cards are
relayed and /healthz answers 200; then SIGTERM, and the kernel's figure at exit is kept too.
Beside it, as the run's yardstick, the peak RSS of importing what `echtzeit run` imports.

Goals (issue 12): start-up under 0.5 s, peak RSS of the run under 250 MB. The last line printed
is one JSON object with every figure.

    python bench/footprint.py [--runs 7] [--brands 1000] [--timeout 300] [--no-run]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STARTUP_GOAL_S = 0.5
RSS_GOAL_MB = 250.0
SAMPLE = ROOT / "integrations" / "networks" / "replay_data" / "sample.jsonl"
BRANDS = ROOT / "integrations" / "networks" / "replay_data" / "brands.json"
# What `echtzeit run` imports before it does anything (the yardstick of the run's memory).
RUN_IMPORTS = "import echtzeit.cli, echtzeit.wiring, echtzeit.runtime"

# --- processes ----------------------------------------------------------------------------


def echtzeit_command() -> list[str]:
    """The installed `echtzeit` script beside this Python (a venv's bin/), else on PATH."""
    beside = Path(sys.executable).with_name("echtzeit")
    found = str(beside) if beside.exists() else shutil.which("echtzeit")
    if found is None:
        raise SystemExit("no `echtzeit` command: pip install -e . first")
    return [found]


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This environment without any ECHTZEIT_ setting of the caller, in a data dir of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECHTZEIT_")}
    env.update(ECHTZEIT_DATA_DIR=str(data_dir), ECHTZEIT_LOG_LEVEL="WARNING",
               PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def own_hwm_mb() -> float:
    """This process's peak RSS. A child's peak as the kernel counts it (wait4) includes the
    copy of its parent it started as, so it cannot read below this floor."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(argv: Sequence[str], *, env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, exit status) of one run of `argv`."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, child.returncode


def spread(values: Sequence[float], digits: int = 3) -> dict[str, float]:
    return {"median": round(statistics.median(values), digits),
            "min": round(min(values), digits), "max": round(max(values), digits)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- start-up -----------------------------------------------------------------------------


def startup(runs: int, tmp: Path) -> dict[str, Any]:
    echtzeit = echtzeit_command()
    commands = {
        "python -c 'import typer'": [sys.executable, "-c", "import typer"],
        "echtzeit --help": [*echtzeit, "--help"],
        "echtzeit cmd help": [*echtzeit, "cmd", "help"],
    }
    env = clean_env(tmp / "startup")
    walls: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    codes: dict[str, set[int]] = {name: set() for name in commands}
    for round_ in range(runs + 1):  # the first round warms the page cache and is not counted
        for name, argv in commands.items():
            wall, peak, code = timed(argv, env=env, cwd=tmp)
            if round_:
                walls[name].append(wall)
                peaks[name].append(peak)
                codes[name].add(code)
    base = "python -c 'import typer'"
    floor = own_hwm_mb()
    out: dict[str, Any] = {"runs": runs, "goal_s": STARTUP_GOAL_S,
                           "peak_rss_floor_mb": round(floor, 1)}
    print(f"start-up, wall seconds over {runs} runs (median [min-max]); x = ratio to "
          f"`python -c 'import typer'`, pair by pair; peak RSS from the kernel (it cannot read "
          f"below this process's own {floor:.1f} MB)")
    for name in commands:
        figure = {"wall_s": spread(walls[name]), "peak_rss_mb": spread(peaks[name], 1),
                  "exit": sorted(codes[name])}
        line = (f"  {name:26} {figure['wall_s']['median']:6.3f} s "
                f"[{figure['wall_s']['min']:.3f}-{figure['wall_s']['max']:.3f}]")
        if name != base:
            ratios = [a / b for a, b in zip(walls[name], walls[base], strict=True)]
            figure["ratio_to_typer"] = spread(ratios, 2)
            figure["goal_met"] = (figure["wall_s"]["median"] < STARTUP_GOAL_S
                                  and codes[name] == {0})
            line += (f"  x{figure['ratio_to_typer']['median']:.2f}  "
                     f"goal < {STARTUP_GOAL_S} s: {'ok' if figure['goal_met'] else 'NOT MET'}")
        line += f"  peak {figure['peak_rss_mb']['median']:.1f} MB"
        if codes[name] != {0}:
            line += f"  (exit {', '.join(map(str, sorted(codes[name])))}: the figure is void)"
        print(line)
        out[name] = figure
    return out


# --- the running bot ----------------------------------------------------------------------


def seed_database(url: str, brands: int, seed: int = 7) -> None:
    """The bundled sample's brands (the replay matches them) and generated ones up to `brands`,
    each with a query and a console route, as an admin would have set them up."""
    # The workload of bench/ingest.py (imported here, not at the top: this process must stay
    # small, its own peak is the floor of what the kernel reports for its children).
    from ingest import SYLLABLES, brand_query

    from bot import db
    from bot.store import Store

    db.upgrade(url)
    store = Store.from_url(url)
    try:
        wanted = [(b["name"], b["query"], b["channel"])
                  for b in json.loads(BRANDS.read_text(encoding="utf-8"))["brands"]][:brands]
        rng = random.Random(seed)
        names = {name for name, _, _ in wanted}
        while len(wanted) < brands:
            name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(3, 5)))
            if name not in names:
                names.add(name)
                wanted.append((name, brand_query(rng, name), f"c-{name}"))
        for name, query, channel in wanted:
            store.add_brand(name=name, query=query, actor="bench")
            store.add_route(brand=name, platform="console", channel=channel, actor="bench")
    finally:
        store.close()


def network_settings(dead: str) -> dict[str, str]:
    """Every network on, each against `dead` (a local port where nothing listens)."""
    ws = dead.replace("http://", "ws://")
    return {
        "ECHTZEIT_MASTODON_BASE_URL": dead, "ECHTZEIT_MASTODON_ACCESS_TOKEN": "bench",
        "ECHTZEIT_MASTODON_HASHTAGS": "acme",
        "ECHTZEIT_BLUESKY_SERVICE_URL": dead, "ECHTZEIT_BLUESKY_HANDLE": "bench.example",
        "ECHTZEIT_BLUESKY_APP_PASSWORD": "bench", "ECHTZEIT_BLUESKY_JETSTREAM_URL": ws,
        "ECHTZEIT_BLUESKY_PUBLIC_API_URL": dead,
        "ECHTZEIT_REDDIT_CLIENT_ID": "bench", "ECHTZEIT_REDDIT_CLIENT_SECRET": "bench",
        "ECHTZEIT_REDDIT_USER_AGENT": "bench:echtzeit:0 (by /u/bench)",
        "ECHTZEIT_REDDIT_API_URL": dead, "ECHTZEIT_REDDIT_AUTH_URL": dead,
        "ECHTZEIT_HACKERNEWS_ENABLED": "true", "ECHTZEIT_HACKERNEWS_API_URL": dead,
        "ECHTZEIT_RSS_FEEDS": f"{dead}/feed.xml",
        "ECHTZEIT_X_BEARER_TOKEN": "bench", "ECHTZEIT_X_API_URL": dead,
        "ECHTZEIT_GITHUB_TOKEN": "bench", "ECHTZEIT_GITHUB_API_URL": dead,
        "ECHTZEIT_YOUTUBE_API_KEY": "bench", "ECHTZEIT_YOUTUBE_CHANNEL_ID": "UCbench",
        "ECHTZEIT_YOUTUBE_API_URL": dead,
        "ECHTZEIT_FACEBOOK_PAGE_ID": "1", "ECHTZEIT_FACEBOOK_PAGE_TOKEN": "bench",
        "ECHTZEIT_INSTAGRAM_USER_ID": "1", "ECHTZEIT_INSTAGRAM_TOKEN": "bench",
        "ECHTZEIT_GRAPH_API_URL": dead,
        "ECHTZEIT_META_APP_SECRET": "bench", "ECHTZEIT_META_VERIFY_TOKEN": "bench",
        "ECHTZEIT_WEBHOOK_SECRET": "bench", "ECHTZEIT_WEBHOOK_PORT": str(free_port()),
        "ECHTZEIT_LEMMY_BASE_URL": dead, "ECHTZEIT_LEMMY_USERNAME": "bench",
        "ECHTZEIT_LEMMY_PASSWORD": "bench", "ECHTZEIT_LEMMY_COMMUNITIES": "acme",
    }


def tree_hwm_mb(pid: int) -> tuple[float | None, float | None, int]:
    """(largest VmHWM, sum of VmRSS) in MB over `pid` and its descendants, and how many."""
    peak: float | None = None
    rss = 0.0
    count = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if "VmHWM" in fields:
            hwm = int(fields["VmHWM"].split()[0]) / 1024
            peak = hwm if peak is None else max(peak, hwm)
            rss += int(fields["VmRSS"].split()[0]) / 1024
            count += 1
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in task.read_text().split())
    return peak, (rss if count else None), count


def healthz(port: int) -> tuple[int | None, dict[str, Any]]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        return exc.code, body
    except (OSError, ValueError):
        return None, {}


def replay_cursor(db_file: Path) -> int:
    """How many posts the replay has handed out and the store keeps (its saved cursor)."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True,
                                                timeout=1)) as conn:
            row = conn.execute("SELECT cursor FROM source_cursor WHERE source LIKE 'replay:%'"
                               ).fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row and str(row[0]).isdigit() else 0


def count(db_file: Path, table: str) -> int | None:
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    except sqlite3.Error:
        return None


def run_bot(brands: int, timeout: float, tmp: Path) -> dict[str, Any]:
    data = tmp / "run"
    data.mkdir()
    db_file = data / "echtzeit.db"
    url = f"sqlite:///{db_file}"
    posts = sum(1 for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip())
    t0 = time.perf_counter()
    seed_database(url, brands)
    seeding = time.perf_counter() - t0
    port = free_port()
    dead = f"http://127.0.0.1:{free_port()}"  # bound once, now closed: connection refused
    env = clean_env(data, ECHTZEIT_DATABASE_URL=url, ECHTZEIT_HTTP_PORT=str(port),
                    ECHTZEIT_REPLAY_FILE=str(SAMPLE), ECHTZEIT_REPLAY_SPEED="0",
                    **network_settings(dead))
    _, floor_mb, floor_code = timed([sys.executable, "-c", RUN_IMPORTS], env=env, cwd=tmp)
    log = (tmp / "run.log").open("wb")
    start = time.perf_counter()
    child = subprocess.Popen([*echtzeit_command(), "run"], env=env, cwd=tmp,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                             start_new_session=True)
    peak: float | None = None
    at_ready: float | None = None
    ready_s: float | None = None
    last: tuple[int | None, dict[str, Any]] = (None, {})
    processes = 1
    try:
        next_health = 0.0
        while time.perf_counter() - start < timeout and child.poll() is None:
            hwm, rss, processes = tree_hwm_mb(child.pid)
            if hwm is not None:
                peak = max(peak or 0.0, hwm)
            now = time.perf_counter()
            if now >= next_health:
                next_health = now + 0.25
                last = healthz(port)
                code, body = last
                services = body.get("services") or {}
                replay_done = any("replay" in name and s.get("state") == "done"
                                  for name, s in services.items())
                played = replay_done or replay_cursor(db_file) >= posts
                if code == 200 and played and body.get("outbox") == 0:
                    ready_s, at_ready = now - start, rss
                    break
            time.sleep(0.05)
        hwm, _, _ = tree_hwm_mb(child.pid)
        if hwm is not None:
            peak = max(peak or 0.0, hwm)
    finally:
        stopping = time.perf_counter()
        exit_code, exit_peak = (terminate(child, 15) if child.poll() is None
                                else (child.returncode, None))
        stopped_s = time.perf_counter() - stopping
        log.close()
    figures: dict[str, Any] = {
        "brands": brands, "replay_posts": posts, "seed_s": round(seeding, 1),
        "ready": ready_s is not None,
        "ready_s": round(ready_s, 2) if ready_s is not None else None,
        "peak_rss_mb": round(peak, 1) if peak is not None else None,
        "rss_at_ready_mb": round(at_ready, 1) if at_ready is not None else None,
        "peak_rss_at_exit_mb": round(exit_peak, 1) if exit_peak is not None else None,
        "processes": processes,
        "import_floor_mb": round(floor_mb, 1) if floor_code == 0 else None,
        "mentions": count(db_file, "mention"), "stop_s": round(stopped_s, 2),
        "exit": exit_code, "healthz": last[0], "goal_mb": RSS_GOAL_MB,
    }
    figures["goal_met"] = bool(figures["ready"] and peak is not None and peak < RSS_GOAL_MB)
    print(f"echtzeit run: {brands} brands, the bundled replay ({posts} posts) at speed 0, "
          f"every network against {dead} (nothing listens)")
    if figures["import_floor_mb"] is not None:
        print(f"  yardstick: python -c '{RUN_IMPORTS}'   peak {figures['import_floor_mb']} MB")
    if ready_s is None:
        tail = (tmp / "run.log").read_text(errors="replace").strip().splitlines()[-8:]
        print(f"  NOT READY within {timeout:.0f} s (healthz {last[0]}, {last[1]}); exit "
              f"{exit_code}; the run's last lines:")
        for line in tail:
            print(f"    {line}")
    else:
        ratio = (f" (x{peak / figures['import_floor_mb']:.2f} the yardstick)"
                 if peak and figures["import_floor_mb"] else "")
        print(f"  ready after {ready_s:.1f} s: replay played, {figures['mentions']} mentions "
              f"stored, outbox empty, /healthz 200")
        print(f"  peak RSS {peak:.1f} MB{ratio}, RSS at ready {at_ready or 0:.1f} MB, at exit "
              f"{figures['peak_rss_at_exit_mb']} MB; goal < {RSS_GOAL_MB:.0f} MB: "
              f"{'ok' if figures['goal_met'] else 'NOT MET'}")
        print(f"  stopped {stopped_s:.2f} s after SIGTERM, exit {exit_code}")
    return figures


def terminate(child: subprocess.Popen[bytes], seconds: float) -> tuple[int | None, float | None]:
    """SIGTERM; then (exit status, peak RSS in MB from the kernel), or SIGKILL after
    `seconds` (and no peak)."""
    child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # WNOWAIT: look without reaping, so that wait4 below gets the child's resource usage.
        if os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            return child.returncode, usage.ru_maxrss / 1024
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    return child.returncode, None


def measure(*, runs: int = 7, brands: int = 1000, timeout: float = 300.0,
            startup_runs: bool = True, bot_run: bool = True) -> dict[str, Any]:
    """Run the benchmark; the figures as a dict ("startup", "run"), as the last line prints."""
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="echtzeit-footprint-") as name:
        tmp = Path(name)
        if startup_runs:
            figures["startup"] = startup(runs, tmp)
        if bot_run:
            figures["run"] = run_bot(brands, timeout, tmp)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="start-up runs of each command")
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds the run may take to be ready")
    parser.add_argument("--no-startup", action="store_true")
    parser.add_argument("--no-run", action="store_true")
    args = parser.parse_args()
    figures = measure(runs=args.runs, brands=args.brands, timeout=args.timeout,
                      startup_runs=not args.no_startup, bot_run=not args.no_run)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
