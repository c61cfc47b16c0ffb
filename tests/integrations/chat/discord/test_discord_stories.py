"""Stories in Discord: one parent card per story and channel, members as replies to it (a
message reference, so each stays editable), the parent edited when a member changes; through
discord.py's real HTTP client against the fake API."""

from __future__ import annotations

from bot.relay import Relay
from bot.stories import hints
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from testkit.factories import new_mention
from tests.integrations.chat.discord.fake_discord import FakeDiscord

LINK = "https://status.acme.example/incidents/7"


async def test_members_reply_to_the_parent_card(chat: DiscordChat, fake: FakeDiscord,
                                                deps: Deps) -> None:
    await chat.login()
    store = deps.store
    bid = store.brand(name="Acme").id or 0
    ids = store.write_mentions(
        [new_mention(bid, f"acme @everyone is down {LINK}", network=net,
                     author_handle=f"user{i}", author_followers=10 * (i + 1),
                     story=hints(f"acme is down {LINK}", own_url="", refs=()))
         for i, net in enumerate(["hackernews", "bluesky", "reddit"])],
        routes={bid: store.routes()})
    relay = Relay(store, {"discord": chat}, now=store.now)
    while await relay.run_once():
        pass
    refs = {d.mention_id: d.message_ref for d in store.deliveries()}
    messages = {m["id"]: m for m in fake.channel_messages()}
    parent = messages[refs[ids[0]] or ""]
    assert parent["embeds"][0]["fields"][0]["name"].startswith("Story ")
    assert "3 posts" in parent["embeds"][0]["fields"][0]["value"]
    for mid in ids[1:]:
        reply = messages[refs[mid] or ""]
        assert reply["type"] == 19
        assert reply["message_reference"]["message_id"] == refs[ids[0]]
    # Only the parent card opened a thread (for notes); no ping allowed anywhere.
    assert len(fake.threads) == (1 if chat.settings.threads else 0)
    assert all(m.body.get("allowed_mentions") == {"parse": []}
               for m in fake.sent("POST", r"/channels/\d+/messages$"))
    # Resolving a member edits the parent card in place.
    store.resolve(mention_id=ids[1], actor="Ana")
    while await relay.run_once():
        pass
    edits = {r.path.rsplit("/", 1)[1] for r in fake.sent("PATCH", r"/messages/\d+$")}
    assert edits == {refs[ids[0]], refs[ids[1]]}
    parent = {m["id"]: m for m in fake.channel_messages()}[refs[ids[0]] or ""]
    assert "1 closed" in parent["embeds"][0]["fields"][0]["value"]
    assert len(fake.channel_messages()) == 3
    assert fake.violations == []
