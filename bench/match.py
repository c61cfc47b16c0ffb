"""Benchmark of the mention matching engine (bot.query) against raw scans and regexes.

    python bench/match.py [--queries 10000] [--posts 200000] [--regex-sample 500] [--seed 7]

Generates, deterministically from the seed, realistic brand queries (invented brand names;
words, phrases, wildcards, NOT, NEAR, fields) and social posts of about 150 characters in
English and German, of which about 1% mention one of the brands. Then measures on one core:

  (a) engine  `Matcher.match_many` (what the pipeline calls, in chunks of 10,000), and
              `Matcher.match` per post; with the scanner the platform gives it (Hyperscan where
              its wheel installs) and with the portable pyahocorasick one;
  (b) raw     bare multi-pattern scans over every term of every query, on NFKC-normalised,
              lower-cased text, counting hits with no boolean logic: the ceiling. Three
              engines: pyahocorasick, ahocorasick_rs (Rust) and Hyperscan, per post, and
              Hyperscan over posts joined by NUL in batches of 1,000 (the engine's own trick);
              an engine whose wheel is missing is left out and named;
  (c) regex   one compiled regular expression per query, tried in turn on each post, and the
              query's boolean logic for those that hit: what most bots do (on a sample).

Times are wall seconds. Each runner's time is, per chunk of posts, the best of --rounds
tries, the runners taking turns chunk by chunk, so that other processes on a shared machine
disturb them alike; (c) is timed the same way on its sample. The engine's results are
checked against (c) on the sample, and the two scanners' against each other on every post.
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ahocorasick

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.query import Candidate, Matcher, Near, Node, Phrase, Term, evaluate
from bot.query.ast import And, Not, Or
from bot.query.fold import fold_accents, fold_german, normalise
from bot.query.reference import evaluate_each

# -- brands and queries ----------------------------------------------------------------

_ONSETS = "b br c d dr f fl g gr k kr l m n p pr qu r s st t tr v w z".split()
_VOWELS = "a e i o u a e i o u a e i o u a e i o u a e i o u a e i o u a e i o u ei au y ö".split()
_CODAS = ["", "", "n", "r", "x", "l", "m", "s", "nd", "rk"]
_PRODUCTS = "app cloud pay bank card box go one plus pro air home drive mobile shop".split()
_PROBLEMS = ["broken", "down", "outage", "kaputt", "störung", '"not working"', "crash*", "bug"]
_SUPPORT = ["support", "service", "hilfe", "kundenservice", "help", "refund", "erstattung"]
_REVIEW = ["review", "test", "unboxing", "erfahrung", "vergleich"]
_EXCLUDE = ["jobs", "hiring", "career*", "stellenangebot", "praktikum", "giveaway"]


def brand_names(rnd: random.Random, n: int) -> list[str]:
    """`n` distinct invented brand words like "zentrix", "korvana", "blümwerk"."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        syllables = rnd.choice((2, 2, 2, 3, 3))
        name = "".join(rnd.choice(_ONSETS) + rnd.choice(_VOWELS) for _ in range(syllables))
        name += rnd.choice(_CODAS)
        folded = fold_accents(name)
        if len(name) < 5 or folded in seen or name in _COMMON_TEXT_WORDS:
            continue
        seen.add(folded)
        out.append(name)
    return out


def _spelling_variant(b: str) -> str:
    """`b` with a late vowel left open (`zentr?x`), or one letter appended (`zentrix?`)."""
    late = [i for i, ch in enumerate(b) if i >= 4 and ch in "aeiouy"]
    return b[: late[-1]] + "?" + b[late[-1] + 1 :] if late else b + "?"


