"""Rejected queries: each with its own message and the column of the problem."""

from __future__ import annotations

import pickle

import pytest

from bot.query import Matcher, QueryError, describe, parse


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("", 1, "empty query"),
        ("   ", 1, "empty query"),
        ("NOT acme", 1, "the query needs a word"),
        ("lang:de", 1, "the query needs a word"),
        ("-acme lang:de", 1, "the query needs a word"),
        ("acme OR NOT jobs", 9, "every OR branch needs a word"),
        ("acme OR lang:de", 9, "every OR branch needs a word"),
        ("acme OR -jobs", 9, "every OR branch needs a word"),
        ("*", 1, "too broad"),
        ("a*", 1, "too broad"),
        ("?", 1, "too broad"),
        ("a?", 1, "too broad"),
        ("?cme", 1, "too broad"),
        ("a?*", 1, "too broad"),
        ("acme x*", 6, "too broad"),
        ("12*", 1, "too broad"),
        ("#a*", 1, "too broad"),
        ("acme NEAR/0 x", 6, "NEAR distance must be between 1 and 50"),
        ("acme NEAR/51 x", 6, "NEAR distance must be between 1 and 50"),
        ("acme NEAR x", 6, "NEAR needs a distance"),
        ("acme NEAR/x y", 6, "NEAR needs a distance"),
        ("acme near/3 x", 6, "operators are upper case: write NEAR/3"),
        ("x" * 2001, 2001, "longer than 2,000 characters"),
        ("(acme", 1, "unbalanced parenthesis"),
        ("acme (rocket OR launch", 6, "unbalanced parenthesis"),
        ("acme)", 5, "unbalanced parenthesis"),
        (")acme", 1, "unbalanced parenthesis"),
        ("()", 1, "empty parentheses"),
        ("acme AND", 6, "AND needs something after it"),
        ("acme OR", 6, "OR needs something after it"),
        ("acme NOT", 6, "NOT needs something after it"),
        ("acme AND OR rocket", 6, "AND needs something after it"),
        ("AND acme", 1, "AND needs something before it"),
        ("OR acme", 1, "OR needs something before it"),
        ("(OR acme)", 2, "OR needs something before it"),
        ("NEAR/2 acme", 1, "NEAR/2 needs something before it"),
        ("acme NEAR/2", 6, "NEAR/2 needs something after it"),
        ("acme -", 6, "'-' must be directly followed"),
        ("acme - jobs", 6, "'-' must be directly followed"),
        ('acme "rocket', 6, "unterminated quote"),
        ('""', 1, "empty phrase"),
        ('acme "!!"', 6, "empty phrase"),
        ("!!!", 1, "has no letters or digits"),
        ("#", 1, "empty hashtag"),
        ("@", 1, "empty handle"),
        ("foo:bar", 1, "unknown field 'foo:'"),
        ("acme https://acme.io", 6, "unknown field 'https:'"),
        ("acme lang:", 6, "lang: needs a value"),
        ("acme lang:deu", 11, "two-letter ISO 639-1 code"),
        ("acme lang:d1", 11, "two-letter ISO 639-1 code"),
        ("acme network:tiktok", 14, "unknown network 'tiktok'"),
        ("acme site:https://x.com/a", 11, "site: takes a domain"),
        ("acme site:*.x.com", 11, "site: takes a domain"),
        ("acme author:@", 13, "author: takes a handle"),
        ("acme author:acme*", 13, "author: takes a handle"),
        ('acme lang:("de")', 12, "a phrase cannot be a value of lang:"),
        ("acme lang:(site:x.com)", 12, "a field cannot be a value of lang:"),
        ("acme lang:(de NEAR/2 en)", 15, "NEAR cannot be used inside lang:"),
        ("acme NEAR/2 NOT x", 13, "each side of NEAR must be"),
        ("acme NEAR/2 (x AND y)", 13, "each side of NEAR must be"),
        ("acme NEAR/2 lang:de", 13, "each side of NEAR must be"),
        ("a NEAR/2 b NEAR/2 c", 12, "NEAR cannot be chained"),
        ("(a NEAR/2 b) NEAR/2 c", 1, "NEAR cannot be chained"),
        ("(" * 51 + "acme" + ")" * 51, 51, "nested more than 50 deep"),
    ],
)
def test_rejected(query: str, column: int, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(query)
    e = caught.value
    assert message in e.message
    assert e.column == column, e
    assert str(e) == f"query error at column {column}: {e.message}"
    assert isinstance(e, ValueError)


def test_build_names_the_brand_with_the_bad_query() -> None:
    with pytest.raises(QueryError) as caught:
        Matcher.build({1: "acme", 7: "acme AND", 9: "NOT x"})
    assert caught.value.key == 7
    assert caught.value.column == 6
    assert str(caught.value) == "query error at column 6: AND needs something after it"


def test_error_survives_pickling() -> None:
    e = QueryError(3, "bad", key=5)
    again = pickle.loads(pickle.dumps(e))
    assert (again.column, again.message, again.key, str(again)) == (3, "bad", 5, str(e))


def test_nesting_up_to_the_limit_is_fine() -> None:
    assert describe(parse("(" * 50 + "acme" + ")" * 50)) == "acme"


def test_longest_query_is_accepted() -> None:
    query = " OR ".join(["acme"] * 400)[:2000].rsplit(" OR", 1)[0]
    assert len(query) <= 2000
    parse(query)


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("acme", "acme"),
        ("ACME -jobs", "(acme AND (NOT jobs))"),
        ("acme rocket OR launch", "((acme AND rocket) OR launch)"),
        ("a AND (b AND c)", "(a AND b AND c)"),
        ("e-bike", '"e bike"'),
        ('"Acme, Rocket!"', '"acme rocket"'),
        ("#e-bike", "#e-bike"),
        ("e-bik*", "e-bik*"),
        ("@Acme", "@acme"),
        ('acme NEAR/3f (down OR "not working")', '(acme NEAR/3f (down OR "not working"))'),
        ("Müller lang:(de OR en)", "(müller AND (lang:de OR lang:en))"),
        ("acme -site:WWW.Acme.com -author:@Acme_HQ", None),
        ("acme network:Mastodon", "(acme AND network:mastodon)"),
    ],
)
def test_describe_is_canonical_and_parses_back(query: str, canonical: str | None) -> None:
    node = parse(query)
    text = describe(node)
    if canonical is not None:
        assert text == canonical
    else:
        assert text == "(acme AND (NOT site:www.acme.com) AND (NOT author:acme_hq))"
    assert parse(text) == node


def test_every_network_echtzeit_reads_can_be_named_in_a_query() -> None:
    """The query language knows every network the registry can turn on (facebook and
    instagram were missing: `acme network:facebook` was a query error)."""
    from bot.query import describe, parse
    from integrations.networks.registry import NETWORKS as REGISTERED

    for network in REGISTERED:
        assert describe(parse(f"acme network:{network}")) == f"(acme AND network:{network})"
