"""Stories benchmark: what clustering costs per matched post in the ingest (issue 18).

The same posts through the real pipeline into SQLite twice, once with stories off
(story window 0) and once on (24 hours), CPU time of this process each. A share of the matched
posts carry a link that others share (a wrapped one among them) and some are copies of another's
text with a word changed, so that lookups find candidates and stories form, as in a shitstorm.
Prints the cost per matched post with and without stories and the difference; the last line is
one JSON object.

    python bench/stories.py [--posts 40000] [--brands 200] [--share 0.1] [--batch 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import brand_names, brand_query, make_posts
from bot import db
from bot.domain import Post
from bot.pipeline import Pipeline
from bot.store import Store


def with_stories(rng: random.Random, posts: list[Post]) -> list[Post]:
    """A third of the posts share one of 50 links (some wrapped), a tenth copy an earlier text."""
    links = [f"https://status{i}.example/incidents/{i}" for i in range(50)]
    out: list[Post] = []
    for p in posts:
        r = rng.random()
        if r < 0.33:
            link = rng.choice(links)
            if rng.random() < 0.3:
                link = "https://l.facebook.com/l.php?u=" + link.replace(":", "%3A").replace(
                    "/", "%2F")
            p = replace(p, text=f"{p.text} {link}")
        elif r < 0.43 and out:
            model = rng.choice(out[-500:]).text.split()
            model[rng.randrange(len(model))] = "really"
            p = replace(p, text=" ".join(model))
        out.append(p)
    return out


def run(url: str, names: list[str], queries: dict[str, str], posts: list[Post], batch: int,
        window: timedelta) -> dict[str, float]:
    db.upgrade(url)
    store = Store.from_url(url)
    try:
        for name in names:
            store.add_brand(name=name, query=queries[name], actor="bench")
            store.add_route(brand=name, platform="console", channel=f"c-{name}", actor="bench")
        pipeline = Pipeline(store, story_window=window)
        pipeline.refresh()
        pipeline.language.detect("warm up the detector please")
        pipeline.triage("gut", lang="de")  # bot.triage's models load on first use
        pipeline.triage("good", lang="en")
        matched = stored = 0
        c0 = time.process_time()
        for i in range(0, len(posts), batch):
            report = pipeline.ingest(posts[i:i + batch])
            matched += report.matched
            stored += report.stored
        cpu = time.process_time() - c0
        with store.engine.connect() as conn:
            import sqlalchemy as sa

            stories = conn.execute(sa.text("SELECT count(*) FROM story")).scalar_one()
            members = conn.execute(sa.text(
                "SELECT count(*) FROM mention WHERE story_id IS NOT NULL")).scalar_one()
        return {"matched": matched, "stored": stored, "cpu_seconds": round(cpu, 3),
                "ms_per_matched_post": round(cpu * 1000 / max(matched, 1), 3),
                "posts_per_cpu_s": round(len(posts) / cpu), "stories": int(stories),
                "story_members": int(members)}
    finally:
        store.close()


def main() -> None:
    from bot.networks import install_networks
    from integrations.networks.specs import SPECS

    install_networks(SPECS)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=40_000)
    parser.add_argument("--brands", type=int, default=200)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--share", type=float, default=0.1, help="share of posts that match")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    names = brand_names(rng, args.brands)
    queries = {name: brand_query(rng, name) for name in names}
    posts = with_stories(rng, make_posts(rng, names, args.posts, args.share))
    figures: dict[str, object] = {"posts": args.posts, "brands": args.brands,
                                  "share": args.share}
    with tempfile.TemporaryDirectory() as tmp:
        off = run(f"sqlite:///{tmp}/off.db", names, queries, posts, args.batch, timedelta(0))
        on = run(f"sqlite:///{tmp}/on.db", names, queries, posts, args.batch,
                 timedelta(hours=24))
    figures["stories_off"], figures["stories_on"] = off, on
    cost = on["ms_per_matched_post"] - off["ms_per_matched_post"]
    figures["clustering_ms_per_matched_post"] = round(cost, 3)
    print(f"stories off: {off['ms_per_matched_post']:.3f} ms CPU per matched post "
          f"({off['posts_per_cpu_s']:,} posts per CPU second)")
    print(f"stories on:  {on['ms_per_matched_post']:.3f} ms CPU per matched post "
          f"({on['posts_per_cpu_s']:,} posts per CPU second; {on['stories']} stories, "
          f"{on['story_members']} of {on['stored']} mentions in one)")
    print(f"clustering:  {cost:+.3f} ms CPU per matched post")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
