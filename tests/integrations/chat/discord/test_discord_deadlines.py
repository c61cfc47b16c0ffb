"""Discord's deadlines for interactions (fake_interactions.py): the first response within 3
seconds of INTERACTION_CREATE, the rest within the token's 15 minutes. The bot meets the first
for every kind of interaction, also a burst of them and with a slow store; when either has run
out anyway, Discord refuses and the adapter says so in its log, without a traceback.

The fake counts the deadlines on its `clock`: tests that need minutes to pass step it."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import pytest

from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.discord.interactions import MODAL_LOOKUP_SECONDS
from tests.integrations.chat.discord.conftest import ANA, OWNER
from tests.integrations.chat.discord.fake_discord import FakeDiscord
from tests.integrations.chat.discord.fake_interactions import (
    INITIAL_RESPONSE_SECONDS,
    TOKEN_SECONDS,
)
from tests.integrations.chat.discord.test_discord_interactions import (
    EPHEMERAL,
    done,
    relayed_card,
    requests_for,
)


class SteppedTime:
    """The fake Discord's clock for its deadlines, moved on by hand."""

    def __init__(self) -> None:
        self.value = 1_000.0

    def __call__(self) -> float:
        return self.value


class Logged(logging.Handler):
    """Sets `seen` once the Discord adapter logs a line containing `text` (the test waits for
    what the bot does after the fake's last answer)."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.WARNING)
        self.text = text
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


@contextmanager
def logged(text: str) -> Iterator[Logged]:
    handler = Logged(text)
    logger = logging.getLogger("integrations.chat.discord")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert "Traceback" not in caplog.text
    assert "Ignoring exception" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info]


async def test_every_interaction_is_acknowledged_in_time(
        connected: DiscordChat, fake: FakeDiscord, deps: Deps,
        caplog: pytest.LogCaptureFixture) -> None:
    """Commands, buttons, the Reply form, its submission and autocomplete, dispatched at once
    on the real clock: each is acknowledged before anything else is sent for it, and within
    Discord's three seconds (the fake would also record a late one as a violation)."""
    cards = [await relayed_card(deps, connected, fake, f"acme order {n} never arrived")
             for n in range(3)]
    (first, first_card), (second, second_card), (third, third_card) = cards
    wanted: list[tuple[dict[str, Any], int]] = [
        (fake.command("claim", {"id": str(first)}, ANA), 1),
        (fake.command("list", {}, ANA), 0),
        (fake.command("help", {}, ANA), 0),
        (fake.command("brand", {"action": "list"}, OWNER), 0),
        (fake.click(second_card, f"ez:claim:{second}", ANA), 1),
        (fake.click(third_card, f"ez:resolve:{third}", ANA), 1),
        (fake.click(first_card, f"ez:reply:{first}", ANA), 0),
        (fake.autocomplete("reply", {"id": ""}, "id", ANA), 0),
        (fake.autocomplete("reply", {"id": str(first), "text": ":t"}, "text", ANA), 0),
    ]
    states = [await fake.interact(payload) for payload, _ in wanted]
    for state, (_, followups) in zip(states, wanted, strict=True):
        await done(fake, state, followups=followups)
    form = states[6].callback
    assert form is not None and form["type"] == 9
    submit = await fake.interact(fake.submit(form["data"], {"text": ":thanks"}, ANA,
                                             first_card))
    await done(fake, submit, followups=1)
    states.append(submit)
    slowest = max(s.acknowledged_after or 0.0 for s in states)
    assert slowest <= INITIAL_RESPONSE_SECONDS, f"slowest first response: {slowest:.2f} s"
    assert all(requests_for(fake, s)[0] == "POST /callback" for s in states)
    assert fake.unacknowledged() == []
    no_traceback(caplog)


