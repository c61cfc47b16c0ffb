"""The Slack chat adapter for the relay: posts mention cards and edits them in place.

A route's channel is a Slack channel id ("C0123…") when one workspace is configured with a bot
token, or "<team id>/<channel id>" ("T0123…/C0456…"; an org-wide install: "E0123…/C0456…") when
workspaces install the app through OAuth; the bot token then comes from the installation store.
The message reference kept for each card is "<channel id>:<ts>", the pair chat.update needs and
the key under which a thread reply finds its mention.

Exactly once (bot.chat.IdempotentChat): each card carries its delivery token in the message
metadata (event type "echtzeit_card"); when the relay is unsure whether a card went out (a crash
or a timeout after the request left), `find_sent` reads the channel's history since then with
include_all_metadata and finds the card by its token (channels:history/groups:history).

Slack allows "one message per second per channel" with short bursts it does not guarantee: each
channel has its own pacer, a bucket of 2 messages that drains at 1 a second (`per_second`,
`burst`), one below the short burst the fake Slack allows (testkit/fake_slack.py), so a second of
network delay cannot push a paced message over Slack's count. Card edits, history reads and the
digest's chart upload are paced in the same bucket. The pacer runs on `clock`/`sleep` (a test
shares one clock with the fake Slack instead of waiting). A 429 is not retried here: it becomes
`ChatError(retry_after=…)` and the relay
reschedules the card, so one busy channel holds up no other.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import Card
from bot.chat import ChatError, when_allowed
from bot.clock import utcnow
from bot.reporting.digest.model import Digest
from bot.reporting.digest.text import digest_lines
from integrations.chat.common import Pacer, Pacers
from integrations.chat.slack.render import (
    CARD_POST_FLAGS,
    card_message,
    card_update,
    digest_message,
    lines_messages,
    notice_message,
)

log = logging.getLogger(__name__)

PLATFORM = "slack"
CARD_EVENT = "echtzeit_card"  # message metadata event type of a relayed card

# Errors after which sending the same message again cannot succeed.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "channel_is_archived",
    "invalid_blocks", "invalid_blocks_format", "invalid_arguments", "invalid_metadata_format",
    "msg_too_long", "no_text", "too_many_attachments", "message_not_found",
    "cant_update_message", "edit_window_closed", "restricted_action",
    "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel", "team_access_not_granted",
    "ekm_access_denied", "no_installation",
})


def split_channel(channel: str) -> tuple[str | None, str | None, str]:
    """"T1/C2" -> (team "T1", enterprise None, "C2"); "E1/C2" -> (None, "E1", "C2");
    "C2" -> (None, None, "C2")."""
    owner, sep, channel_id = channel.rpartition("/")
    if not sep:
        return None, None, channel
    if owner.startswith("E"):
        return None, owner, channel_id
    return owner, None, channel_id


def message_ref(channel_id: str, ts: str) -> str:
    return f"{channel_id}:{ts}"


def split_ref(ref: str) -> tuple[str, str]:
    channel_id, sep, ts = ref.partition(":")
    if not sep or not ts:
        raise ChatError(f"not a Slack message reference: {ref!r}", permanent=True)
    return channel_id, ts


class BotTokens(Protocol):
    """Finds the bot token of the workspace (or org) a channel belongs to."""

    async def bot_token(self, *, team_id: str | None, enterprise_id: str | None) -> str | None: ...


class StaticToken:
    """One workspace: the configured bot token for every channel."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def bot_token(self, *, team_id: str | None, enterprise_id: str | None) -> str | None:
        return self._token


class InstalledTokens:
    """Many workspaces: the bot token saved when the workspace installed the app."""

    def __init__(self, store: AsyncInstallationStore) -> None:
        self.store = store

    async def bot_token(self, *, team_id: str | None, enterprise_id: str | None) -> str | None:
        bot = await self.store.async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id,
            is_enterprise_install=team_id is None and enterprise_id is not None,
        )
        return bot.bot_token if bot is not None else None


def chat_error(exc: SlackApiError, what: str) -> ChatError:
    """Slack's answer as the relay's error: Retry-After kept, permanent errors marked."""
    response = exc.response
    error = str(response.get("error") or f"HTTP {response.status_code}")
    if response.status_code == 429 or error == "ratelimited":
        raw = response.headers.get("Retry-After") or response.headers.get("retry-after") or "1"
        try:
            retry_after = max(float(raw), 0.0)
        except ValueError:
            retry_after = 1.0
        return ChatError(f"{what}: rate limited by Slack", retry_after=retry_after)
    return ChatError(f"{what}: {error}", permanent=error in PERMANENT_ERRORS)


