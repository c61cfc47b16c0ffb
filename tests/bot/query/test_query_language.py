"""Every example and rule of QUERY.md (and docs/query.md), checked on both evaluators."""

from __future__ import annotations

import pytest

from bot.query import Candidate, Matcher, evaluate, parse


def matches(query: str, text: str, **post: str | None) -> bool:
    """Both the engine and the reference evaluator, which must agree."""
    c = Candidate(text, **post)  # type: ignore[arg-type]
    engine = Matcher.build({1: query}).match(c) == [1]
    reference = evaluate(parse(query), c)
    assert engine == reference, f"engine {engine} != reference {reference}"
    return engine


# The examples table of QUERY.md: (query, matches, does not match)
EXAMPLES = [
    ("acme", ["I love ACME!", "acme's new app"], ["acmeco rocks"]),
    ('"acme rocket"', ["The Acme, rocket-fast"], ["rocket by acme"]),
    ("acme -jobs", ["acme is down"], ["acme jobs in Berlin"]),
    (
        "acme NEAR/2 (broken OR down)",
        ["acme app is down"],
        ["acme released a new app, never down"],
    ),
    ("#acme OR @acme", ["#Acme rocks", "hey @acme help"], ["acme rocks"]),
]


@pytest.mark.parametrize(("query", "yes", "no"), EXAMPLES)
def test_examples_table(query: str, yes: list[str], no: list[str]) -> None:
    for text in yes:
        assert matches(query, text), text
    for text in no:
        assert not matches(query, text), text


def test_examples_of_the_user_docs() -> None:
    query = 'acme* NEAR/3 (kaputt OR broken OR "not working")'
    assert matches(query, "AcmeCorp ist kaputt")
    assert not matches(query, "acme works, my bike is broken again today")
    query = '(acme OR "acme bank") -author:acme_official lang:(de OR en)'
    assert matches(query, "Die Acme Bank hat mir geholfen", author="kunde", lang="de")
    assert not matches(query, "Die Acme Bank hilft", author="acme_official", lang="de")
    assert not matches(query, "La banque acme", author="client", lang="fr")
    query = '"acme app" -site:acme.com network:(reddit OR hackernews)'
    assert matches(query, "the acme app crashed", network="reddit", url="https://reddit.com/r/x")
    assert not matches(query, "the acme app", network="reddit", url="https://blog.acme.com/")
    assert matches("mul?er", "Müller")
    assert not matches("stra?e", "Straße")
    assert matches("rock and roll", "Rock and Roll!")
    assert not matches("rock and roll", "rock roll")


def test_example_lang_field_uses_the_posts_language() -> None:
    assert matches("müller lang:de", "Mueller liefert nicht", lang="de")
    assert not matches("müller lang:de", "Mueller liefert nicht", lang="en")


# -- text matching ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Acme!", "ACME's", "#acme", "@acme", "(acme)", "acme_", "ＡＣＭＥ", "ACME."]
)
def test_whole_words_in_any_case_and_punctuation(text: str) -> None:
    expected = text != "acme_"  # "_" is a word character: "acme_" is another word
    assert matches("acme", text) is expected


@pytest.mark.parametrize("text", ["acmeco", "notacme", "acme2", "acme_corp"])
def test_not_inside_other_words(text: str) -> None:
    assert not matches("acme", text)


