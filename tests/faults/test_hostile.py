"""Issue 8, point 5 (part): parsers meet 10,000 hostile examples each and fail cleanly.

Pure parse functions only (no database), deadline off. Done so far: the query language, the
signed webhook's post parser, the replay parser and the command-line splitter. (The other
networks' payload parsers and commands.dispatch are not covered here yet.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.query import QueryError, parse
from commands import parse_line
from commands.base import UsageError
from integrations.networks.replay import parse_post
from integrations.networks.webhook_net import parse_pushed

MANY = settings(max_examples=10_000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

query_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(['acme', '"', '(', ')', 'AND', 'OR', 'NOT', 'NEAR/3', '*', '?',
                              'lang:de', 'network:x', '-', '#tag', '@who', ' ', 'ü', '\x00',
                              '\u202e', 'author:', '"a b"', 'NEAR/', '~']), max_size=40)
    .map("".join),
)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values: st.SearchStrategy[Any] = scalars | st.lists(scalars, max_size=3)
FIELDS = ("network", "id", "text", "url", "created_at", "author", "lang", "followers")
post_like = st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, scalars))


@MANY
@given(query_text)
def test_query_parser_raises_only_query_errors(text: str) -> None:
    try:
        parse(text)
    except QueryError as exc:
        assert isinstance(exc.message, str) and exc.message


@MANY
@given(st.one_of(post_like, json_values))
def test_webhook_post_parser_raises_only_value_errors(raw: Any) -> None:
    try:
        post = parse_pushed(raw, NOW)
    except ValueError as exc:
        assert str(exc)
    else:
        assert post.text and post.external_id


@MANY
@given(post_like)
def test_replay_parser_raises_only_value_or_type_errors(raw: dict[str, Any]) -> None:
    try:
        parse_post(json.loads(json.dumps(raw, default=str)))
    except (ValueError, TypeError) as exc:
        assert str(exc)


@MANY
@given(st.text(max_size=300))
def test_command_lines_split_or_fail_cleanly(line: str) -> None:
    try:
        name, args = parse_line(line)
    except UsageError as exc:  # e.g. an unclosed quote: told to the user, not a crash
        assert str(exc)
    else:
        assert name == name.lower() and isinstance(args, str)
