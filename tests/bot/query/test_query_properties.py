"""Property tests: the engine agrees with the reference evaluator; the parser never crashes."""

from __future__ import annotations

import os
import re
from dataclasses import replace

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.query import Candidate, Matcher, QueryError, describe, evaluate, parse
from bot.query.reference import tokenize
from bot.query.scan import prepare, prepare_batch, scan_batch
from bot.query.view import PostView

try:
    import hyperscan  # noqa: F401

    SCANNERS = ("hyperscan", "ahocorasick")
except ImportError:  # not on this platform (pyproject.toml: Linux x86-64 only)
    SCANNERS = ("ahocorasick",)

# A small vocabulary shared by queries and posts, so that random queries often match random
# posts: German and accented words with both spellings, words that are prefixes of others.
WORDS = [
    "acme",
    "rocket",
    "jobs",
    "down",
    "e",
    "bike",
    "and",
    "müller",
    "mueller",
    "muller",
    "mü",
    "mue",
    "müe",
    "straße",
    "strasse",
    "café",
    "cafe",
    "søren",
    "soren",
    "acmecorp",
]
TEXT_ONLY = ["Müller", "MÜLLER", "STRASSE", "Café", "ACME", "Acmes", "rocketeer", "muesli"]
WILDCARDS = [
    "acme*",
    "ac?e",
    "mü*",
    "mu*",
    "mue*",
    "ro?ket*",
    "st*e",
    "ca?e",
    "rock*t",
    "mü?ler",
    "a?me",
    "m?ller*",
    "s?ren",
    "b?ke",
]
PUNCT = [" ", " ", " ", " ", ", ", "-", ".", "!", "’", " #", " @", "#", "@", " (", ") ", "…", "_"]

# QUERY_HYPOTHESIS_SCALE=20 runs twenty times the examples (for a longer hunt before a
# release); the default keeps the whole query test run well under a minute.
_SCALE = float(os.environ.get("QUERY_HYPOTHESIS_SCALE", "1"))


def _examples(n: int) -> int:
    return max(1, int(n * _SCALE))


settings.register_profile(
    "query",
    database=None,  # no .hypothesis/ folder in the shared work tree
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)

word = st.sampled_from(WORDS)
wildcard = st.sampled_from(WILDCARDS)
marked = st.tuples(st.sampled_from("#@"), st.sampled_from(WORDS + WILDCARDS)).map("".join)
phrase = st.lists(word, min_size=2, max_size=3).map(lambda ws: '"' + " ".join(ws) + '"')
hyphenated = st.lists(st.sampled_from(WORDS + WILDCARDS[:3]), min_size=2, max_size=3).map("-".join)
field = st.sampled_from(
    [
        "lang:de",
        "lang:en",
        "lang:(de OR en)",
        "network:x",
        "network:reddit",
        "site:reddit.com",
        "author:acme_official",
        "author:@Acme",
    ]
)
near_leaf = st.one_of(word, wildcard, phrase, marked)
near_side = st.one_of(
    near_leaf,
    st.lists(near_leaf, min_size=2, max_size=3).map(lambda xs: "(" + " OR ".join(xs) + ")"),
)
near = st.tuples(near_side, st.integers(1, 4), st.booleans(), near_side, st.booleans()).map(
    lambda t: ("({} NEAR/{}{} {})" if t[4] else "{} NEAR/{}{} {}").format(
        t[0], t[1], "f" if t[2] else "", t[3]
    )
)
leaf = st.one_of(word, word, word, wildcard, marked, phrase, hyphenated, field, near, near)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda t: f"({t[0]} AND {t[1]})"),
        pair.map(lambda t: f"({t[0]} OR {t[1]})"),
        pair.map(lambda t: f"({t[0]} OR {t[1]})"),
        pair.map(lambda t: f"{t[0]} {t[1]}"),
        pair.map(lambda t: f"({t[0]} -{t[1]})"),
        children.map(lambda c: f"(NOT {c})"),
    )


expression = st.recursive(leaf, _combine, max_leaves=6)
# Prefixing a positive word keeps NOT- and field-heavy expressions valid (a query alone of
# NOT and fields is rejected), so fewer generated queries are thrown away.
query_text = st.one_of(
    expression,
    st.tuples(st.one_of(word, wildcard, marked, phrase), expression).map(" ".join),
)