class SlackChat:
    """A `bot.chat.ChatAdapter` for Slack channels."""

    platform = PLATFORM

    def __init__(
        self,
        tokens: BotTokens,
        *,
        api_url: str = "https://slack.com/api/",
        per_second: float = 1.0,
        burst: int = 2,
        timeout: float = 30.0,
        now: Callable[[], datetime] = utcnow,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.tokens = tokens
        self.api_url = api_url
        self.per_second = per_second
        self.burst = max(burst, 1)
        self.timeout = timeout
        self.now = now
        self.sleep = sleep
        self._clients: dict[str, AsyncWebClient] = {}
        # History walks a rate limit interrupted: (channel, oldest) -> (next cursor, found).
        self._walks: dict[tuple[str, str], tuple[str | None, dict[str, str]]] = {}
        # Per channel, a leaky bucket of `burst` messages that drains at `per_second`.
        self._pacer = Pacers[str, Pacer](
            lambda: Pacer(self.per_second, self.burst, clock=clock, sleep=sleep))

    def pacer(self, channel_id: str) -> Pacer:
        """The pacer of a channel (by its bare id): whatever else the app posts there (the
        desk's thread answers) waits its turn in it too."""
        return self._pacer(channel_id)

    async def client_for(self, channel: str) -> tuple[AsyncWebClient, str]:
        """The Web API client holding the right bot token, and the bare channel id."""
        team_id, enterprise_id, channel_id = split_channel(channel)
        token = await self.tokens.bot_token(team_id=team_id, enterprise_id=enterprise_id)
        if not token:
            raise ChatError(f"no Slack installation for {team_id or enterprise_id or 'this app'}",
                            permanent=True)
        client = self._clients.get(token)
        if client is None:
            client = AsyncWebClient(token=token, base_url=self.api_url, timeout=int(self.timeout))
            self._clients[token] = client
        return client, channel_id

    async def _call(self, what: str, channel_id: str, send: Callable[[], Any]) -> Any:
        async with self._pacer(channel_id):
            try:
                return await send()
            except SlackApiError as exc:
                raise chat_error(exc, what) from None
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise ChatError(f"{what}: {type(exc).__name__}: {exc}") from None

    async def send_card(self, channel: str, card: Card) -> str:
        return await self._post_card(channel, card, None)

    async def send_card_with_token(self, channel: str, card: Card, *, token: str) -> str:
        """The card with its delivery token in the message metadata."""
        return await self._post_card(channel, card, token)

    async def send_card_in_thread(self, channel: str, parent_ref: str, card: Card, *,
                                  token: str) -> str:
        """bot.chat.ThreadedChat: a story's member as a reply in the parent card's thread."""
        _, parent_ts = split_ref(parent_ref)
        return await self._post_card(channel, card, token, thread_ts=parent_ts)

    async def _post_card(self, channel: str, card: Card, token: str | None,
                         thread_ts: str | None = None) -> str:
        client, channel_id = await self.client_for(channel)
        message: dict[str, Any] = dict(card_message(card, self.now()))
        if token is not None:
            message["metadata"] = {"event_type": CARD_EVENT, "event_payload": {"delivery": token}}
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        response = await self._call(
            "chat.postMessage", channel_id,
            lambda: client.chat_postMessage(channel=channel_id, **message),
        )
        return message_ref(str(response.get("channel") or channel_id), str(response["ts"]))

    async def find_sent(self, channel: str, tokens: Sequence[str], *,
                        since: datetime, threads: Sequence[str] = ()) -> dict[str, str]:
        """The cards among `tokens` that the channel already shows, {token: message ref}, from
        conversations.history since `since` (a minute earlier, for clock skew), and from
        conversations.replies of each thread in `threads` (parent card refs: a story's members
        are thread replies, which the channel's history does not list).

        The walk resumes where a rate limit stopped it: Slack gives apps distributed outside the
        Marketplace one history page (15 messages) a minute, so in a busy channel finding a card
        in doubt takes several calls; each keeps its page cursor and what it found here, and the
        relay calls again after Retry-After (the cards wait meanwhile, never posted twice)."""
        client, channel_id = await self.client_for(channel)
        wanted = set(tokens)
        oldest = f"{since.timestamp() - 60:.6f}"
        found: dict[str, str] = {}
        walks: list[tuple[str, str | None]] = [("conversations.history", None)]
        walks += [("conversations.replies", split_ref(t)[1]) for t in dict.fromkeys(threads)]
        for method, thread in walks:
            if not wanted - found.keys():
                break
            found.update(await self._walk(client, channel_id, method, thread, oldest,
                                          wanted - found.keys()))
        return {t: ref for t, ref in found.items() if t in wanted}

    async def _walk(self, client: AsyncWebClient, channel_id: str, method: str,
                    thread: str | None, oldest: str, wanted: set[str]) -> dict[str, str]:
        key = (channel_id, oldest if thread is None else f"{oldest}/{thread}")
        cursor, found = self._walks.pop(key, (None, {}))
        pages = 0
        call = client.conversations_history if thread is None else functools.partial(
            client.conversations_replies, ts=thread)
        while wanted - found.keys():
            try:
                response = await self._call(
                    method, channel_id,
                    functools.partial(call, channel=channel_id, oldest=oldest,
                                      include_all_metadata=True, limit=200, cursor=cursor),
                )
            except ChatError as exc:
                if exc.retry_after is not None:  # resume from this page next time
                    self._walks[key] = (cursor, found)
                    log.info("looking for %d card(s) in doubt in %s: Slack limits "
                             "%s after %d page(s) this time; going on in %.0f s",
                             len(wanted - found.keys()), channel_id, method, pages,
                             exc.retry_after)
                raise
            pages += 1
            for m in response.get("messages") or []:
                meta = m.get("metadata") or {}
                token = (meta.get("event_payload") or {}).get("delivery")
                if meta.get("event_type") == CARD_EVENT and token in wanted and m.get("ts"):
                    found[str(token)] = message_ref(channel_id, str(m["ts"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                break
        return found

    async def update_card(self, channel: str, message_ref: str, card: Card) -> None:
        client, _ = await self.client_for(channel)
        channel_id, ts = split_ref(message_ref)
        message = card_update(card, self.now())
        await self._call(
            "chat.update", channel_id,
            lambda: client.chat_update(channel=channel_id, ts=ts, **message),
        )

    async def _post(self, client: AsyncWebClient, channel_id: str, message: dict[str, Any],
                    thread_ts: str | None = None) -> str:
        response = await self._call(
            "chat.postMessage", channel_id,
            lambda: client.chat_postMessage(channel=channel_id, thread_ts=thread_ts,
                                            **message, **CARD_POST_FLAGS),
        )
        return str(response["ts"])

    async def direct(self, person: str, text: str) -> str:
        """bot.chat.DirectMessenger: chat.postMessage to the user id, which Slack delivers in
        the app's direct message with that person ("T1/U2" names the workspace)."""
        client, user_id = await self.client_for(person)
        ts = await self._post(client, user_id, notice_message(text))
        return message_ref(user_id, ts)

    async def notify(self, channel: str, text: str, *, person: str | None = None,
                     thread: Sequence[str] = ()) -> str:
        """bot.chat.Notifier: an SLA reminder or spike alert; its detail lines go into a thread
        under it."""
        client, channel_id = await self.client_for(channel)
        ts = await self._post(client, channel_id, notice_message(text, person=person))
        try:
            for message in lines_messages(thread):
                await when_allowed(functools.partial(self._post, client, channel_id, message,
                                                     thread_ts=ts), sleep=self.sleep)
        except ChatError as exc:  # the notice itself is out: never send it twice
            log.warning("slack: thread under notice %s incomplete: %s", ts, exc)
        return message_ref(channel_id, ts)

    async def send_digest(self, channel: str, digest: Digest, chart_png: bytes) -> str:
        """bot.chat.DigestSink: the digest as a message, then its chart uploaded into the
        message's thread. The message is what counts as posted; a chart that fails is logged,
        not retried (a retry would post the digest twice)."""
        client, channel_id = await self.client_for(channel)
        now = self.now()
        ts = await self._post(client, channel_id, digest_message(
            digest.title, digest_lines(digest, now=now), digest.overdue, now))
        name = re.sub(r"[^\w.-]", "_", f"digest-{digest.periods[0].label.split(' ')[0]}.png")
        try:
            async with self._pacer(channel_id):
                await client.files_upload_v2(
                    channel=channel_id, thread_ts=ts, file=chart_png, filename=name,
                    title=digest.title[:250],
                    alt_txt=f"Mentions per hour by sentiment and first-response times, "
                            f"{digest.periods[0].label}"[:1000])
        except (SlackClientError, TimeoutError, aiohttp.ClientError) as exc:
            log.warning("slack: digest %s posted without its chart: %s", ts, exc)
        return message_ref(channel_id, ts)
