"""Moderation from chat: `hide <id>` / `unhide <id>` through the command registry, against the
fake Graph APIs of Facebook and Instagram (their hide endpoints and permission rules), recorded
in the event log and shown on the card."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from bot.cards import card_for
from bot.pipeline import Pipeline
from bot.store import Store
from commands import dispatch
from commands.base import Deps, Invocation, Result, Role
from integrations.chat.console.render import render_card
from integrations.chat.discord.render import CUSTOM_ID_PATTERN, card_components, card_embed
from integrations.networks import facebook_net, instagram_net
from tests.integrations.networks.conftest import Gate, pump_rounds, stored, stored_mention
from tests.integrations.networks.test_facebook_net import FakeGraph
from tests.integrations.networks.test_facebook_net import build as build_facebook
from tests.integrations.networks.test_instagram_net import FakeInstagramGraph
from tests.integrations.networks.test_instagram_net import build as build_instagram

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MARA = "911874523980045_1203301122334455"  # a comment on the Page's post
VISITOR = "104882255478301_912003417301122"  # a visitor post on the Page


@pytest.fixture
def graph() -> FakeGraph:
    return FakeGraph()


@pytest.fixture
def ig_graph() -> FakeInstagramGraph:
    return FakeInstagramGraph()


@pytest.fixture
async def client(graph: FakeGraph, ig_graph: FakeInstagramGraph,
                 ) -> AsyncIterator[httpx.AsyncClient]:
    def route(request: httpx.Request) -> httpx.Response:
        token = request.headers.get("Authorization", "")
        return ig_graph(request) if "instagram" in token else graph(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(route)) as c:
        yield c


async def say(store: Store, deps: Deps, line: str, *, user: str = "Ana",
              roles: frozenset[Role] = frozenset({Role.RESPONDER})) -> Result:
    inv = Invocation(user=user, platform="console", roles=roles)
    return await dispatch(line, inv, deps)


async def test_hide_and_unhide_a_facebook_comment_from_chat(
    client: httpx.AsyncClient, graph: FakeGraph, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    source, _, _, api = build_facebook(client)
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    ids = {v.mention.external_id: v.mention.id or 0 for v in stored(sqlite_store)}
    mid = ids[MARA]
    moderators = {"facebook": facebook_net.FacebookModerator(api)}
    deps = Deps(store=sqlite_store, moderators=moderators, now=lambda: NOW)

    card = card_for(sqlite_store.view(mid), moderators=moderators)
    assert card.actions[-1] == "hide" and card.hidden_by is None
    result = await say(sqlite_store, deps, f"hide {mid}")
    assert result.ok, result.text
    assert result.text == f"#{mid} hidden on facebook by Ana."
    assert graph.hidden == {MARA: True}
    assert graph.written[-1] == (MARA, {"is_hidden": ["true"]})
    (event,) = sqlite_store.events(mention_id=mid, kind="hidden")
    assert event.actor == "Ana"
    view = sqlite_store.view(mid)
    assert view.hidden_by == "Ana" and view.hidden_at is not None
    card = card_for(view, moderators=moderators)
    assert card.hidden_by == "Ana" and card.actions[-1] == "unhide"
    assert "hidden on facebook by Ana" in render_card(card, NOW)
    # Discord: an Unhide button whose custom id its interaction handler accepts.
    ids_discord = [c["custom_id"] for row in card_components(card) for c in row["components"]
                   if "custom_id" in c]
    assert f"ez:unhide:{mid}" in ids_discord
    assert re.fullmatch(CUSTOM_ID_PATTERN, f"ez:unhide:{mid}")
    assert "hidden on facebook by Ana" in card_embed(card)["fields"][0]["value"]
    # Its chat cards are marked for an update (the relay redraws them).
    assert all(d.needs_update for d in sqlite_store.deliveries(mention_id=mid))

    result = await say(sqlite_store, deps, f"unhide {mid}", user="Ben")
    assert result.ok and result.text == f"#{mid} shown again on facebook by Ben."
    assert graph.hidden == {MARA: False}
    assert [e.actor for e in sqlite_store.events(mention_id=mid, kind="unhidden")] == ["Ben"]
    view = sqlite_store.view(mid)
    assert view.hidden_by is None
    assert card_for(view, moderators=moderators).actions[-1] == "hide"

    # A visitor post is not a comment: Facebook cannot hide it, and the card offers nothing.
    visitor = ids[VISITOR]
    result = await say(sqlite_store, deps, f"hide {visitor}")
    assert not result.ok and "Facebook hides comments only, not posts" in result.text
    assert "hide" not in card_for(sqlite_store.view(visitor), moderators=moderators).actions
    assert VISITOR not in graph.hidden


async def test_a_missing_permission_is_named_and_nothing_is_logged(
    client: httpx.AsyncClient, graph: FakeGraph, ig_graph: FakeInstagramGraph,
    sqlite_store: Store,
) -> None:
    _, _, _, fb_api = build_facebook(client)
    _, _, _, ig_api = build_instagram(client)
    deps = Deps(store=sqlite_store, moderators={
        "facebook": facebook_net.FacebookModerator(fb_api),
        "instagram": instagram_net.InstagramModerator(ig_api)})
    graph.permissions.discard("pages_manage_engagement")
    mid = stored_mention(sqlite_store, "facebook", MARA, in_reply_to="911874523980045")
    result = await say(sqlite_store, deps, f"hide {mid}")
    assert not result.ok
    assert result.text == (
        f"#{mid} not hidden: Facebook refused: the token lacks the pages_manage_engagement "
        "permission (Graph error 200: (#200) Requires pages_manage_engagement permission to "
        "manage the object)")
    assert sqlite_store.events(mention_id=mid, kind="hidden") == []
    assert sqlite_store.view(mid).hidden_by is None

    ig_graph.permissions.discard("instagram_manage_comments")
    comment = stored_mention(sqlite_store, "instagram", "17858893269000001")
    result = await say(sqlite_store, deps, f"hide {comment}")
    assert not result.ok and "lacks the instagram_manage_comments permission (Graph error 10" \
        in result.text


async def test_hide_an_instagram_comment_and_where_instagram_cannot(
    client: httpx.AsyncClient, ig_graph: FakeInstagramGraph, sqlite_store: Store,
) -> None:
    _, _, _, api = build_instagram(client)
    deps = Deps(store=sqlite_store,
                moderators={"instagram": instagram_net.InstagramModerator(api)})
    mid = stored_mention(sqlite_store, "instagram", "17858893269000001",
                         in_reply_to="17920112008063024")
    result = await say(sqlite_store, deps, f"hide {mid}", user="Ana")
    assert result.ok, result.text
    assert ig_graph.hidden == {"17858893269000001": True}
    assert ig_graph.written[-1] == ("/17858893269000001", {"hide": ["true"]})
    assert sqlite_store.view(mid).hidden_by == "Ana"
    # A comment elsewhere that @mentions the account is not the account's to hide.
    elsewhere = stored_mention(sqlite_store, "instagram",
                               "mention-comment:17995511223344001:17887498072083521")
    result = await say(sqlite_store, deps, f"hide {elsewhere}")
    assert not result.ok and "only on the account's own media" in result.text
    assert len(ig_graph.hidden) == 1
    # Another comment the API refuses to hide: its refusal in one line.
    other = stored_mention(sqlite_store, "instagram", "17858893269000077")
    result = await say(sqlite_store, deps, f"hide {other}")
    assert not result.ok and "Instagram refused: (#100) The comment cannot be hidden" \
        in result.text


async def test_networks_without_hide_say_so_and_bad_input_is_explained(
    sqlite_store: Store,
) -> None:
    deps = Deps(store=sqlite_store)
    toot = stored_mention(sqlite_store, "mastodon", "109999")
    result = await say(sqlite_store, deps, f"hide {toot}")
    assert not result.ok
    assert result.text == f"#{toot}: Mastodon has no hide for others' posts; use mute or report."
    fb = stored_mention(sqlite_store, "facebook", MARA)
    result = await say(sqlite_store, deps, f"hide {fb}")
    assert not result.ok and "facebook is not configured to hide comments" in result.text
    result = await say(sqlite_store, deps, "hide")
    assert not result.ok and "usage: hide <id>" in result.text
    result = await say(sqlite_store, deps, "unhide 1 2")
    assert not result.ok and "usage: unhide <id>" in result.text
    result = await say(sqlite_store, deps, "hide 999999")
    assert not result.ok and "999999" in result.text
    # Only people allowed to answer customers may hide.
    result = await say(sqlite_store, deps, f"hide {fb}", roles=frozenset())
    assert not result.ok and "only people allowed to answer customers" in result.text