def _parses(text: str) -> bool:
    try:
        parse(text)
    except QueryError:
        return False
    return True


def _caps(s: str, flags: list[bool]) -> str:
    return "".join(
        ch.upper() if f else ch for ch, f in zip(s, flags + [False] * len(s), strict=False)
    )


text_word = st.tuples(
    st.sampled_from(WORDS + TEXT_ONLY),
    st.lists(st.booleans(), max_size=8),
).map(lambda t: _caps(*t))
post_text = st.lists(st.tuples(text_word, st.sampled_from(PUNCT)), min_size=4, max_size=24).map(
    lambda parts: "".join(w + p for w, p in parts)
)
candidate = st.builds(
    Candidate,
    text=post_text,
    network=st.sampled_from(["x", "reddit", "mastodon", "X"]),
    url=st.sampled_from(
        [None, "https://www.reddit.com/r/x", "https://reddit.com.evil.io/", "nonsense"]
    ),
    author=st.sampled_from([None, "acme_official", "@ACME", "someone"]),
    lang=st.sampled_from([None, "de", "en", "de-AT", "EN"]),
    detect_lang=st.sampled_from([None, lambda: "de", lambda: "en", lambda: None]),
)


_OPERATORS = re.compile(r"\b(?:AND|OR|NOT|NEAR/\d+f?)\b|[a-z]+:\(?[\w.@]*\)?|[()\"]")


def _echo(query: str, data: st.DataObject) -> str:
    """A post made of a query's own words (wildcards filled in), to make matches likely."""
    words = _OPERATORS.sub(" ", query).replace("*", "s").replace("?", "o").split()
    data.draw(st.randoms(use_true_random=False)).shuffle(words)
    keep = data.draw(st.integers(0, len(words)))
    glue = data.draw(st.lists(st.sampled_from(PUNCT), min_size=len(words), max_size=len(words)))
    return "".join(w + g for w, g in zip(words[:keep] or words, glue, strict=False))


@settings(parent=settings.get_profile("query"), max_examples=_examples(400))
@given(
    queries=st.lists(query_text.filter(_parses), min_size=1, max_size=12),
    posts=st.lists(candidate, min_size=1, max_size=8),
    data=st.data(),
)
def test_engine_agrees_with_reference(
    queries: list[str], posts: list[Candidate], data: st.DataObject
) -> None:
    nodes = {i: parse(q) for i, q in enumerate(queries)}
    echoes = [replace(posts[0], text=_echo(q, data)) for q in queries]
    all_posts = posts + echoes
    for scanner in SCANNERS:  # each scanner, on the same examples
        matcher = Matcher.build(dict(enumerate(queries)), scanner=scanner)
        got = matcher.match_many(all_posts)
        for post, result in zip(all_posts, got, strict=True):
            expected = [i for i, node in nodes.items() if evaluate(node, post)]
            assert result == expected, (
                scanner, post, [(i, queries[i]) for i in set(result) ^ set(expected)]
            )
            assert matcher.match(post) == result


@settings(parent=settings.get_profile("query"), max_examples=_examples(300))
@given(queries=st.lists(query_text.filter(_parses), min_size=1, max_size=6), text=st.text())
def test_engine_agrees_on_arbitrary_unicode(queries: list[str], text: str) -> None:
    matcher = Matcher.build(dict(enumerate(queries)))
    post = Candidate(text, lang="de")
    expected = [i for i, q in enumerate(queries) if evaluate(parse(q), post)]
    assert matcher.match(post) == expected
    assert matcher.match_many([post, Candidate("x"), post]) == [expected, [], expected]


@settings(parent=settings.get_profile("query"), max_examples=_examples(600))
@given(st.lists(st.one_of(post_text, st.text()), min_size=1, max_size=6))
# "ǣ" folds to "æ", which alone folds to "ae": in one batch the one must not become the other.
@example(["\u01e3", "æ"])
@example(["æ\u01e3 Æ", "x"])
@example(["a\x00b", "c"])
@example(["a\x01acme\x03", "\x02ü"])  # control bytes the batch uses for ä/ö/ü inside
@example(["a\x01acme\x03", "\x02"])
def test_a_batch_prepares_each_text_as_alone(texts: list[str]) -> None:
    prepared = prepare_batch(texts)
    if any("\x00" in t for t in texts):
        assert prepared is None
        return
    assert prepared is not None
    accent, german = prepared
    alone = [prepare(t) for t in texts]
    assert accent.split(b"\x00") == [a.encode("utf-8", "surrogatepass") for a, _ in alone]
    assert german.split(b"\x00") == [g.encode("utf-8", "surrogatepass") for _, g in alone]
    assert (accent is german) == all(a is g for a, g in alone)