def test_nfkc_normalisation() -> None:
    assert matches("acme", "ＡＣＭＥ rocks")  # full-width letters
    assert matches("office", "the ofﬁce")  # the "fi" ligature
    assert matches("cafe", "cafe\u0301")  # decomposed é


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("müller", "Mueller", True),
        ("müller", "Muller", True),
        ("müller", "MÜLLER", True),
        ("mueller", "Müller", True),
        ("muller", "Müller", True),
        ("muller", "Mueller", False),
        ("mueller", "Muller", False),
        ("cafe", "Café", True),
        ("café", "cafe", True),
        ("straße", "Strasse", True),
        ("strasse", "Straße", True),
        ("STRASSE", "straße", True),
        ("soren", "Søren", True),
        ("lodz", "Łódź", True),
        ("über", "Ueber", True),
        ("uber", "Über", True),
    ],
)
def test_accent_and_german_folding(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


def test_each_phrase_word_may_match_by_either_folding() -> None:
    # "müller" matches "Mueller" by transliteration, "cafe" matches "Café" by stripping.
    assert matches('"müller cafe"', "Mueller Café")
    assert matches('"muller mueller"', "Müller Müller")


def test_query_word_with_punctuation_is_a_phrase() -> None:
    assert matches("e-bike", "my new e bike")
    assert matches("e-bike", "E-Bike!")
    assert not matches("e-bike", "bike e")
    assert matches("acme.io", "visit acme.io today")
    assert matches("acme.io", "acme io")
    assert parse("e-bike") == parse('"e bike"')


def test_phrase_ignores_punctuation_between_words() -> None:
    assert matches('"acme rocket"', "Acme... Rocket")
    assert matches('"acme rocket"', "acme #rocket")
    assert not matches('"acme rocket"', "acme big rocket")


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("acme*", "acme", True),
        ("acme*", "acmes", True),
        ("acme*", "AcmeCorp", True),
        ("acme*", "notacme", False),
        ("ac?e", "acme", True),
        ("a?me", "ACME", True),  # QUERY.md's own example of ?
        ("a?me", "acne", False),
        ("ac?e", "acne", True),
        ("a?me", "ame", False),
        ("a?me", "acmes", False),
        ("a?me*", "acmecorp", True),
        ("#a?me", "#acme", True),
        ("#a?me", "acme", False),
        ("b?ke?", "bikes", True),
        ("ac?e", "ace", False),
        ("ac?e", "acmme", False),
        ("ac?e", "ac1e", False),  # ? is a letter, not a digit
        ("rock*t", "rocket", True),
        ("rock*t", "rockt", True),
        ("rock*t", "rock it", False),  # wildcards stay within one word
        ("mü*", "Mueller", True),
        ("mü*", "Muller", True),
        ("#acme*", "#AcmeCorp", True),
        ("#acme*", "acmecorp", False),
        ("e-bik*", "e-bikes", True),
    ],
)
def test_wildcards(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


def test_wildcards_inside_quotes_are_punctuation() -> None:
    assert matches('"is acme down?"', "is ACME down?")
    assert matches('"acme*"', "acme")
    assert not matches('"acme*"', "acmes")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#acme", True),
        ("#ACME rocks", True),
        ("love it (#acme)", True),
        ("acme", False),
        ("@acme", False),
        ("c#acme", False),  # a sign glued to a word is not a hashtag
        ("##acme", True),
    ],
)
def test_hashtags(text: str, expected: bool) -> None:
    assert matches("#acme", text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hey @acme help", True),
        ("@ACME", True),
        ("@acme@mastodon.social", True),
        ("@acme.bsky.social", True),
        ("acme", False),
        ("#acme", False),
        ("mail support@acme.com", False),  # an e-mail address is not a mention
        ("@acmeco", False),
        ("@other@acme.social", False),  # the instance is not the handle
    ],
)
def test_handles(text: str, expected: bool) -> None:
    assert matches("@acme", text) is expected


def test_plain_word_matches_hashtags_handles_and_addresses() -> None:
    for text in ["#acme", "@acme", "support@acme.com", "@other@acme.social"]:
        assert matches("acme", text), text


def test_hashtag_and_handle_folding() -> None:
    assert matches("#müller", "#Mueller")
    assert matches("@müller", "@muller")


# -- operators -------------------------------------------------------------------------------


def test_and_or_not_and_parentheses() -> None:
    assert matches("acme AND rocket", "rocket acme")
    assert not matches("acme AND rocket", "acme")
    assert matches("acme OR rocket", "rocket")
    assert matches("acme AND NOT jobs", "acme")
    assert not matches("acme AND NOT jobs", "acme jobs")
    assert matches("acme (rocket OR launch)", "acme launch")
    assert not matches("acme (rocket OR launch)", "acme")


def test_juxtaposition_is_and() -> None:
    assert parse("acme rocket") == parse("acme AND rocket")


def test_lower_case_operators_are_words() -> None:
    assert matches("acme and rocket", "acme and rocket")
    assert not matches("acme and rocket", "acme rocket")
    assert matches("acme or", "acme or")
    assert matches("acme not", "acme not")
    assert not matches("acme not", "acme")


def test_minus_shorthand() -> None:
    assert parse("acme -jobs") == parse("acme AND NOT jobs")
    assert parse('acme -"new jobs"') == parse('acme AND NOT "new jobs"')
    assert matches('acme -"new jobs"', "acme jobs")
    assert not matches('acme -"new jobs"', "acme new jobs")
    assert parse("acme -author:bot") == parse("acme AND NOT author:bot")
    assert parse("acme -(a OR b)") == parse("acme AND NOT (a OR b)")


def test_precedence_not_near_and_or() -> None:
    # OR binds loosest: a OR (b AND c)
    assert parse("a OR b c") == parse("a OR (b AND c)")
    assert parse("a OR b AND c") == parse("a OR (b AND c)")
    # NEAR binds tighter than AND
    assert parse("a b NEAR/2 c") == parse("a AND (b NEAR/2 c)")
    # NOT binds tightest
    assert parse("a NOT b OR c") == parse("(a AND (NOT b)) OR c")


def test_double_negation_cancels() -> None:
    assert parse("NOT NOT acme") == parse("acme")


