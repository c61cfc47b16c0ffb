"""Benchmark: one channel-day digest over a large store, on SQLite and on PostgreSQL.

Builds N mentions (default 1,000,000) and N/10 replies over 90 days for 50 brands, each brand
routed to its own channel, with the events the digest reads (relayed, claimed, replied,
resolved), bulk-loaded (executemany on SQLite, COPY on PostgreSQL), then times
DigestBuilder.build for one channel and one day: the median of 20 runs after one warm-up, in
wall time (the goal figure) and in CPU time of the benchmark's own process (time.process_time;
steadier on a busy machine, and without the server's share on PostgreSQL). Then one COLD
figure, `cold_ms`: the first digest on a new engine and connection, on PostgreSQL after a
server restart (empty shared buffers; the OS page cache stays warm).
PostgreSQL is a throwaway cluster started by testkit.pgcluster.PgCluster.

    python bench/digest.py [--mentions 1000000] [--runs 20] [--no-postgres]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import db  # noqa: E402
from bot.reporting.digest.builder import DigestBuilder  # noqa: E402
from bot.store import Store  # noqa: E402

START = datetime(2026, 8, 1, tzinfo=UTC)
GOAL_MS = 50  # issue 16: median at most 50 ms on both databases (wall time, hot cache)
NETWORKS = ("x", "bluesky", "mastodon", "reddit", "youtube")
SENTIMENTS = ("negative", "neutral", "positive")
MENTION_COLS = ("id", "brand_id", "network", "external_id", "url", "canonical_url", "author_id",
                "text", "text_hash", "language", "sentiment", "sentiment_score", "priority",
                "likes", "reposts", "replies", "in_reply_to", "echoes", "created_at", "seen_at",
                "status", "assignee", "muted")
REPLY_COLS = ("id", "mention_id", "text", "by", "state", "network_reply_id", "url", "error",
              "created_at", "sent_at")
EVENT_COLS = ("kind", "mention_id", "brand_id", "actor", "at", "detail")
AUTHOR_COLS = ("id", "network", "handle", "handle_key", "name", "followers", "first_seen",
               "mentions_count", "answered_count", "muted")


def generate(n: int, *, brands: int, days: int, seed: int = 7,
             ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]],
                        list[tuple[Any, ...]]]:
    """Rows for author, mention, reply, event (datetimes aware, UTC)."""
    rng = random.Random(seed)
    n_authors = max(n // 20, 10)
    authors = [(i, NETWORKS[i % len(NETWORKS)], f"user{i}", f"user{i}", None,
                int(rng.paretovariate(1.2) * 50), START, 1, 0, False)
               for i in range(1, n_authors + 1)]
    span = days * 86_400
    mentions: list[tuple[Any, ...]] = []
    replies: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    reply_every = 10
    staff = ("ana", "ben", "cem", "dora")
    for i in range(1, n + 1):
        bid = (i % brands) + 1
        created = START + timedelta(seconds=rng.random() * span)
        seen = created + timedelta(seconds=rng.randint(5, 120))
        aid = rng.randint(1, n_authors)
        network = authors[aid - 1][1]
        replied = rng.random() < 1 / reply_every  # spread over every brand
        status = "replied" if replied else ("new" if rng.random() < 0.6 else "resolved")
        mentions.append((i, bid, network, f"e{i}", f"https://n.example/{i}",
                         f"https://n.example/{i}", aid, "text", f"h{i}", "en",
                         SENTIMENTS[rng.randrange(3)], 0.0, "normal", rng.randint(0, 50),
                         rng.randint(0, 5), None, None, 0, created, seen, status,
                         staff[i % 4] if replied else None, False))
        relayed = seen + timedelta(seconds=rng.randint(1, 10))
        events.append(("relayed", i, bid, "relay", relayed, "{}"))
        if replied:
            claimed = relayed + timedelta(seconds=rng.randint(30, 1800))
            sent = claimed + timedelta(seconds=rng.randint(60, 1200))
            who = staff[i % 4]
            replies.append((len(replies) + 1, i, "thanks", who, "sent", f"r{i}", None, None,
                            claimed, sent))
            events.append(("claimed", i, bid, who, claimed, "{}"))
            events.append(("replied", i, bid, who, sent, "{}"))
        elif status == "resolved":
            events.append(("resolved", i, bid, staff[i % 4],
                           relayed + timedelta(seconds=rng.randint(60, 7200)), "{}"))
    return authors, mentions, replies, events


def seed_brands(store: Store, brands: int) -> None:
    clock_value = START - timedelta(days=1)
    store.now = lambda: clock_value
    for b in range(brands):
        store.add_brand(name=f"Brand {b + 1}", query=f"brand{b + 1}", actor="bench")
        store.add_route(brand=f"Brand {b + 1}", platform="console", channel=f"care-{b + 1}",
                        actor="bench")


def load_sqlite(store: Store, data: tuple[list[tuple[Any, ...]], ...]) -> None:
    """executemany on the raw sqlite3 connection; datetimes in SQLAlchemy's SQLite format."""
    def fmt(v: Any) -> Any:
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) \
            else v

    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        for table, cols, rows in zip(("author", "mention", "reply", "event"),
                                     (AUTHOR_COLS, MENTION_COLS, REPLY_COLS, EVENT_COLS),
                                     data, strict=True):
            sql = (f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                   f"({', '.join('?' for _ in cols)})")
            # sqlite3 takes any iterable (no copy of a million rows); the DB-API stub says Sequence.
            cur.executemany(sql, ([fmt(v) for v in row] for row in rows))  # type: ignore[arg-type]
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        raw.close()