def _beyond_ascii_as_del(scan: str) -> bytes:
    return re.sub(r"[^\x00-\x7f]", "\x7f", scan).encode("ascii")


@settings(parent=settings.get_profile("query"), max_examples=_examples(600))
@given(st.lists(st.one_of(post_text, st.text()), min_size=1, max_size=6))
@example(["\u01e3", "æ"])
@example(["æ\u01e3 Æ ß ð Þ µ ª", "x"])
@example(["a\x00b", "c"])
@example(["a\x01acme\x03\x7f", "\x02ü"])  # control bytes the batch uses inside
@example(["acme❤️ Ölfeld café δacme ł’x", "\ud800ä"])  # emoji, selector, Greek, surrogate
def test_a_batch_for_ascii_keys_scans_each_text_as_alone(texts: list[str]) -> None:
    prepared = scan_batch(texts)
    if any("\x00" in t for t in texts):
        assert prepared is None
        return
    assert prepared is not None
    accent, german = prepared
    alone = [prepare(t) for t in texts]
    assert accent.split(b"\x00") == [_beyond_ascii_as_del(a) for a, _ in alone]
    assert german.split(b"\x00") == [_beyond_ascii_as_del(g) for _, g in alone]
    assert (accent is german) == all(a is g for a, g in alone)


@settings(parent=settings.get_profile("query"), max_examples=_examples(300))
@given(query_text)
# Found by test_parser_raises_only_query_errors: case folding "ß" before a combining acute
# gave "ss" + U+0301, which parses back as "sś".
@example("ß\u0301")
@example("ﬁ\u0301 acme")
def test_describe_parses_back_to_the_same_tree(text: str) -> None:
    try:
        node = parse(text)
    except QueryError:
        assume(False)
        return
    assert parse(describe(node)) == node


QUERY_ALPHABET = st.one_of(
    st.sampled_from(
        [
            " ",
            "(",
            ")",
            '"',
            "“",
            "„",
            "-",
            "*",
            "?",
            "#",
            "@",
            ":",
            "/",
            "AND",
            "OR",
            "NOT",
            "NEAR/3",
            "NEAR/0",
            "NEAR/3f",
            "NEAR",
            "near/2",
            "lang:",
            "site:",
            "network:",
            "author:",
            "foo:",
            "de",
            "acme",
            "ü",
            "a",
            "\u0301",
            "é",
            "1",
        ]
    ),
    st.characters(),
)


@settings(parent=settings.get_profile("query"), max_examples=_examples(1500))
@given(st.one_of(st.text(), st.lists(QUERY_ALPHABET, max_size=40).map("".join)))
def test_parser_raises_only_query_errors(text: str) -> None:
    try:
        node = parse(text)
    except QueryError as e:
        assert 1 <= e.column <= max(len(text), 1) + 1
        assert str(e) == f"query error at column {e.column}: {e.message}"
    else:
        assert parse(describe(node)) == node


@settings(parent=settings.get_profile("query"), max_examples=_examples(600))
@given(st.one_of(post_text, st.text(), st.lists(QUERY_ALPHABET, max_size=30).map("".join)))
def test_scan_strings_hold_the_reference_words(text: str) -> None:
    """The engine's scan strings and the reference tokenizer see the same words and signs."""
    sa, sg = prepare(text)
    view = PostView(Candidate(text), sa, sg)
    words_a, words_g = view.words()
    tokens = tokenize(text)
    assert words_a == [a for _, a, _ in tokens]
    assert words_g == [g for _, _, g in tokens]
    assert view.markers() == {i: m for i, (m, _, _) in enumerate(tokens) if m}
    assert (sa is sg) == (words_a == words_g)


@settings(parent=settings.get_profile("query"), max_examples=_examples(1000))
@given(st.one_of(st.text(), st.lists(QUERY_ALPHABET, max_size=30).map("".join)))
@example("ß\u0301")
def test_normalising_twice_changes_nothing(text: str) -> None:
    from bot.query.fold import normalise

    once = normalise(text)
    assert normalise(once) == once
