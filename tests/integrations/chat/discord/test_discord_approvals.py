"""Approvals and AI drafts on Discord: the card's Approve / Edit / Reject / Draft with AI / Send
buttons and the Edit and Reject forms, from INTERACTION_CREATE over the gateway through
discord.py to commands/ and back to the fake Discord; a rejection's reason reaches its author by
direct message (or, when they take none, in the channel without a ping). The AI endpoint is the
local fake chat-completions server (testkit/fake_openai.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.relay import Relay
from commands import Deps
from integrations.ai.chat_completions import ChatCompletionsDrafter
from integrations.ai.settings import AiSettings
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.discord.settings import DiscordSettings
from testkit.fake_openai import FakeChatCompletions, Fault
from tests.integrations.chat.discord.conftest import ANA, BEN, OWNER
from tests.integrations.chat.discord.fake_discord import FakeDiscord
from tests.integrations.chat.discord.test_discord_interactions import (
    description,
    done,
    mention,
    relayed_card,
)


@pytest.fixture
async def desk(settings: DiscordSettings, deps: Deps,
               fake: FakeDiscord) -> AsyncIterator[DiscordChat]:
    """Ben approves (ECHTZEIT_APPROVERS); the owner is an admin, so an approver too."""
    deps.store.set_brand_approval(name="Acme", approval="required", networks=[],
                                  min_priority="", actor="setup")
    chat = DiscordChat(settings, deps, guild_ready_timeout=0.05, approvers=[BEN.user_id])
    stop = asyncio.Event()
    task = asyncio.create_task(chat.serve(stop))
    await asyncio.wait_for(chat.ready.wait(), 10)
    await fake.wait_for(lambda: fake.connected == 1)
    try:
        yield chat
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await chat.close()


def sent(tmp_path: Path) -> list[str]:
    file = tmp_path / "replies.jsonl"
    return [json.loads(x)["text"] for x in file.read_text().splitlines()] if file.exists() \
        else []


def card(fake: FakeDiscord) -> dict[str, Any]:
    return fake.channel_messages()[0]


def fields(message: dict[str, Any]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message["embeds"][0]["fields"]}


def button_ids(message: dict[str, Any]) -> list[str]:
    return [c.get("custom_id", "") for row in message["components"] for c in row["components"]]


async def test_approve_by_another_member_sends_once(desk: DiscordChat, fake: FakeDiscord,
                                                    deps: Deps, tmp_path: Path) -> None:
    mid, _ = await relayed_card(deps, desk, fake)
    asked = await fake.interact(fake.command("reply", {"id": str(mid),
                                                       "text": "Sorry @everyone, on it!"}, ANA))
    await done(fake, asked, followups=1)
    assert "waits for approval" in description(asked.followups[0])
    assert sent(tmp_path) == []
    await Relay(deps.store, {"discord": desk}).run_once()
    shown = card(fake)
    assert "awaiting approval" in fields(shown)["Draft"]
    assert "Sorry @\u200beveryone, on it!" in fields(shown)["Draft"]  # escaped: no ping
    assert button_ids(shown)[:3] == [f"ez:approve:{mid}", f"ez:edit:{mid}", f"ez:reject:{mid}"]

    own = await fake.interact(fake.click(shown, f"ez:approve:{mid}", ANA))
    await done(fake, own, followups=1)
    assert "only approvers may use approve" in description(own.followups[0])
    ok = await fake.interact(fake.click(shown, f"ez:approve:{mid}", BEN))
    await done(fake, ok, followups=1)
    assert "Approved the reply by Ana (Care)" in description(ok.followups[0])
    again = await fake.interact(fake.click(shown, f"ez:approve:{mid}", OWNER))
    await done(fake, again, followups=1)
    assert "no reply awaiting approval" in description(again.followups[0])
    assert sent(tmp_path) == ["Sorry @everyone, on it!"]
    redrawn = card(fake)
    assert "approved by Ben" in fields(redrawn)["Draft"]
    assert fields(redrawn)["Reply"].startswith("sent by Ana (Care)")
    assert fake.violations == []


async def test_edit_form_needs_another_approver_and_reject_form_tells_the_author(
        desk: DiscordChat, fake: FakeDiscord, deps: Deps, tmp_path: Path) -> None:
    mid, _ = await relayed_card(deps, desk, fake)
    asked = await fake.interact(fake.command("reply", {"id": str(mid), "text": "sorry"}, ANA))
    await done(fake, asked, followups=1)
    await Relay(deps.store, {"discord": desk}).run_once()
    shown = card(fake)
    click = await fake.interact(fake.click(shown, f"ez:edit:{mid}", BEN))
    await done(fake, click)
    assert click.callback is not None and click.callback["type"] == 9
    modal = click.callback["data"]
    assert modal["custom_id"] == f"ez-edit:{mid}"
    [label] = modal["components"]
    assert label["component"]["value"] == "sorry" and label["component"]["max_length"] == 500
    edited = await fake.interact(fake.submit(modal, {"draft": "Sorry! A fix comes today."},
                                             BEN, shown))
    await done(fake, edited)
    assert "someone other than you" in description(edited.original)
    mine = await fake.interact(fake.click(card(fake), f"ez:approve:{mid}", BEN))
    await done(fake, mine, followups=1)
    assert "you edited this reply" in description(mine.followups[0])
    assert sent(tmp_path) == []

    # A member who is no approver cannot open the Reject form.
    refused = await fake.interact(fake.click(card(fake), f"ez:reject:{mid}", ANA))
    await done(fake, refused)
    assert refused.callback is not None and refused.callback["type"] == 4
    rejecting = await fake.interact(fake.click(card(fake), f"ez:reject:{mid}", OWNER))
    await done(fake, rejecting)
    form = rejecting.callback["data"] if rejecting.callback else {}
    assert form["custom_id"] == f"ez-reject:{mid}"
    no = await fake.interact(fake.submit(form, {"draft": "No dates <@&1> @here"}, OWNER, shown))
    await done(fake, no, followups=1)
    await fake.wait_for(lambda: bool(fake.direct_messages(ANA.user_id)))
    [dm] = fake.direct_messages(ANA.user_id)
    text = dm["embeds"][0]["description"]
    assert text == f"Your reply to #{mid} was rejected by Owner: No dates \\<@&1> @\u200bhere"
    assert dm["content"] == ""
    assert sent(tmp_path) == []
    assert deps.store.view(mid).draft.state == "rejected"  # type: ignore[union-attr]
    assert fake.violations == []


async def test_an_author_without_direct_messages_is_told_in_the_channel(
        desk: DiscordChat, fake: FakeDiscord, deps: Deps) -> None:
    fake.dm_closed.add(ANA.user_id)
    mid, _ = await relayed_card(deps, desk, fake)
    asked = await fake.interact(fake.command("reply", {"id": str(mid), "text": "k"}, ANA))
    await done(fake, asked, followups=1)
    no = await fake.interact(fake.command("reject", {"id": str(mid),
                                                     "reason": "too short"}, BEN))
    await done(fake, no, followups=2)
    told = no.followups[-1]
    assert told["content"] == f"For <@{ANA.user_id}>"
    assert "rejected by Ben: too short" in description(told)
    assert fake.direct_messages(ANA.user_id) == []
    assert fake.violations == []


@pytest.fixture
async def fake_ai() -> AsyncIterator[FakeChatCompletions]:
    fake = await FakeChatCompletions(hang_seconds=3).start()
    yield fake
    await fake.stop()


async def test_ai_draft_button_then_send(desk: DiscordChat, fake: FakeDiscord, deps: Deps,
                                         fake_ai: FakeChatCompletions, tmp_path: Path) -> None:
    async with httpx.AsyncClient() as client:
        deps.drafter = ChatCompletionsDrafter(AiSettings(
            base_url=fake_ai.base_url, model="fake-care-1", timeout_seconds=0.5), client)
        mid = mention(deps)
        assert await Relay(deps.store, {"discord": desk}, ai_drafts=True).run_once() == 1
        shown = card(fake)
        assert f"ez:draft:{mid}" in button_ids(shown)
        fake_ai.replies.extend([Fault("content_filter"),
                                "Sorry @everyone <@&123> [click](https://evil.example)!"])
        filtered = await fake.interact(fake.click(shown, f"ez:draft:{mid}", ANA))
        await done(fake, filtered, followups=1)
        assert "content filter withheld the draft" in description(filtered.followups[0])
        drafted = await fake.interact(fake.click(shown, f"ez:draft:{mid}", ANA))
        await done(fake, drafted, followups=1)
        answer = drafted.followups[0]
        assert answer["flags"] == 64  # only for the member who asked
        draft_field = fields({"embeds": answer["embeds"][1:]})["Draft"]
        assert "@\u200beveryone" in draft_field and "\\[click\\]" in draft_field
        assert button_ids(answer)[:2] == [f"ez:send:{mid}", f"ez:edit:{mid}"]
        assert sent(tmp_path) == []
        # The brand wants approval: Send puts it up for approval; Ben approves.
        send = await fake.interact(fake.click(answer, f"ez:send:{mid}", ANA))
        await done(fake, send, followups=1)
        assert "waits for approval" in description(send.followups[0])
        await Relay(deps.store, {"discord": desk}, ai_drafts=True).run_once()
        ok = await fake.interact(fake.click(card(fake), f"ez:approve:{mid}", BEN))
        await done(fake, ok, followups=1)
    assert sent(tmp_path) == ["Sorry @everyone <@&123> [click](https://evil.example)!"]
    assert fake.violations == []


async def test_the_draft_slash_command_answers_privately_with_the_buttons(
        desk: DiscordChat, fake: FakeDiscord, deps: Deps,
        fake_ai: FakeChatCompletions) -> None:
    async with httpx.AsyncClient() as client:
        deps.drafter = ChatCompletionsDrafter(AiSettings(
            base_url=fake_ai.base_url, model="fake-care-1", timeout_seconds=2), client)
        mid, _ = await relayed_card(deps, desk, fake)
        fake_ai.replies.append("We are on it.")
        state = await fake.interact(fake.command("draft", {"id": str(mid)}, ANA))
        await done(fake, state)
    assert state.followups == []
    assert state.original is not None and state.original["flags"] == 64
    assert button_ids(state.original)[:2] == [f"ez:send:{mid}", f"ez:edit:{mid}"]
    assert "We are on it." in fields({"embeds": state.original["embeds"][1:]})["Draft"]
    assert fake.violations == []
