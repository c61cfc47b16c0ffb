"""Mismatches found and not (yet) fixed here, one entry each, as KNOWN_MISMATCHES.md lists
them. The contract tests split these off from what they report, and test_known_mismatches
keeps each one as a strict xfail: when it is fixed (or the description changes), that test
passes, pytest reports XPASS(strict) as a failure, and the entry and its mark are removed.

An entry matches a problem of one case by field (a regular expression over the problem's field)
and by a piece of its spec place: narrow on purpose, so that a new problem in the same payload
is never swallowed by an old entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.contracts.validate import Problem


@dataclass(frozen=True)
class Known:
    id: str  # as headed in KNOWN_MISMATCHES.md
    case: str  # a key of tests.contracts.cases.CASES
    field: str  # regular expression, matched in full against Problem.field
    spec: str  # a substring of Problem.spec
    whose: str  # "code", "fixture", "description" or "unclear"
    summary: str

    def matches(self, problem: Problem) -> bool:
        return re.fullmatch(self.field, problem.field) is not None and self.spec in problem.spec


KNOWN: tuple[Known, ...] = (
    Known("X-3", "x:user_by_username.json", r"body\.data\.public_metrics",
          "x/openapi.json#/components/schemas/UserPublicMetrics", "fixture",
          "the user metric is post_count in the description; the fixture has tweet_count"),
    Known("X-4", "x:unauthorized.json", r"body", "x/openapi.json#/components/schemas/Problem",
          "unclear",
          "the error has type about:blank, which the Problem discriminator does not map"),
    Known("X-4", "x:reply_forbidden.json", r"body",
          "x/openapi.json#/components/schemas/Problem", "unclear",
          "the error has type about:blank, which the Problem discriminator does not map"),
    Known("GH-1", "github:search_issues.json", r"body\.items\[\d+\]\.body",
          "github/openapi.json#/components/schemas/issue-search-result-item/properties/body",
          "description",
          "an issue without a description has body null; the description says string"),
    Known("SLACK-1", "slack:event_message_thread.json", r"\(body\)",
          "slack/event_wrapper.schema.json#/", "unclear",
          "the event wrapper schema (2021) requires authed_users; the fixture has only "
          "authorizations"),
    Known("SLACK-1", "slack:event_app_home_opened.json", r"\(body\)",
          "slack/event_wrapper.schema.json#/", "unclear",
          "the event wrapper schema (2021) requires authed_users; the fixture has only "
          "authorizations"),
    Known("SLACK-2", "slack:requests", r"chat\.postMessage metadata",
          "slack/web_api.json#/paths/~1chat.postMessage/post/parameters", "description",
          "chat.postMessage's metadata argument (message metadata, 2022) is not described"),
    Known("SLACK-3", "slack:requests", r"conversations\.history include_all_metadata",
          "slack/web_api.json#/paths/~1conversations.history/get/parameters", "description",
          "conversations.history's include_all_metadata argument is not described"),
    Known("SLACK-4", "slack:requests", r"conversations\.history",
          "slack/web_api.json#/paths/~1conversations.history/get/responses/200/schema",
          "description",
          "the answer's response_metadata (the next cursor) is not allowed by the description"),
    Known("DISCORD-1", "discord:requests", r"body\.attachments\[\d+\]\.id",
          "discord/openapi.json#/components/schemas/SnowflakeType", "description",
          "an upload's attachments[].id is the integer index of its files[n] part, as "
          "Discord's Uploading Files example shows; the description types it a snowflake "
          "string"),
    Known("DISCORD-2", "discord:requests", r"body\.resource\.type",
          "InteractionCallbackResponse/properties/type", "unclear",
          "an interaction callback answered with_response has resource.type 5, 8 or 9 "
          "(deferred, autocomplete, modal); the description's resource allows only 4, 7 and "
          "12, Discord's documentation any callback type"),
    Known("SLACK-5", "slack:requests", r"conversations\.history\.messages\[\d+\]",
          "slack/web_api.json#/definitions/objs_message", "description",
          "a message's metadata (with include_all_metadata) is not allowed by objs_message"),
)


def split(case: str, problems: list[Problem]) -> tuple[list[Problem], list[Problem]]:
    """(problems no entry explains, problems an entry of `case` explains)."""
    entries = [k for k in KNOWN if k.case == case]
    known = [p for p in problems if any(k.matches(p) for k in entries)]
    return [p for p in problems if p not in known], known