def _templates(rnd: random.Random, b: str, b2: str) -> list[tuple[int, str]]:
    product = rnd.choice(_PRODUCTS)
    problems = " OR ".join(rnd.sample(_PROBLEMS, 3))
    support = " OR ".join(rnd.sample(_SUPPORT, 3))
    review = " OR ".join(rnd.sample(_REVIEW, 2))
    ex = rnd.sample(_EXCLUDE, 2)
    return [
        (14, b),
        (10, f"{b} OR #{b} OR @{b}"),
        (8, f'"{b} {product}" OR {b}{product}'),
        (8, f"{b} -{ex[0]} -{ex[1]}"),
        (6, f"({b} OR {b2}) AND ({support})"),
        (6, f"{b}* NEAR/3 ({problems})"),
        (6, f"{b} lang:(de OR en)"),
        (5, f"{b} -site:{b}.com -author:{b}_official"),
        (5, f'"{b} {product}" NEAR/5f ({review})'),
        (5, f"({b} OR {b}corp) network:(reddit OR hackernews OR mastodon)"),
        (5, f'#{b} OR "{b} {product}" OR @{b}_{product}'),
        (4, f"{_spelling_variant(b)} OR {b}.io"),
        (4, f'{b} NOT ("{b} street" OR {b}strasse)'),
        (4, f"@{b} OR {b}.de lang:de"),
        (3, f"{b} ({support}) -{ex[0]}"),
        (3, f'{b}-{product} OR "{b} {rnd.choice(_PRODUCTS)}"'),
    ]