async def test_a_late_first_response_is_refused_and_fails_the_test(
        connected: DiscordChat, fake: FakeDiscord, deps: Deps,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The bot is still busy when Discord's three seconds are over (the fake's clock moves on
    while the Reply button waits for the store, before its form). Discord answers the late
    form with Unknown interaction; the fake records a violation, which would fail the test
    that caused it; the adapter logs what happened."""
    fake.clock = discord_time = SteppedTime()
    mid, message = await relayed_card(deps, connected, fake)
    entered, release = threading.Event(), threading.Event()
    view = deps.store.view

    def busy_view(mention_id: int) -> Any:
        entered.set()
        release.wait(10)
        return view(mention_id)

    monkeypatch.setattr(deps.store, "view", busy_view)
    with logged("within Discord's 3 seconds") as said:
        click = await fake.interact(fake.click(message, f"ez:reply:{mid}", ANA))
        assert await asyncio.to_thread(entered.wait, 10)
        discord_time.value += INITIAL_RESPONSE_SECONDS + 1
        release.set()
        await asyncio.wait_for(said.seen.wait(), 10)
    assert click.late and click.callback is None
    assert [r.status for r in fake.sent("POST", r"/callback$")] == [404]
    assert fake.violations == [f"MESSAGE_COMPONENT interaction {click.payload['id']} answered "
                               "4.0 s after INTERACTION_CREATE (Discord allows 3 s)"]
    fake.violations.clear()  # expected here; anywhere else it fails the test
    assert f"the reply button of mention {mid} from ana.care (1300000000000000301) was not " \
           "acknowledged within Discord's 3 seconds (Unknown interaction): they saw \"The " \
           "application did not respond\", and nothing was done" in caplog.text
    no_traceback(caplog)
    # "If the 3 second deadline is exceeded, the token will be invalidated."
    token = click.payload["token"]
    async with aiohttp.ClientSession() as http, http.post(
            f"{fake.api_url}/webhooks/{fake.app_id}/{token}",
            json={"content": "late", "allowed_mentions": {"parse": []}}) as response:
        assert response.status == 401
        assert await response.json() == {"message": "Invalid Webhook Token", "code": 50027}
    assert fake.unacknowledged() == []  # refused, so already counted


@pytest.mark.parametrize("via", ["command", "button"])
async def test_an_answer_after_15_minutes_is_refused_and_logged(
        connected: DiscordChat, fake: FakeDiscord, deps: Deps, via: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """The claim is acknowledged in time, and its answer comes after the interaction token's
    15 minutes (the fake's clock steps past them while Discord holds the acknowledgement):
    Discord answers 401 Invalid Webhook Token; the claim is done, and the log says that the
    member could not be told."""
    fake.clock = discord_time = SteppedTime()
    mid, message = await relayed_card(deps, connected, fake)
    held = fake.hold("POST", r"/callback$")
    payload = (fake.command("claim", {"id": str(mid)}, ANA) if via == "command"
               else fake.click(message, f"ez:claim:{mid}", ANA))
    with logged("15 minutes") as said:
        state = await fake.interact(payload)
        await asyncio.wait_for(held.reached.wait(), 10)
        discord_time.value += TOKEN_SECONDS + 1
        held.release.set()
        await asyncio.wait_for(said.seen.wait(), 10)
    assert deps.store.view(mid).mention.assignee == "Ana (Care)"
    answer = "POST /" if via == "button" else "PATCH /messages/@original"
    assert requests_for(fake, state) == ["POST /callback", answer]
    token = state.payload["token"]
    assert [r.status for r in fake.requests if token in r.path] == [200, 401]
    what = "/claim" if via == "command" else f"the claim button of mention {mid}"
    assert f"the answer to {what} for ana.care (1300000000000000301) came after Discord's 15 " \
           "minutes for an interaction (Invalid Webhook Token) and could not be shown to " \
           f"them; the command was done: #{mid} is yours, Ana (Care)." in caplog.text
    no_traceback(caplog)
    assert fake.violations == []  # Discord's answer to a slow command, not a broken rule


async def test_a_slow_store_still_opens_the_reply_form_in_time(
        connected: DiscordChat, fake: FakeDiscord, deps: Deps,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """The Reply form must be the first response, and its placeholder names the mention's
    author, which takes a store read. A store slower than MODAL_LOOKUP_SECONDS gets the form
    without that detail, on the real clock, within Discord's three seconds."""
    mid, message = await relayed_card(deps, connected, fake)
    view = deps.store.view
    finished = threading.Event()

    def slow_view(mention_id: int) -> Any:
        try:
            time.sleep(MODAL_LOOKUP_SECONDS + 0.5)
            return view(mention_id)
        finally:
            finished.set()

    monkeypatch.setattr(deps.store, "view", slow_view)
    click = await fake.interact(fake.click(message, f"ez:reply:{mid}", ANA))
    await done(fake, click)
    assert click.callback is not None and click.callback["type"] == 9
    [label] = click.callback["data"]["components"]
    assert label["component"]["placeholder"] == "Your answer, or :template-name"
    assert click.acknowledged_after is not None
    assert MODAL_LOOKUP_SECONDS <= click.acknowledged_after < INITIAL_RESPONSE_SECONDS
    assert f"looking up mention {mid} took over 1.0 s" in caplog.text
    assert await asyncio.to_thread(finished.wait, 10)


async def test_a_form_this_version_does_not_know_is_answered(
        connected: DiscordChat, fake: FakeDiscord) -> None:
    """A submitted form whose custom id is not the Reply form's (one opened by another
    version): the member is told, instead of Discord's "The application did not respond"."""
    modal = {"custom_id": "ez-feedback:7", "title": "Feedback", "components": [
        {"type": 18, "label": "Text", "component": {"type": 4, "custom_id": "text"}}]}
    state = await fake.interact(fake.submit(modal, {"text": "hi"}, ANA))
    await done(fake, state)
    assert state.callback is not None
    assert (state.callback["type"], state.callback["data"]["flags"]) == (4, EPHEMERAL)
    assert "no longer in use" in state.callback["data"]["embeds"][0]["description"]
