"""Ingest benchmark: replayed posts through the whole pipeline into SQLite and PostgreSQL.

1,000 brands with realistic queries, posts of about 150 characters of which about 1 % mention a
brand. The pipeline runs for real: dedupe, the compiled query engine, language detection and
triage (bot.triage.analyze), story hints and author keys for the matches, and the
one-transaction-per-batch write of mentions, authors, outbox rows, events and story keys.

The stream is not all new: 5 % of the items are redeliveries of an earlier post (the same
network and id again: half of them within the same batch, as a webhook retry does, half from an
earlier batch, as a poll that overlaps its last page does), and 3 % are reposts (a new id and
author, the text of an earlier post, one in ten of them of a post that mentions a brand, "RT @…: "
in front half the time), so the dedupe and repost lookups hit.

Judged on WALL time (posts offered per wall second, redeliveries included): the goals are
50,000 posts/s on SQLite and 25,000 on PostgreSQL. CPU seconds of this process are printed
beside it for profiling only; they leave out I/O waits and the database server's work. The
baseline, measured in the same run on the same batches, is the matching step alone
(`Pipeline.match`: no dedupe, enrichment or database), the ceiling of the pipeline.

    python bench/ingest.py [--posts 200000] [--brands 1000] [--batch 2000] [--no-postgres]

The last line printed is one JSON object; `measure()` returns the same figures to bench/all.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import db
from bot.domain import Author, Post
from bot.pipeline import Pipeline
from bot.store import Store

GOAL_SQLITE = 50_000  # posts/s, wall
GOAL_POSTGRES = 25_000  # posts/s, wall

SYLLABLES = ["ka", "lo", "mi", "ter", "van", "zu", "bri", "nor", "sel", "dax", "quo", "ri",
             "fen", "gul", "hap", "jor", "wex", "yl", "tor", "ban", "cre", "dol", "ems", "fir"]
WORDS_EN = ("the my our app order delivery support today again still never always love hate "
            "great terrible service customer phone card bank coffee bike store open closed help "
            "please why how when what new update broken down working fast slow price refund "
            "account login password shipping package week morning tonight thanks really").split()
WORDS_DE = ("der die das mein unser heute wieder immer noch nie liebe hasse toll schrecklich "
            "kundenservice bestellung lieferung paket konto karte kaffee fahrrad laden offen "
            "geschlossen hilfe bitte warum wie wann neu kaputt langsam schnell preis danke "
            "anmeldung passwort woche morgen abend wirklich").split()
NETWORKS = ["mastodon", "bluesky", "x", "reddit", "hackernews", "rss", "github", "youtube"]


def brand_names(rng: random.Random, n: int) -> list[str]:
    names: set[str] = set()
    while len(names) < n:
        names.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(names)


def brand_query(rng: random.Random, name: str) -> str:
    kind = rng.random()
    if kind < 0.3:
        return f'{name} OR "{name} app" OR #{name} OR @{name}'
    if kind < 0.5:
        return f"({name} OR {name}*) -jobs -hiring"
    if kind < 0.7:
        return f"{name} NEAR/3 (broken OR down OR kaputt OR refund)"
    if kind < 0.85:
        return f"{name} lang:(de OR en)"
    return f'"{name} bank" OR ({name} -author:{name}_official)'


def make_posts(rng: random.Random, names: list[str], n: int, share: float, *,
               batch: int = 2000, redeliver: float = 0.05, repost: float = 0.03) -> list[Post]:
    """`n` stream items: new posts, redeliveries of earlier ones and reposts (module docstring)."""
    start = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    posts: list[Post] = []
    mentioning: list[int] = []  # indexes of new posts that name a brand
    serial = 0
    for i in range(n):
        at = start + timedelta(milliseconds=50 * i)
        roll = rng.random()
        if posts and roll < redeliver:
            if rng.random() < 0.5:  # within this batch (a retry), else from an earlier batch
                lo = i - i % batch
                j = rng.randrange(lo, i) if i > lo else rng.randrange(i)
            else:
                j = rng.randrange(max(1, i - i % batch))
            posts.append(posts[j])
            continue
        if posts and roll < redeliver + repost:
            pool = mentioning if mentioning and rng.random() < 0.1 else None
            j = rng.choice(pool) if pool else rng.randrange(len(posts))
            original = posts[j]
            handle = f"user{rng.randrange(50_000)}"
            text = original.text
            if rng.random() < 0.5:
                text = f"RT @{original.author.handle}: {text}"
            serial += 1
            posts.append(replace(
                original, external_id=f"r{serial}", text=text, created_at=at,
                url=f"https://{original.network}.example/{handle}/r{serial}",
                author=Author(handle=handle, name=handle.title(),
                              followers=int(rng.paretovariate(1.2) * 50))))
            continue
        german = rng.random() < 0.45
        vocab = WORDS_DE if german else WORDS_EN
        words = [rng.choice(vocab) for _ in range(rng.randint(18, 28))]
        if rng.random() < share:
            words.insert(rng.randrange(len(words)), rng.choice(names))
            if rng.random() < 0.5:
                words.append(rng.choice(["broken", "down", "kaputt", "refund"]))
            mentioning.append(len(posts))
        text = " ".join(words)[:160]
        network = rng.choice(NETWORKS)
        handle = f"user{rng.randrange(50_000)}"
        serial += 1
        posts.append(Post(
            network=network, external_id=f"{serial}",
            url=f"https://{network}.example/{handle}/{serial}",
            author=Author(handle=handle, name=handle.title(),
                          followers=int(rng.paretovariate(1.2) * 50)),
            text=text, created_at=at,
            lang=("de" if german else "en") if rng.random() < 0.5 else None,
            likes=rng.randrange(20), reposts=rng.randrange(5),
        ))
    return posts


def run(url: str, names: list[str], queries: dict[str, str], posts: list[Post],
        batch: int) -> dict[str, Any]:
    """Ingest `posts` in batches into a fresh database at `url`; the figures of that run."""
    db.upgrade(url)
    store = Store.from_url(url)
    try:
        for name in names:
            store.add_brand(name=name, query=queries[name], actor="bench")
            store.add_route(brand=name, platform="console", channel=f"c-{name}", actor="bench")
        pipeline = Pipeline(store)
        t0 = time.perf_counter()
        pipeline.refresh()
        build = time.perf_counter() - t0
        # Warm the language and triage models outside the timed part, as a running bot has.
        pipeline.language.detect("warm up the detector please")
        pipeline.triage("gut", lang="de")  # bot.triage's models load on first use
        pipeline.triage("good", lang="en")
        # Baseline in the same run: the matching step alone over the same batches (no dedupe,
        # no enrichment, no database): the ceiling of the pipeline on this machine. It also
        # compiles the brands' checks the stream needs, as a running bot has them.
        t0 = time.perf_counter()
        for i in range(0, len(posts), batch):
            pipeline.match(posts[i:i + batch])
        match_only = time.perf_counter() - t0
        stored = matched = duplicates = echoes = 0
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(posts), batch):
            report = pipeline.ingest(posts[i:i + batch])
            stored += report.stored
            matched += report.matched
            duplicates += report.duplicates
            echoes += report.echoes
        elapsed = time.perf_counter() - t0
        cpu = time.process_time() - c0  # this process only: for profiling, never judged
        assert store.count_mentions() == stored
        return {
            "posts": len(posts), "matched": matched, "stored": stored,
            "duplicates": duplicates, "echoes": echoes,
            "seconds": round(elapsed, 3), "posts_per_s": round(len(posts) / elapsed),
            "cpu_seconds": round(cpu, 3), "posts_per_cpu_s": round(len(posts) / cpu),
            "mentions_per_s": round(stored / elapsed, 1), "matcher_build_s": round(build, 3),
            "match_only_posts_per_s": round(len(posts) / match_only),
        }
    finally:
        store.close()


def measure(*, posts: int = 200_000, brands: int = 1000, batch: int = 2000, share: float = 0.01,
            seed: int = 7, postgres: bool = True, pg: Any = None) -> dict[str, Any]:
    """Run the benchmark; the figures as a dict ("sqlite", "postgresql" when run, the goals).
    `pg`: a running testkit.pgcluster.PgCluster to use (else one is started)."""
    from bot.networks import install_networks
    from integrations.networks.specs import SPECS

    install_networks(SPECS)  # the list of networks the core reads, as `echtzeit` installs it
    rng = random.Random(seed)
    names = brand_names(rng, brands)
    queries = {name: brand_query(rng, name) for name in names}
    stream = make_posts(rng, names, posts, share, batch=batch)
    figures: dict[str, Any] = {"brands": brands, "posts": posts, "batch": batch,
                               "unique_posts": len({(p.network, p.external_id) for p in stream}),
                               "goal_posts_per_s_sqlite": GOAL_SQLITE,
                               "goal_posts_per_s_postgresql": GOAL_POSTGRES}
    with tempfile.TemporaryDirectory() as tmp:
        figures["sqlite"] = run(f"sqlite:///{tmp}/bench.db", names, queries, stream, batch)
    met = figures["sqlite"]["posts_per_s"] >= GOAL_SQLITE
    if postgres:
        from testkit.pgcluster import PgCluster

        with contextlib.nullcontext(pg) if pg is not None else PgCluster() as cluster:
            figures["postgresql"] = run(cluster.create_database("bench_ingest"), names, queries,
                                        stream, batch)
        met = met and figures["postgresql"]["posts_per_s"] >= GOAL_POSTGRES
    figures["goal_met"] = met
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--share", type=float, default=0.01, help="share of posts that match")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    figures = measure(posts=args.posts, brands=args.brands, batch=args.batch, share=args.share,
                      seed=args.seed, postgres=not args.no_postgres)
    for name, goal in (("sqlite", GOAL_SQLITE), ("postgresql", GOAL_POSTGRES)):
        if name not in figures:
            continue
        f = figures[name]
        print(f"{name + ':':<12}{f['posts_per_s']:>9,} posts/s wall (goal {goal:,}; "
              f"{f['posts_per_cpu_s']:,} per CPU second of this process)  "
              f"{f['stored']} mentions stored, {f['duplicates']} duplicates, "
              f"{f['echoes']} reposts folded, {f['seconds']} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