def make_queries(rnd: random.Random, n: int) -> tuple[dict[int, str], list[str]]:
    """{brand id: query} and the brand word each query is about."""
    names = brand_names(rnd, n + n // 10)
    queries: dict[int, str] = {}
    brands: list[str] = []
    for i in range(n):
        b, b2 = names[i], names[n + i % (n // 10 or 1)]
        options = _templates(rnd, b, b2)
        weights = [w for w, _ in options]
        queries[i + 1] = rnd.choices([q for _, q in options], weights)[0]
        brands.append(b)
    return queries, brands


# -- posts -----------------------------------------------------------------------------

_EN = """just got my new phone and honestly the battery life is amazing | why is customer
service always so slow on mondays | can anyone recommend a good coffee place near the
station | the update broke everything again, thanks a lot | watching the game tonight with
friends, who else is in | this weather is ridiculous, snow in april? | finally finished the
project after three weeks of late nights | my package was supposed to arrive yesterday and
still nothing | does anyone know if the app works offline | loving the new season so far, no
spoilers please | traffic on the highway is a nightmare today | the best pizza in town is
still that tiny place downtown | cancelled my subscription, too many price increases | new
blog post about remote work and burnout is up | the train is late again, twenty minutes and
counting | tried the new vegan burger and it was surprisingly good""".split("|")
_DE = """heute wieder stau auf der autobahn, das nervt einfach nur | kann jemand ein gutes café
in der nähe vom bahnhof empfehlen | die neue folge war richtig spannend, bitte keine spoiler
| mein paket sollte gestern kommen und ist immer noch nicht da | endlich wochenende, jetzt
erst mal ausschlafen | der kundenservice ist echt eine katastrophe, niemand geht ans telefon |
wer schaut heute abend das spiel mit | die bahn hat schon wieder zwanzig minuten verspätung |
habe mir gerade ein neues fahrrad gekauft, bin total begeistert | das update hat alles kaputt
gemacht, danke für nichts | schönes wetter heute, ab in den park | kündigung ist raus, die
preise werden immer höher | grüße aus münchen, hier ist es wunderschön | über die feiertage
fahren wir zu meinen großeltern""".split("|")
_TAGS = ["#monday", "#tech", "#fail", "#wochenende", "#berlin", "#news", "#coffee", "#ootd"]
_HANDLES = ["@sarah_k", "@techguy", "@dbbahn", "@news24", "@mike", "@lena.bsky.social"]
_EXTRAS = ["😂", "🙄", "❤️", "👍", "…", "!!", "?", " lol", " smh", " 😅", " :)", "’"]
_URLS = ["https://example.com/a/b", "https://t.co/x1y2z3", "https://www.heise.de/news/123"]
_MENTION_EN = [
    "{b} is down again",
    "anyone else having trouble with {b} today",
    "shoutout to {b} support, fixed in minutes",
    "#{b} rocks",
    "hey @{b} help please",
    "the new {b} app is broken",
    "just switched to {b}, so far so good",
]
_MENTION_DE = [
    "{b} geht schon wieder nicht",
    "hat noch jemand probleme mit {b}",
    "danke an den {b} kundenservice",
    "#{b} ist einfach super",
    "@{b} hilfe bitte",
    "die {b} app ist kaputt",
    "bin zu {b} gewechselt, läuft",
]
_COMMON_TEXT_WORDS = frozenset(" ".join(_EN + _DE).split())
NETWORKS = ["mastodon", "bluesky", "reddit", "hackernews", "rss", "x", "youtube"]


def _sentence(rnd: random.Random, german: bool) -> str:
    s = " ".join(rnd.choice(_DE if german else _EN).split())
    if rnd.random() < 0.5:
        s = s[0].upper() + s[1:]
    return s


def make_posts(
    rnd: random.Random, n: int, brands: list[str], mention_rate: float = 0.01
) -> list[Candidate]:
    posts = []
    for _ in range(n):
        german = rnd.random() < 0.4
        parts = [_sentence(rnd, german)]
        if rnd.random() < mention_rate:
            b = rnd.choice(brands)
            b = b.capitalize() if rnd.random() < 0.5 else b
            template = rnd.choice(_MENTION_DE if german else _MENTION_EN)
            parts.insert(rnd.randrange(2), template.format(b=b))
        while sum(len(p) for p in parts) < 120:
            r = rnd.random()
            if r < 0.2:
                parts.append(rnd.choice(_TAGS))
            elif r < 0.35:
                parts.insert(0, rnd.choice(_HANDLES))
            elif r < 0.45:
                parts.append(rnd.choice(_URLS))
            else:
                parts.append(_sentence(rnd, german))
        text = " ".join(parts)[:170]
        if rnd.random() < 0.4:
            text += rnd.choice(_EXTRAS)
        lang = "de" if german else "en"
        posts.append(
            Candidate(
                text=text,
                network=rnd.choice(NETWORKS),
                url=f"https://{rnd.choice(['reddit.com', 'mastodon.social', 'x.com'])}/p/1",
                author=rnd.choice(_HANDLES).lstrip("@"),
                lang=lang if rnd.random() < 0.5 else None,
                detect_lang=_constant(lang),
            )
        )
    return posts


def _constant(value: str) -> Callable[[], str]:
    return lambda: value


# -- baselines ---------------------------------------------------------------------------


def _leaves(node: Node) -> Iterator[Term | Phrase]:
    if isinstance(node, Term | Phrase):
        yield node
    elif isinstance(node, Not):
        yield from _leaves(node.child)
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from _leaves(child)
    elif isinstance(node, Near):
        yield from _leaves(node.left)
        yield from _leaves(node.right)


def _positive_leaves(node: Node) -> Iterator[Term | Phrase]:
    if isinstance(node, Term | Phrase):
        yield node
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from _positive_leaves(child)
    elif isinstance(node, Near):
        yield from _leaves(node)


def _literal(term: Term, folded: str) -> str:
    return re.split(r"[*?]", folded, maxsplit=1)[0]


def raw_keys(nodes: dict[int, Node]) -> dict[str, int]:
    """Every term string of every query (both foldings) → a brand that uses it."""
    keys: dict[str, int] = {}
    for brand, node in nodes.items():
        for leaf in _leaves(node):
            terms = leaf.terms if isinstance(leaf, Phrase) else (leaf,)
            for fold in (0, 1):
                keys.setdefault(" ".join(_literal(t, t.folds[fold]) for t in terms), brand)
    return keys


def raw_scans(
    keys: dict[str, int],
) -> tuple[dict[str, Callable[[list[Candidate]], int]], list[str]]:
    """The raw scanners that install here, each counting term hits in NFKC, lower-cased text;
    and the names of those whose library is missing."""
    normalize = unicodedata.normalize
    runners: dict[str, Callable[[list[Candidate]], int]] = {}
    missing: list[str] = []

    automaton = ahocorasick.Automaton()
    for key, brand in keys.items():
        automaton.add_word(key, brand)
    automaton.make_automaton()

    def pyahocorasick(part: list[Candidate]) -> int:
        it = automaton.iter
        return sum(1 for p in part for _ in it(normalize("NFKC", p.text).lower()))

    runners["raw_pyahocorasick"] = pyahocorasick
    try:
        import ahocorasick_rs
    except ImportError:
        missing.append("ahocorasick_rs")
    else:
        rs = ahocorasick_rs.AhoCorasick(list(keys))

        def rust(part: list[Candidate]) -> int:
            find = rs.find_matches_as_indexes
            return sum(len(find(normalize("NFKC", p.text).lower(), overlapping=True)) for p in part)

        runners["raw_ahocorasick_rs"] = rust
    try:
        import hyperscan
    except ImportError:
        missing.append("hyperscan")
    else:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        exprs = [k.encode() for k in keys]
        db.compile(
            expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), literal=True
        )

        def hs_each(part: list[Candidate]) -> int:
            count = [0]

            def hit(*_: object) -> None:
                count[0] += 1

            for p in part:
                db.scan(normalize("NFKC", p.text).lower().encode(), match_event_handler=hit)
            return count[0]

        def hs_batch(part: list[Candidate]) -> int:
            count = [0]

            def hit(*_: object) -> None:
                count[0] += 1

            for i in range(0, len(part), 1000):
                joined = "\x00".join(
                    [normalize("NFKC", p.text).lower() for p in part[i : i + 1000]]
                )
                db.scan(joined.encode(), match_event_handler=hit)
            return count[0]

        runners["raw_hyperscan"] = hs_each
        runners["raw_hyperscan_batch"] = hs_batch
    return runners, missing


def _term_regex(term: Term, folded: str) -> str:
    body = "".join(
        r"\w*" if ch == "*" else r"[^\W\d_]" if ch == "?" else re.escape(ch) for ch in folded
    )
    return re.escape(term.marker) + body


def query_regex(node: Node) -> re.Pattern[str]:
    """One regex per query, as bots write them: any of its positive terms, whole words."""
    options = set()
    for leaf in _positive_leaves(node):
        terms = leaf.terms if isinstance(leaf, Phrase) else (leaf,)
        start = r"(?<!\w)" if terms[0].marker else r"\b"
        for fold in (0, 1):
            body = r"\W+".join(_term_regex(t, t.folds[fold]) for t in terms)
            options.add(start + body + r"\b")
    return re.compile("|".join(sorted(options)))


def _cover(node: Node) -> set[tuple[str, str]] | None:
    """Word pieces (both foldings) of which at least one occurs in every post the query
    matches, from the tree alone (not the engine's trigger analysis); None when no such set
    is known (a NOT, a field, a wildcard with no literal piece)."""
    if isinstance(node, Term):
        pieces = [
            max(re.split(r"[*?]", fold), key=len) for fold in node.folds
        ]
        return {(pieces[0], pieces[1])} if all(pieces) else None
    if isinstance(node, Phrase):
        return _best([_cover(t) for t in node.terms])
    if isinstance(node, Or):
        covers = [_cover(c) for c in node.children]
        if any(c is None for c in covers):
            return None
        return set().union(*covers)  # type: ignore[arg-type]
    if isinstance(node, And):
        return _best([_cover(c) for c in node.children])
    if isinstance(node, Near):
        return _best([_cover(node.left), _cover(node.right)])
    return None  # Not, Field


def _best(covers: list[set[tuple[str, str]] | None]) -> set[tuple[str, str]] | None:
    """Of covers that all must hold, the one most likely to be rare: longest shortest piece."""
    known = [c for c in covers if c]
    return max(known, key=lambda c: min(len(a) for a, _ in c)) if known else None


def reference_results(
    nodes: dict[int, Node], posts: list[Candidate]
) -> tuple[list[list[int]], int]:
    """What the reference evaluator (bot/query/reference.py) says for every post and query;
    and how many queries had no cover and were evaluated on every post.

    Evaluating 10,000 queries on every post takes hours; a query can only match a post in
    which one piece of its cover occurs (substring of the normalised, folded text: a superset
    of the reference's whole-word test), so it is evaluated on those posts only."""
    keyed: dict[str, set[int]] = {}
    always: list[int] = []
    for brand, node in nodes.items():
        cover = _cover(node)
        if cover is None:
            always.append(brand)
            continue
        for accent, german in cover:
            keyed.setdefault("a" + accent, set()).add(brand)
            keyed.setdefault("g" + german, set()).add(brand)
    by_fold: dict[str, dict[str, set[int]]] = {"a": {}, "g": {}}
    for key, brands in keyed.items():
        by_fold[key[0]][key[1:]] = brands
    automata = {}
    for fold, keys in by_fold.items():
        automaton = ahocorasick.Automaton()
        for key, brands in keys.items():
            automaton.add_word(key, frozenset(brands))
        automaton.make_automaton()
        automata[fold] = automaton
    out: list[list[int]] = []
    for p in posts:
        normal = normalise(p.text)
        candidates = set(always)
        for _, brands in automata["a"].iter(fold_accents(normal)):
            candidates |= brands
        for _, brands in automata["g"].iter(fold_german(normal)):
            candidates |= brands
        out.append(evaluate_each({b: nodes[b] for b in candidates}, p))
    return out, len(always)


# -- measuring -----------------------------------------------------------------------------


def timed(fn: Callable[[], object], collect: bool = False) -> tuple[float, object]:
    """Wall seconds `fn` takes, and its result; the cyclic GC is off unless `collect`."""
    gc.collect()
    if not collect:
        gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        return time.perf_counter() - start, result
    finally:
        gc.enable()


def best_of(
    runners: dict[str, Callable[[list[Candidate]], object]],
    posts: list[Candidate],
    rounds: int,
    chunk: int = 10_000,
) -> dict[str, float]:
    """Seconds each runner needs for all posts: per chunk the best of `rounds` tries.

    Runners take turns chunk by chunk, so a burst of load from other processes on the
    machine hits all of them alike, and the best try of a chunk is the least disturbed.
    """
    chunks = [posts[i : i + chunk] for i in range(0, len(posts), chunk)]
    best = {name: [float("inf")] * len(chunks) for name in runners}
    for _ in range(rounds):
        for i, part in enumerate(chunks):
            for name, run in runners.items():
                seconds, _ = timed(lambda run=run, part=part: run(part))  # type: ignore[misc]
                best[name][i] = min(best[name][i], seconds)
    return {name: sum(times) for name, times in best.items()}


def measure(*, queries: int = 10_000, posts: int = 200_000, regex_sample: int = 500,
            seed: int = 7, rounds: int = 3, show: int = 0) -> dict[str, Any]:
    """Run the benchmark; the figures as a dict (what the last printed line holds)."""
    from bot.networks import install_networks
    from integrations.networks.specs import SPECS

    install_networks(SPECS)  # `network:` in queries reads the list, as `echtzeit` installs it
    rnd = random.Random(seed)
    texts, brands = make_queries(rnd, queries)
    sample_posts = make_posts(rnd, posts, brands)
    if show:
        for q in list(texts.values())[:show]:
            print("query:", q)
        for p in sample_posts[:show]:
            print("post: ", p.text)

    # A cold build, garbage collector on: what a bot pays when the brands change.
    build_s, built = timed(lambda: Matcher.build(texts), collect=True)
    assert isinstance(built, Matcher)
    matcher = built
    build_portable_s, built = timed(lambda: Matcher.build(texts, scanner="ahocorasick"), True)
    assert isinstance(built, Matcher)
    portable = built
    nodes = dict(matcher.queries)
    raws, missing = raw_scans(raw_keys(nodes))

    def engine(part: list[Candidate]) -> list[list[int]]:
        match = matcher.match
        return [match(p) for p in part]

    # Warm the per-character caches once, as a running bot would have them.
    results = matcher.match_many(sample_posts)
    assert engine(sample_posts) == results
    scanners_agree = portable.match_many(sample_posts) == results
    t0 = time.perf_counter()
    reference, uncovered = reference_results(nodes, sample_posts)
    reference_s = time.perf_counter() - t0
    mismatches = [i for i, (got, want) in enumerate(zip(results, reference, strict=True))
                  if got != want]
    hits = {name: run(sample_posts) for name, run in raws.items()}
    assert len(set(hits.values())) == 1, hits  # every raw scanner finds the same term hits
    seconds = best_of(
        {"many": matcher.match_many, "engine": engine, "portable": portable.match_many, **raws},
        sample_posts,
        rounds,
    )

    regexes = {b: query_regex(n) for b, n in nodes.items()}
    sample = sample_posts[:regex_sample]

    def regex_scan(part: list[Candidate]) -> list[list[int]]:
        out = []
        for p in part:
            normal = normalise(p.text)
            a, g = fold_accents(normal), fold_german(normal)
            texts = (a,) if a == g else (a, g)
            # The regex finds candidates; the query's boolean logic decides (reference).
            out.append(
                [
                    b
                    for b, rx in regexes.items()
                    if any(rx.search(t) for t in texts) and evaluate(nodes[b], p)
                ]
            )
        return out

    agree = regex_scan(sample) == results[: len(sample)]
    # The regex baseline and the engine timed the same way: the same sample, the same chunks,
    # the same number of tries, taking turns.
    on_sample = best_of({"regex": regex_scan, "many": matcher.match_many}, sample, rounds,
                        chunk=100)

    n_posts = len(sample_posts)
    rate = {name: n_posts / t for name, t in seconds.items()}
    fastest = max((n for n in rate if n.startswith("raw_")), key=rate.__getitem__)
    regex_rate = len(sample) / on_sample["regex"]
    many_on_sample = len(sample) / on_sample["many"]
    return {
        "python": platform.python_version(),
        "clock": "wall",
        "threads": 1,  # every runner is single-threaded: posts/s is posts/s per core
        "rounds": rounds,
        "queries": len(texts),
        "posts": n_posts,
        "matches": sum(len(r) for r in results),
        "posts_matched": sum(1 for r in results if r),
        "scanner": matcher.scanner,
        "build_s": round(build_s, 3),
        "build_s_portable": round(build_portable_s, 3),
        "posts_per_s_engine_many": round(rate["many"]),
        "posts_per_s_engine": round(rate["engine"]),
        "posts_per_s_engine_portable": round(rate["portable"]),
        **{f"posts_per_s_{name}": round(rate[name]) for name in raws},
        "raw_missing": missing,
        "raw_hits": next(iter(hits.values())),
        "fastest_raw": fastest,
        "posts_per_s_fastest_raw": round(rate[fastest]),
        "regex_sample": len(sample),
        "posts_per_s_regex": round(regex_rate, 1),
        "posts_per_s_engine_many_on_regex_sample": round(many_on_sample),
        "regex_agrees_with_engine": agree,
        "scanners_agree": scanners_agree,
        "reference_checked_posts": n_posts,
        "reference_mismatches": len(mismatches),
        "reference_first_mismatch": mismatches[0] if mismatches else None,
        "reference_queries_without_cover": uncovered,
        "reference_seconds": round(reference_s, 1),
        "ratio_many_fastest_raw": round(rate["many"] / rate[fastest], 3),
        "ratio_many_raw_pyahocorasick": round(rate["many"] / rate["raw_pyahocorasick"], 3),
        "ratio_many_regex": round(many_on_sample / regex_rate, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--regex-sample", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=3, help="tries per chunk; the best counts")
    ap.add_argument("--show", type=int, default=0, help="print N sample queries and posts")
    args = ap.parse_args(argv)
    figures = measure(queries=args.queries, posts=args.posts, regex_sample=args.regex_sample,
                      seed=args.seed, rounds=args.rounds, show=args.show)
    rounds, scanner = args.rounds, figures["scanner"]
    print(f"queries {figures['queries']:,}, posts {figures['posts']:,}, wall time, "
          f"one thread, best of {rounds}")
    print(f"build {figures['build_s']:.2f} s ({scanner}), "
          f"{figures['build_s_portable']:.2f} s (pyahocorasick)")
    print(f"(a) engine match_many {figures['posts_per_s_engine_many']:>12,} posts/s   ({scanner})")
    print(f"    engine match      {figures['posts_per_s_engine']:>12,} posts/s")
    print(f"    engine portable   {figures['posts_per_s_engine_portable']:>12,} posts/s   "
          "(match_many, pyahocorasick)")
    for key, value in figures.items():
        if key.startswith("posts_per_s_raw_"):
            print(f"(b) {key.removeprefix('posts_per_s_'):<18} {value:>12,} posts/s")
    if figures["raw_missing"]:
        print(f"    not installed: {', '.join(figures['raw_missing'])}")
    print(f"(c) regex             {figures['posts_per_s_regex']:>12,.1f} posts/s   "
          f"(sample of {figures['regex_sample']:,}; engine on the same sample, timed the same "
          f"way: {figures['posts_per_s_engine_many_on_regex_sample']:,})")
    print(
        f"match_many / fastest raw ({figures['fastest_raw']}) {figures['ratio_many_fastest_raw']}; "
        f"/ raw pyahocorasick {figures['ratio_many_raw_pyahocorasick']}; "
        f"/ regex {figures['ratio_many_regex']}"
    )
    print(
        f"matches {figures['matches']:,} in {figures['posts_matched']:,} posts; "
        f"engine == reference evaluator on all {figures['reference_checked_posts']:,} posts: "
        f"{figures['reference_mismatches'] == 0} ({figures['reference_mismatches']} differ); "
        f"engine == regex on the sample: {figures['regex_agrees_with_engine']}; "
        f"scanners agree: {figures['scanners_agree']}"
    )
    print(json.dumps(figures))
    ok = figures["regex_agrees_with_engine"] and figures["scanners_agree"]
    return 0 if ok and figures["reference_mismatches"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
