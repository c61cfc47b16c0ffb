"""The engine's own seams: building, batches, lazy language detection, odd input."""

from __future__ import annotations

import platform
import sys
import time

import pytest

from bot.query import Candidate, Matcher, QueryError, evaluate, parse, uses_lang


def test_empty_matcher_matches_nothing() -> None:
    matcher = Matcher.build({})
    assert len(matcher) == 0
    assert matcher.match(Candidate("acme")) == []
    assert matcher.match_many([Candidate("acme"), Candidate("x")]) == [[], []]
    assert matcher.match_many([]) == []


def test_results_are_sorted_brand_ids() -> None:
    matcher = Matcher.build({30: "acme", 4: "#acme", 17: "acme -jobs", 2: "rocket"})
    assert matcher.match(Candidate("#ACME rocks")) == [4, 17, 30]
    assert matcher.match(Candidate("acme rocket jobs")) == [2, 30]


def test_build_error_carries_the_brand_id() -> None:
    with pytest.raises(QueryError) as caught:
        Matcher.build({3: "acme", 8: "acme NEAR/99 x"})
    assert caught.value.key == 8
    assert caught.value.column == 6


def test_parsed_queries_and_language_needs_are_exposed() -> None:
    matcher = Matcher.build({1: "acme lang:de", 2: "acme", 3: "acme -lang:(de OR en)"})
    assert matcher.queries[2] == parse("acme")
    assert matcher.needs_lang == {1, 3}
    assert uses_lang(parse("x -lang:de")) and not uses_lang(parse("x -site:a.com"))


def test_detection_is_skipped_when_another_condition_already_fails() -> None:
    def detect() -> str:
        raise AssertionError("language detection should not run")

    matcher = Matcher.build({1: "acme -jobs lang:de", 2: "rocket lang:de"})
    assert matcher.match(Candidate("acme jobs", detect_lang=detect)) == []
    assert matcher.match(Candidate("nothing to see", detect_lang=detect)) == []


def test_detection_returning_nothing_means_unknown_language() -> None:
    matcher = Matcher.build({1: "acme lang:de", 2: "acme -lang:de"})
    assert matcher.match(Candidate("acme", detect_lang=lambda: None)) == [2]


POSTS = [
    "acme is down",
    "Müller’s café: acme kaputt #acme",
    "nothing here",
    "MÜLLER AG, @acme@mastodon.social hilft nicht",
    "e-bike\x00acme\x00",  # NUL characters in a post are plain separators
    "",
    "über acme über",
    "😀" * 30 + " acme rocket",
    "acme" * 60,
]
QUERIES = {
    1: "acme",
    2: "#acme OR @acme",
    3: "müller (kaputt OR hilft)",
    4: '"acme rocket" OR e-bike',
    5: "acme NEAR/1 über",
    6: "acme -kaputt lang:de",
    7: "mül* -acme",
    8: "über*",
}


def test_match_many_equals_match_and_reference() -> None:
    matcher = Matcher.build(QUERIES)
    posts = [Candidate(text, lang="de") for text in POSTS]
    batch = matcher.match_many(posts)
    assert batch == [matcher.match(p) for p in posts]
    nodes = {b: parse(q) for b, q in QUERIES.items()}
    assert batch == [[b for b, n in nodes.items() if evaluate(n, p)] for p in posts]
    assert batch[0] == [1, 6]
    assert batch[1] == [1, 2, 3]
    assert batch[4] == [1, 4, 6]
    assert batch[6] == [1, 5, 6, 8]


def test_match_many_returns_independent_lists() -> None:
    matcher = Matcher.build({1: "acme"})
    first, second = matcher.match_many([Candidate("acme"), Candidate("acme")])
    first.append(99)
    assert second == [1]
    assert matcher.match(Candidate("acme")) == [1]


def test_many_brands_sharing_words() -> None:
    queries = {i: f"shared{i % 7} brand{i}" for i in range(500)}
    queries[1000] = "shared1 OR shared2"
    matcher = Matcher.build(queries)
    assert matcher.match(Candidate("brand15 and shared1")) == [15, 1000]
    assert matcher.match(Candidate("brand16 and shared1")) == [1000]


def test_match_many_over_several_internal_batches() -> None:
    matcher = Matcher.build(QUERIES)
    posts = [Candidate(POSTS[i % len(POSTS)] + f" {i}", lang="de") for i in range(2500)]
    assert matcher.match_many(posts) == [matcher.match(p) for p in posts]


def test_match_texts_gives_only_the_matching_posts_and_asks_for_few_candidates() -> None:
    """What the pipeline calls: hits by index over several internal batches; a post's whole
    Candidate is asked for only when one of its hits runs a brand's check."""
    matcher = Matcher.build(QUERIES)
    posts = [Candidate(POSTS[i % len(POSTS)] + f" {i}", lang="de") for i in range(2500)]
    posts += [Candidate(f"nothing to see here {i}", lang="de") for i in range(500)]
    asked: list[int] = []

    def candidate(i: int) -> Candidate:
        asked.append(i)
        return posts[i]

    hits = matcher.match_texts([p.text for p in posts], candidate)
    expected = {i: brands for i, brands in enumerate(matcher.match_many(posts)) if brands}
    assert hits == expected
    assert all(i < 2500 for i in hits)
    assert asked and all(i < 2500 for i in asked)  # never for a post without a hit
    assert len(asked) == len(set(asked))  # once per post at most
    assert set(asked) < set(range(2500))  # not for a hit decided by itself ("acme")
    assert Matcher.build({}).match_texts(["acme"], candidate) == {}