# -- NEAR -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("acme NEAR/3 down", "acme is really very down", True),  # 3 words between
        ("acme NEAR/3 down", "acme is really very much down", False),  # 4 between
        ("acme NEAR/1 down", "acme down", True),
        ("acme NEAR/3 down", "down again, says acme", True),  # either order
        ("acme NEAR/3f down", "down again, says acme", False),  # f: acme first
        ("acme NEAR/3f down", "acme is down", True),
        ('"acme app" NEAR/2 down', "the acme app went down", True),
        ('"acme app" NEAR/1 down', "down: the acme app", True),
        ('"acme app" NEAR/1 down', "down, so the acme app", False),
        ("acme* NEAR/2 (kaputt OR broken)", "AcmeCorp ist kaputt", True),
        ("#acme NEAR/2 fail", "#acme epic fail", True),
        ("acme NEAR/2 acme", "acme acme", True),
        ("acme NEAR/2 acme", "just acme", False),  # two distinct occurrences
        ("müller NEAR/1 bräu", "Mueller Brau", True),
    ],
)
def test_near(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected


# -- fields ---------------------------------------------------------------------------------


def test_lang_field() -> None:
    assert matches("acme lang:de", "acme", lang="de")
    assert matches("acme lang:de", "acme", lang="de-AT")
    assert matches("acme lang:de", "acme", lang="DE")
    assert not matches("acme lang:de", "acme", lang="en")
    assert not matches("acme lang:de", "acme")  # unknown language
    assert matches("acme -lang:de", "acme")
    assert matches("acme lang:(de OR en)", "acme", lang="en")
    assert not matches("acme lang:(de OR en)", "acme", lang="fr")
    assert matches("acme LANG:DE", "acme", lang="de")


def test_lang_is_detected_lazily_and_once() -> None:
    calls: list[int] = []

    def detect() -> str:
        calls.append(1)
        return "de"

    matcher = Matcher.build({1: "acme lang:de", 2: "rocket lang:(de OR en)", 3: "acme"})
    assert matcher.needs_lang == {1, 2}
    assert matcher.match(Candidate("nothing here", detect_lang=detect)) == []
    assert calls == []  # no query that needs the language was evaluated
    assert matcher.match(Candidate("acme rocket", detect_lang=detect)) == [1, 2, 3]
    assert calls == [1]  # detected once for both queries
    calls.clear()
    assert matcher.match(Candidate("acme rocket", lang="en", detect_lang=detect)) == [2, 3]
    assert calls == []  # the network's language is used when given
    assert evaluate(parse("acme lang:de"), Candidate("acme", detect_lang=detect))
    assert calls == [1]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://reddit.com/r/acme", True),
        ("https://www.reddit.com/r/acme", True),
        ("https://old.reddit.com/r/acme", True),
        ("https://REDDIT.COM./x", True),
        ("https://notreddit.com/r/acme", False),
        ("https://reddit.com.evil.io/", False),
        ("reddit.com/r/acme", False),  # no scheme: no host
        (None, False),
        ("http://[::1", False),  # malformed
    ],
)
def test_site_field(url: str | None, expected: bool) -> None:
    assert matches("acme site:reddit.com", "acme", url=url) is expected


def test_site_field_with_international_domain() -> None:
    assert matches("acme site:bücher.de", "acme", url="https://xn--bcher-kva.de/x")
    assert matches("acme site:bücher.de", "acme", url="https://www.bücher.de/x")


def test_network_field() -> None:
    assert matches("acme network:mastodon", "acme", network="mastodon")
    assert matches("acme network:mastodon", "acme", network="Mastodon")
    assert not matches("acme network:mastodon", "acme", network="bluesky")
    assert matches("acme network:(reddit OR hackernews)", "acme", network="hackernews")


@pytest.mark.parametrize(
    ("author", "expected"),
    [("acme_official", True), ("@acme_official", True), ("ACME_Official", True), (None, False)],
)
def test_author_field(author: str | None, expected: bool) -> None:
    assert matches("acme author:acme_official", "acme", author=author) is expected
    assert matches("acme author:@acme_official", "acme", author=author) is expected


def test_author_handle_is_compared_whole() -> None:
    assert not matches("acme author:acme", "acme", author="acme@mastodon.social")
    assert matches("acme author:acme@mastodon.social", "acme", author="@Acme@Mastodon.social")


def test_fields_combine_like_terms() -> None:
    query = "acme -author:acme_official lang:(de OR en)"
    assert matches(query, "acme", author="fan", lang="de")
    assert not matches(query, "acme", author="acme_official", lang="de")
    assert not matches(query, "acme", author="fan", lang="fr")


def test_curly_quotes_from_documents() -> None:
    assert parse("“acme rocket”") == parse('"acme rocket"')
    assert parse("„Müller Bräu“") == parse('"müller bräu"')


def test_unicode_text_does_not_break_matching() -> None:
    assert matches("acme", "acme \ud800 x")  # a lone surrogate from a bad payload
    assert matches("привет", "Привет, мир")
    assert matches("東京", "東京 タワー")
    assert not matches("acme", "😀" * 40)
