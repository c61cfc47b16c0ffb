"""Ingest benchmark: replayed posts through the whole pipeline into SQLite and PostgreSQL.

1,000 brands with realistic queries, posts of about 150 characters of which about 1 % mention a
brand. The pipeline runs for real: dedupe, the compiled query engine, language detection and
sentiment for the matches, and the one-transaction write of mentions, authors, outbox rows and
events. Prints posts/s and mentions stored/s per database; the last line is one JSON object.

    python bench/ingest.py [--posts 200000] [--brands 1000] [--batch 2000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import db
from bot.domain import Author, Post
from bot.pipeline import Pipeline
from bot.store import Store

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


def make_posts(rng: random.Random, names: list[str], n: int, share: float) -> list[Post]:
    start = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    posts = []
    for i in range(n):
        german = rng.random() < 0.45
        vocab = WORDS_DE if german else WORDS_EN
        words = [rng.choice(vocab) for _ in range(rng.randint(18, 28))]
        if rng.random() < share:
            words.insert(rng.randrange(len(words)), rng.choice(names))
            if rng.random() < 0.5:
                words.append(rng.choice(["broken", "down", "kaputt", "refund"]))
        text = " ".join(words)[:160]
        network = rng.choice(NETWORKS)
        handle = f"user{rng.randrange(50_000)}"
        posts.append(Post(
            network=network, external_id=f"{i}", url=f"https://{network}.example/{handle}/{i}",
            author=Author(handle=handle, name=handle.title(),
                          followers=int(rng.paretovariate(1.2) * 50)),
            text=text, created_at=start + timedelta(milliseconds=50 * i),
            lang=("de" if german else "en") if rng.random() < 0.5 else None,
            likes=rng.randrange(20), reposts=rng.randrange(5),
        ))
    return posts


def run(url: str, names: list[str], queries: dict[str, str], posts: list[Post],
        batch: int) -> dict[str, float]:
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
        # Warm the language and sentiment models outside the timed part, as a running bot has.
        pipeline.language.detect("warm up the detector please")
        pipeline.sentiment.score("gut", "de")
        pipeline.sentiment.score("good", "en")
        stored = matched = 0
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, len(posts), batch):
            report = pipeline.ingest(posts[i:i + batch])
            stored += report.stored
            matched += report.matched
        elapsed = time.perf_counter() - t0
        # CPU time of this process: the "one core" figure, steady on a busy machine. On SQLite
        # all the work is in this process; PostgreSQL's server works in processes of its own.
        cpu = time.process_time() - c0
        assert store.count_mentions() == stored
        return {
            "posts": len(posts), "matched": matched, "stored": stored,
            "seconds": round(elapsed, 3), "posts_per_s": round(len(posts) / elapsed),
            "cpu_seconds": round(cpu, 3), "posts_per_cpu_s": round(len(posts) / cpu),
            "mentions_per_s": round(stored / elapsed, 1), "matcher_build_s": round(build, 3),
        }
    finally:
        store.close()


def main() -> None:
    from bot.networks import install_networks
    from integrations.networks.specs import SPECS

    install_networks(SPECS)  # the list of networks the core reads, as `echtzeit` installs it
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--share", type=float, default=0.01, help="share of posts that match")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    names = brand_names(rng, args.brands)
    queries = {name: brand_query(rng, name) for name in names}
    posts = make_posts(rng, names, args.posts, args.share)
    figures: dict[str, object] = {"brands": args.brands, "posts": args.posts,
                                  "batch": args.batch}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = run(f"sqlite:///{tmp}/bench.db", names, queries, posts, args.batch)
        print(f"sqlite:     {sqlite['posts_per_s']:>9,} posts/s "
              f"({sqlite['posts_per_cpu_s']:,} per CPU second)  "
              f"{sqlite['mentions_per_s']:>9,} mentions stored/s  "
              f"({sqlite['stored']} mentions, {sqlite['seconds']} s)")
        figures["sqlite"] = sqlite
    if not args.no_postgres:
        from testkit.pgcluster import PgCluster

        with PgCluster() as pg:
            pgres = run(pg.create_database("bench"), names, queries, posts, args.batch)
        print(f"postgresql: {pgres['posts_per_s']:>9,} posts/s "
              f"({pgres['posts_per_cpu_s']:,} per client CPU second)  "
              f"{pgres['mentions_per_s']:>9,} mentions stored/s  "
              f"({pgres['stored']} mentions, {pgres['seconds']} s)")
        figures["postgresql"] = pgres
    figures["goal_posts_per_s_sqlite"] = 20_000
    figures["goal_met"] = sqlite["posts_per_cpu_s"] >= 20_000
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