def test_hostile_posts_cost_linear_time() -> None:
    """A huge word, or both NEAR sides repeated thousands of times, must not blow up."""
    matcher = Matcher.build(
        {1: "acme NEAR/2 down", 2: "ab*c*d*e*f", 3: '"acme down" NEAR/3 (xx OR yy*)', 4: "a?me*"}
    )
    posts = [
        "acme " * 20_000 + "down",
        "ab" + "c" * 50_000 + "d",
        "acme down " * 10_000 + "xx",
        "#" + "a" * 100_000,
    ]
    start = time.perf_counter()
    assert matcher.match_many([Candidate(t) for t in posts]) == [[1, 4], [], [1, 3, 4], []]
    assert time.perf_counter() - start < 5  # about 0.2 s; quadratic would take minutes


def test_the_scanner_in_use_is_named_and_either_may_be_chosen() -> None:
    queries = {1: "acme", 2: "müller -jobs"}
    # pyproject.toml installs hyperscan on Linux x86-64, where its wheels are.
    native = sys.platform == "linux" and platform.machine() == "x86_64"
    assert Matcher.build(queries).scanner.startswith("hyperscan" if native else "pyahocorasick")
    assert Matcher.build(queries, scanner="ahocorasick").scanner == "pyahocorasick"
    assert Matcher.build({}).scanner == ""
    with pytest.raises(ValueError, match="scanner: expected one of auto, hyperscan, ahocorasick"):
        Matcher.build(queries, scanner="re2")


def test_a_character_whose_form_is_another_replaced_character() -> None:
    # "ǣ" folds to "æ" (its accent stripped), which written alone folds to "ae": a post with
    # both must keep each to its own form, as the reference evaluator does.
    matcher = Matcher.build({1: "aeble", 2: "æble"})
    posts = [Candidate("\u01e3ble æble"), Candidate("æble"), Candidate("\u01e3ble")]
    expected = [[b for b, q in ((1, "aeble"), (2, "æble")) if evaluate(parse(q), p)] for p in posts]
    assert matcher.match_many(posts) == expected
    assert [matcher.match(p) for p in posts] == expected


def test_threads_may_match_at_once() -> None:
    from concurrent.futures import ThreadPoolExecutor

    matcher = Matcher.build({i: f"brand{i} OR müller{i}" for i in range(200)})
    posts = [Candidate(f"about brand{i % 250} and Müller{i % 7} today") for i in range(3000)]
    expected = matcher.match_many(posts)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(matcher.match_many, [posts] * 8))
    assert all(r == expected for r in results)
    assert expected[3] == [3] and expected[240] == [2]  # "Müller2", brand240 is no brand


def test_without_hyperscan_the_portable_scanner_is_picked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.query.scanner import auto_scanner

    queries = {1: "acme", 2: "müller -jobs", 3: '"acme pay" OR δέλτα', 4: "#acme"}
    posts = [
        Candidate("ACME❤️ is down, Müller says… #acme"),
        Candidate("acme\ufe0f δέλτα ’acme pay’ 😂"),
        Candidate("Mueller jobs at c#acme"),
    ]
    expected = [[b for b, q in queries.items() if evaluate(parse(q), p)] for p in posts]
    monkeypatch.setitem(sys.modules, "hyperscan", None)  # `import hyperscan` fails
    assert auto_scanner() == "pyahocorasick"
    matcher = Matcher.build(queries)
    assert matcher.scanner == "pyahocorasick"
    assert matcher.match_many(posts) == expected
    assert expected[0] == [1, 2, 4] and 3 in expected[1]


@pytest.mark.parametrize("scanner", ["auto", "ahocorasick"])
def test_letters_beyond_ascii_glue_to_words_in_a_batch(scanner: str) -> None:
    # With ASCII keys a batch writes every letter beyond ASCII as one stand-in byte: it must
    # still join the word it is in ("δacme" is no "acme"), and emoji must still part words.
    ascii_keys = {1: "acme", 2: "#acme", 3: "mueller"}
    other_keys = {**ascii_keys, 4: "δacme"}  # a key beyond ASCII: the exact batch form
    posts = [
        Candidate(t)
        for t in ["δacme x", "acmeδ", "😂acme😂", "x ❤️#acme", "ð acme", "c#acme ł", "Müller’s"]
    ]
    for queries in (ascii_keys, other_keys):
        matcher = Matcher.build(queries, scanner=scanner)
        expected = [[b for b, q in queries.items() if evaluate(parse(q), p)] for p in posts]
        assert matcher.match_many(posts) == expected
        assert [matcher.match(p) for p in posts] == expected