def load_postgres(store: Store, data: tuple[list[tuple[Any, ...]], ...]) -> None:
    """COPY through psycopg, then the sequences past the loaded ids, then ANALYZE."""
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, cols, rows in zip(("author", "mention", "reply", "event"),
                                     (AUTHOR_COLS, MENTION_COLS, REPLY_COLS, EVENT_COLS),
                                     data, strict=True):
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        for table in ("author", "mention", "reply", "event"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def time_digest(store: Store, *, runs: int, channel: str, day: date) -> dict[str, Any]:
    now = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=7)
    builder = DigestBuilder(store)
    digest = builder.build("console", channel, now=now, day=day)  # warm-up (imports, caches)
    times, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        digest = builder.build("console", channel, now=now, day=day)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "p90_ms":
            round(sorted(times)[int(0.9 * (len(times) - 1))], 1),
            "min_ms": round(min(times), 1),
            # CPU time of this (client) process per digest: steadier than wall time on a busy
            # machine; it leaves out the database server's work (PostgreSQL's own process).
            "cpu_median_ms": round(statistics.median(cpu), 1),
            "cpu_min_ms": round(min(cpu), 1),
            "mentions_in_day": digest.mentions.now, "replies_in_day": digest.replies.now}


def time_cold(url: str, *, channel: str, day: date) -> float:
    """Wall time of the first digest on a new engine and connection (no pooled connection, no
    compiled-statement cache): what the first digest after a restart costs. The caller
    restarts the PostgreSQL server first, so that its shared buffers are empty; the OS page
    cache stays warm (SQLite reads through it on every connection)."""
    now = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=7)
    store = Store.from_url(url)
    try:
        t0 = time.perf_counter()
        DigestBuilder(store).build("console", channel, now=now, day=day)
        return round((time.perf_counter() - t0) * 1000, 1)
    finally:
        store.close()


def bench(url: str, load: Callable[[Store, tuple[list[tuple[Any, ...]], ...]], None],
          data: tuple[list[tuple[Any, ...]], ...], args: argparse.Namespace,
          restart: Callable[[], None] | None = None) -> dict[str, Any]:
    db.upgrade(url)
    store = Store.from_url(url)
    seed_brands(store, args.brands)
    t0 = time.perf_counter()
    load(store, data)
    loaded = time.perf_counter() - t0
    day = (START + timedelta(days=args.days - 10)).date()
    result = time_digest(store, runs=args.runs, channel="care-1", day=day)
    store.close()
    # Measured after the hot runs, so that the hot figures are taken as before.
    if restart is not None:
        restart()
    cold = time_cold(url, channel="care-1", day=day)
    return {"load_s": round(loaded, 1), **result, "cold_ms": cold}


def measure(*, mentions: int = 1_000_000, brands: int = 50, days: int = 90, runs: int = 20,
            postgres: bool = True, verbose: bool = False, pg: Any = None) -> dict[str, Any]:
    """Run the benchmark; the figures as a dict (what the last printed line holds).
    `pg`: a running testkit.pgcluster.PgCluster to use (else one is started)."""
    from bot.networks import install_networks
    from integrations.networks.specs import SPECS

    install_networks(SPECS)  # the list of networks the core reads, as `echtzeit` installs it
    args = argparse.Namespace(mentions=mentions, brands=brands, days=days, runs=runs)
    t0 = time.perf_counter()
    data = generate(mentions, brands=brands, days=days)
    if verbose:
        print(f"generated {len(data[1])} mentions, {len(data[2])} replies, {len(data[3])} "
              f"events in {time.perf_counter() - t0:.1f}s", flush=True)
    out: dict[str, Any] = {"mentions": len(data[1]), "replies": len(data[2]),
                           "events": len(data[3]), "brands": brands, "days": days,
                           "runs": runs}
    with tempfile.TemporaryDirectory(prefix="echtzeit-bench-") as tmp:
        out["sqlite"] = bench(f"sqlite:///{tmp}/bench.db", load_sqlite, data, args)
        if verbose:
            print(f"sqlite: {out['sqlite']}", flush=True)
    if postgres:
        from testkit.pgcluster import PgCluster

        with contextlib.nullcontext(pg) if pg is not None else PgCluster() as cluster:
            out["postgres"] = bench(cluster.create_database("bench_digest"), load_postgres,
                                    data, args, restart=cluster.restart)
            if verbose:
                print(f"postgres: {out['postgres']}", flush=True)
    out["goal_ms"] = GOAL_MS
    out["ok"] = all(out[k]["median_ms"] <= GOAL_MS for k in ("sqlite", "postgres") if k in out)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mentions", type=int, default=1_000_000)
    p.add_argument("--brands", type=int, default=50)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--no-postgres", action="store_true")
    args = p.parse_args(argv)
    out = measure(mentions=args.mentions, brands=args.brands, days=args.days, runs=args.runs,
                  postgres=not args.no_postgres, verbose=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
