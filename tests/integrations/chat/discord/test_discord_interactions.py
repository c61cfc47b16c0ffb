"""Slash commands, autocomplete, buttons and the reply modal: from Discord's INTERACTION_CREATE
payloads over the gateway, through discord.py, to commands/ and back to the fake API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bot.domain import MentionStatus, ReplyState
from bot.relay import Relay
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.discord.settings import DiscordSettings
from testkit.factories import new_mention
from tests.integrations.chat.discord.conftest import ANA, BEN, OWNER
from tests.integrations.chat.discord.fake_discord import TOKEN, FakeDiscord, InteractionState

EPHEMERAL = 64


def mention(deps: Deps, text: str = "acme app is down", **extra: Any) -> int:
    store = deps.store
    brand = store.brand(name="Acme")
    assert brand.id is not None
    [mid] = store.write_mentions([new_mention(brand.id, text, **extra)],
                                 routes={brand.id: store.routes(brand_id=brand.id)})
    return mid


async def relayed_card(deps: Deps, chat: DiscordChat, fake: FakeDiscord,
                       text: str = "acme app is down") -> tuple[int, dict[str, Any]]:
    mid = mention(deps, text)
    assert await Relay(deps.store, {"discord": chat}).run_once() == 1
    return mid, fake.channel_messages()[-1]


def description(message: dict[str, Any] | None) -> str:
    assert message is not None
    return "\n".join(e.get("description", "") for e in message["embeds"])


async def done(fake: FakeDiscord, state: InteractionState, *, followups: int = 0) -> None:
    """The interaction is acknowledged, its loading state resolved, and `followups` sent."""
    await fake.answered(state, lambda: state.callback is not None and not state.loading
                        and len(state.followups) >= followups)


def requests_for(fake: FakeDiscord, state: InteractionState) -> list[str]:
    token = state.payload["token"]
    return [f"{r.method} {r.path.split(token)[-1] or '/'}" for r in fake.requests
            if token in r.path]


async def test_gateway_identify(connected: DiscordChat, fake: FakeDiscord) -> None:
    [identify] = fake.identifies
    assert identify["token"] == TOKEN
    assert identify["intents"] == 1  # GUILDS only: no privileged intent is needed
    assert connected.client.get_guild(int(fake.guild_id)) is not None


async def test_slash_claim_answers_and_attributes(connected: DiscordChat, fake: FakeDiscord,
                                                  deps: Deps) -> None:
    mid, _ = await relayed_card(deps, connected, fake)
    state = await fake.interact(fake.command("claim", {"id": str(mid)}, ANA))
    await done(fake, state, followups=1)
    # Acknowledged first: a deferred, ephemeral "thinking" response.
    assert state.callback == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert requests_for(fake, state)[0] == "POST /callback"
    # The result is for the channel, signed by the member (their server nickname).
    assert state.original is not None and state.original["flags"] == EPHEMERAL
    [public] = state.followups
    assert public["flags"] == 0
    assert description(public) == f"\\#{mid} is yours, Ana (Care)."
    assert public["embeds"][0]["footer"]["text"] == "by Ana (Care)"
    m = deps.store.view(mid).mention
    assert (m.status, m.assignee) == (MentionStatus.CLAIMED.value, "Ana (Care)")
    [event] = deps.store.events(mention_id=mid, kind="claimed")
    assert event.actor == "Ana (Care)"
    assert fake.violations == []


async def test_private_results_stay_private(connected: DiscordChat, fake: FakeDiscord,
                                            deps: Deps) -> None:
    mid = mention(deps, "where is my order")
    state = await fake.interact(fake.command("list", {}, ANA))
    await done(fake, state)
    assert state.followups == []
    assert state.original is not None and state.original["flags"] == EPHEMERAL
    assert f"**#{mid}** new" in description(state.original)


async def test_members_without_the_role_are_refused(connected: DiscordChat, fake: FakeDiscord,
                                                    deps: Deps) -> None:
    mid = mention(deps)
    state = await fake.interact(fake.command("claim", {"id": str(mid)}, BEN))
    await done(fake, state)
    assert "only people allowed to answer customers may use claim" in description(state.original)
    assert state.original is not None and state.original["embeds"][0]["color"] == 0xED4245
    assert state.followups == []
    assert deps.store.view(mid).mention.status == MentionStatus.NEW.value
    admin_only = await fake.interact(fake.command("brand", {"action": "list"}, ANA))
    await done(fake, admin_only)
    assert "only admins may use brand" in description(admin_only.original)
    owner = await fake.interact(fake.command("brand", {"action": "list"}, OWNER))
    await done(fake, owner)
    assert "1 brand(s):" in description(owner.original)


async def test_free_text_and_quoted_arguments(connected: DiscordChat, fake: FakeDiscord,
                                              deps: Deps) -> None:
    state = await fake.interact(fake.command(
        "brand", {"action": "add", "args": 'Nordlicht "nordlicht bank" -jobs'}, OWNER))
    await done(fake, state, followups=1)
    assert deps.store.brand(name="Nordlicht").query == '"nordlicht bank" -jobs'


async def test_autocomplete_offers_open_mentions_and_templates(
        connected: DiscordChat, fake: FakeDiscord, deps: Deps) -> None:
    first = mention(deps, "@everyone first [x](https://evil.example)")
    second = mention(deps, "second")
    deps.store.resolve(mention_id=second, actor="Ana")
    ids = await fake.interact(fake.autocomplete("reply", {"id": ""}, "id", ANA))
    await done(fake, ids)
    assert ids.callback is not None and ids.callback["type"] == 8
    choices = ids.callback["data"]["choices"]
    assert [c["value"] for c in choices] == [str(first)]  # resolved ones are not offered
    assert choices[0]["name"].startswith(f"#{first} · Acme · @kunde: @\u200beveryone first")
    texts = await fake.interact(fake.autocomplete("reply", {"id": str(first), "text": ":t"},
                                                  "text", ANA))
    await done(fake, texts)
    assert texts.callback is not None
    assert [c["value"] for c in texts.callback["data"]["choices"]] == [":thanks"]
    typed = await fake.interact(fake.autocomplete("reply", {"id": str(first), "text": "Hallo"},
                                                  "text", ANA))
    await done(fake, typed)
    assert typed.callback == {"type": 8, "data": {"choices": []}}


async def test_button_click_claims_and_redraws_the_card(connected: DiscordChat, fake: FakeDiscord,
                                                        deps: Deps) -> None:
    mid, message = await relayed_card(deps, connected, fake)
    state = await fake.interact(fake.click(message, f"ez:claim:{mid}", ANA))
    await done(fake, state, followups=1)
    assert state.callback == {"type": 6}  # deferred update: no loading state on a card
    assert requests_for(fake, state)[0] == "POST /callback"
    [card] = fake.channel_messages()
    fields = {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}
    assert fields["Status"] == "CLAIMED · Ana (Care)"
    assert "ez:claim:" not in json.dumps(card["components"])
    [note] = state.followups
    assert note["flags"] == EPHEMERAL
    assert description(note) == f"\\#{mid} is yours, Ana (Care)."
    assert deps.store.view(mid).mention.assignee == "Ana (Care)"


async def test_mute_and_resolve_buttons(connected: DiscordChat, fake: FakeDiscord,
                                        deps: Deps) -> None:
    mid, message = await relayed_card(deps, connected, fake)
    muted = await fake.interact(fake.click(message, f"ez:mute:{mid}", ANA))
    await done(fake, muted, followups=1)
    assert description(muted.followups[0]) == "@kunde on mastodon is muted."
    resolved = await fake.interact(fake.click(message, f"ez:resolve:{mid}", ANA))
    await done(fake, resolved, followups=1)
    assert deps.store.view(mid).mention.status == MentionStatus.RESOLVED.value
    card = fake.channel_messages()[0]
    assert [b["style"] for row in card["components"] for b in row["components"]] == [5]


async def test_reply_button_opens_a_modal_and_posts_the_answer(
        connected: DiscordChat, fake: FakeDiscord, deps: Deps, tmp_path: Path) -> None:
    mid, message = await relayed_card(deps, connected, fake)
    click = await fake.interact(fake.click(message, f"ez:reply:{mid}", ANA))
    await done(fake, click)
    assert click.callback is not None and click.callback["type"] == 9
    modal = click.callback["data"]
    assert modal["custom_id"] == f"ez-reply:{mid}"
    assert modal["title"] == f"Reply to mention #{mid}"
    [label] = modal["components"]
    assert label["type"] == 18 and label["component"]["max_length"] == 4000
    submit = await fake.interact(fake.submit(modal, {"text": ":thanks"}, ANA, message))
    await done(fake, submit, followups=1)
    assert submit.callback == {"type": 5, "data": {"flags": EPHEMERAL}}
    [reply] = deps.store.view(mid).replies
    assert (reply.state, reply.by) == (ReplyState.SENT.value, "Ana (Care)")
    assert reply.text == "Thank you, Kunde! - Team Acme"
    posted = [json.loads(line) for line in (tmp_path / "replies.jsonl").read_text().splitlines()]
    assert posted[-1]["text"] == "Thank you, Kunde! - Team Acme"
    assert description(submit.followups[0]).startswith(f"Replied to #{mid} on mastodon: https:")
    fields = {f["name"]: f["value"] for f in fake.channel_messages()[0]["embeds"][0]["fields"]}
    assert fields["Status"].startswith("REPLIED")
    assert fields["Reply"].startswith("sent by Ana (Care)")


async def test_reply_button_refuses_without_the_role(connected: DiscordChat, fake: FakeDiscord,
                                                     deps: Deps) -> None:
    mid, message = await relayed_card(deps, connected, fake)
    click = await fake.interact(fake.click(message, f"ez:reply:{mid}", BEN))
    await done(fake, click)
    assert click.callback is not None
    assert (click.callback["type"], click.callback["data"]["flags"]) == (4, EPHEMERAL)
    assert click.callback["data"]["allowed_mentions"] == {"parse": []}
    assert deps.store.view(mid).replies == []


async def test_buttons_and_modals_survive_a_restart(fake: FakeDiscord, deps: Deps,
                                                    settings: DiscordSettings) -> None:
    """A card sent by one process is clicked after another one took over."""

    async def running() -> tuple[DiscordChat, asyncio.Event, asyncio.Task[None]]:
        chat = DiscordChat(settings, deps, guild_ready_timeout=0.05)
        stop = asyncio.Event()
        task = asyncio.create_task(chat.serve(stop))
        await asyncio.wait_for(chat.ready.wait(), 10)
        await fake.wait_for(lambda: fake.connected == 1)
        return chat, stop, task

    first, stop, task = await running()
    mid, message = await relayed_card(deps, first, fake)
    click = await fake.interact(fake.click(message, f"ez:reply:{mid}", ANA))
    await done(fake, click)
    assert click.callback is not None
    modal = click.callback["data"]
    stop.set()
    await task
    await fake.wait_for(lambda: fake.connected == 0)

    _, stop, task = await running()
    try:
        claim = await fake.interact(fake.click(message, f"ez:claim:{mid}", ANA))
        await done(fake, claim, followups=1)
        assert deps.store.view(mid).mention.assignee == "Ana (Care)"
        submit = await fake.interact(fake.submit(modal, {"text": "Wir kümmern uns!"}, ANA,
                                                 message))
        await done(fake, submit, followups=1)
        assert [r.text for r in deps.store.view(mid).replies] == ["Wir kümmern uns!"]
    finally:
        stop.set()
        await task
    assert fake.violations == []


async def test_digest_comes_with_its_chart(connected: DiscordChat, fake: FakeDiscord,
                                           deps: Deps) -> None:
    mention(deps, "acme app is down")
    state = await fake.interact(fake.command("digest", {}, OWNER))
    await done(fake, state, followups=1)
    [public] = state.followups
    [upload] = public["attachments"]
    assert upload["filename"].endswith(".png") and upload["content_type"] == "image/png"
    assert upload["description"].startswith("Mentions per hour")
    assert fake.uploads[upload["id"]].data.startswith(b"\x89PNG\r\n\x1a\n")
    assert public["embeds"][0]["image"]["url"] == f"attachment://{upload['filename']}"
    assert fake.violations == []


async def test_a_command_this_version_does_not_know(connected: DiscordChat,
                                                    fake: FakeDiscord) -> None:
    state = await fake.interact(fake.command("frobnicate", {"x": "1"}, ANA))
    await done(fake, state)
    assert state.callback is not None
    assert (state.callback["type"], state.callback["data"]["flags"]) == (4, EPHEMERAL)
    assert "echtzeit discord sync" in state.callback["data"]["embeds"][0]["description"]
