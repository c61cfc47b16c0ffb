"""Drains the outbox into the chat adapters.

A delivery is done only when the chat accepted it. Failures retry with exponential back-off and
jitter (or the platform's own Retry-After); channels are independent of each other, and within a
channel cards go out in the order they were stored. Cards whose mention changed are edited in
place.

Exactly once: a claimed card is marked `sending_at` before it goes out (bot.store). A card found
still marked on a later claim may have reached the chat; when the adapter implements
bot.chat.IdempotentChat the relay asks it for the cards' tokens first and records the ones the
chat already has instead of posting them again. Other adapters are at-least-once after a crash.

Catch-ups (bot.catchup, docs/routing.md): the held cards of a channel whose quiet hours ended,
and a backlog (more than `RelayPolicy.backlog` non-urgent new cards of one channel claimed at
once that waited `backlog_age` in the outbox, as after an outage), become ONE notice through
the adapter's Notifier. The notice row is written, and its cards marked `caught_up`, in one
transaction before it is sent; a rate limit or an outage sends it again later, a refusal gives
it up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import metrics
from bot.cards import card_for
from bot.chat import ChatAdapter, ChatError, IdempotentChat, Notifier, ThreadedChat
from bot.clock import utcnow
from bot.domain import DeliveryState, is_urgent
from bot.models import Delivery
from bot.networks import Moderator
from bot.store import ClaimedDelivery, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RelayPolicy:
    max_attempts: int = 20  # with the 300 s cap: about 1.5 hours of outage before giving up
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    lease: timedelta = timedelta(seconds=60)
    batch: int = 200
    # More non-urgent new cards than `backlog` of one channel due at once, each waiting in
    # the outbox for at least `backlog_age` (a chat outage, a stopped relay): one catch-up
    # notice lists them instead (urgent ones are still posted). 0: never.
    backlog: int = 20
    backlog_age: timedelta = timedelta(minutes=5)


def backoff_delay(attempt: int, policy: RelayPolicy, rng: random.Random) -> float:
    """Exponential back-off with "equal jitter": half fixed, half random, capped."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * (2.0 ** max(attempt - 1, 0)))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def delivery_token(d: Delivery) -> str:
    """The idempotency token of a delivery: its id and creation second (unique across databases
    in practice, at most 25 characters, as a Discord nonce must be)."""
    return f"ez{d.id}.{int(d.created_at.timestamp())}"


class Relay:
    """Sends due outbox rows through the adapter of their platform."""

    def __init__(
        self,
        store: Store,
        adapters: Mapping[str, ChatAdapter],
        *,
        worker: str = "relay",
        policy: RelayPolicy | None = None,
        now: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        reply_networks: Container[str] | None = None,
        ai_drafts: bool = False,
        moderators: Mapping[str, Moderator] | None = None,
    ) -> None:
        self.store = store
        self.adapters = dict(adapters)
        self.worker = worker
        self.policy = policy or RelayPolicy()
        self.now = now
        self.rng = rng or random.Random()
        self.wakeup = asyncio.Event()
        # Networks that take replies (bot.cards.card_for); None: all.
        self.reply_networks = reply_networks
        self.ai_drafts = ai_drafts  # cards offer a Draft button (an AI endpoint is configured)
        # Networks that can hide comments (bot.cards.card_for's Hide button).
        self.moderators = moderators
        # Set while `run` stops: the card being sent finishes, the rest of the round is given
        # back to the outbox (for this process's next start or another replica).
        self._stopping: asyncio.Event | None = None

    def _notifiers(self) -> list[str]:
        return [p for p, a in self.adapters.items() if isinstance(a, Notifier)]

    async def run_once(self) -> int:
        """Claim one batch of due rows and work through it; returns how many were handled
        (cards and catch-up notices)."""
        notifiers = self._notifiers()
        for platform, channel in await asyncio.to_thread(self.store.held_channels,
                                                         platforms=notifiers):
            await asyncio.to_thread(self.store.make_catch_up, platform=platform,
                                    channel=channel, reason="quiet")
        notices = await self._catch_ups(notifiers)
        claimed = await asyncio.to_thread(
            self.store.claim_deliveries,
            worker=self.worker,
            limit=self.policy.batch,
            lease=self.policy.lease,
            platforms=list(self.adapters),
        )
        if not claimed:
            return notices
        # A card is sent only while this worker's lease on it holds: past half the lease no
        # new card is started (one in flight gets the other half), the rest go back to the
        # outbox. Paced at a chat's one message a second, a channel's share of a batch can
        # take longer than the lease; without this another replica would claim the same cards
        # meanwhile and both would post them.
        deadline = self.now() + self.policy.lease / 2
        channels: dict[tuple[str, str], list[ClaimedDelivery]] = {}
        for c in claimed:
            channels.setdefault((c.delivery.platform, c.delivery.channel), []).append(c)
        grouped = await asyncio.gather(*(self._channel(items, notifiers, deadline)
                                         for items in channels.values()))
        if any(grouped):
            notices += await self._catch_ups(notifiers)
        return len(claimed) + notices

    async def _backlog(self, items: list[ClaimedDelivery],
                       notifiers: list[str]) -> list[ClaimedDelivery]:
        """Past `policy.backlog` late non-urgent new cards of a channel in one claim (after
        its cards in doubt were settled), those go into one catch-up notice; returns the cards
        still to post (urgent ones, edits, fresh cards, and cards in doubt on a chat that
        cannot be asked, which may be in the chat already)."""
        if not items or not self.policy.backlog:
            return items
        key = (items[0].delivery.platform, items[0].delivery.channel)
        if key[0] not in notifiers:
            return items
        asked = isinstance(self.adapters[key[0]], IdempotentChat)
        late = self.now() - self.policy.backlog_age
        routine = [i for i in items
                   if i.delivery.state == DeliveryState.PENDING.value
                   and (asked or not i.in_doubt) and i.delivery.created_at <= late
                   and not is_urgent(i.view.mention.priority)]
        if len(routine) <= self.policy.backlog:
            return items
        ids = [i.delivery.id or 0 for i in routine]
        made = await asyncio.to_thread(self.store.make_catch_up, platform=key[0],
                                       channel=key[1], reason="backlog", delivery_ids=ids)
        if made is None:
            return items
        log.info("%s cards due at once in %s:%s: listed in catch-up %s", len(ids), *key, made)
        gone = set(ids)
        return [i for i in items if (i.delivery.id or 0) not in gone]

    async def _catch_ups(self, notifiers: list[str]) -> int:
        """Send the due catch-up notices; returns how many went out."""
        if not notifiers:
            return 0
        rows = await asyncio.to_thread(self.store.claim_catch_ups, platforms=notifiers,
                                       lease=self.policy.lease)
        sent = 0
        for row in rows:
            adapter = self.adapters[row.platform]
            assert isinstance(adapter, Notifier)
            try:
                ref = await adapter.notify(row.channel, row.text,
                                           thread=json.loads(row.lines))
            except Exception as exc:
                metrics.CHAT_ERRORS.labels(platform=row.platform).inc()
                permanent = isinstance(exc, ChatError) and exc.permanent
                retry_after = exc.retry_after if isinstance(exc, ChatError) else None
                give_up = permanent or (row.attempts >= self.policy.max_attempts
                                        and retry_after is None)
                delay = retry_after if retry_after is not None else backoff_delay(
                    row.attempts, self.policy, self.rng)
                log.warning("catch-up %s to %s:%s failed (attempt %s)%s: %s", row.id,
                            row.platform, row.channel, row.attempts,
                            " - giving up" if give_up else f" - retry in {delay:.1f}s", exc)
                await asyncio.to_thread(
                    self.store.catch_up_failed, catch_up_id=row.id or 0, error=str(exc),
                    retry_at=None if give_up else self.now() + timedelta(seconds=delay))
                continue
            await asyncio.to_thread(self.store.catch_up_sent, catch_up_id=row.id or 0,
                                    message_ref=ref)
            sent += 1
        return sent

    async def _channel(self, items: list[ClaimedDelivery], notifiers: list[str],
                       deadline: datetime) -> int:
        """Send one channel's claimed cards in order; returns how many went into a backlog
        catch-up instead."""
        items = await self._settle_doubts(items)
        before = len(items)
        items = await self._backlog(items, notifiers)
        grouped = before - len(items)
        # Parent cards sent in this round (mention id -> message ref): a story's member that was
        # claimed with its parent goes into the thread the parent just opened.
        parents: dict[int, str] = {}
        for index, item in enumerate(items):
            stopping = self._stopping is not None and self._stopping.is_set()
            if stopping or self.now() >= deadline:
                rest = items[index:]
                await asyncio.to_thread(
                    self.store.release, delivery_ids=[i.delivery.id or 0 for i in rest],
                    fresh=[i.delivery.id or 0 for i in rest if not i.in_doubt])
                return grouped
            ok = await self._one(item, parents)
            if not ok and item.delivery.state == DeliveryState.PENDING.value:
                # Keep the channel's order: the rest wait until this one went out (and the
                # edits of sent cards among them are marked to be done again).
                rest = items[index + 1:]
                await asyncio.to_thread(
                    self.store.release, delivery_ids=[i.delivery.id or 0 for i in rest],
                    fresh=[i.delivery.id or 0 for i in rest
                           if not i.in_doubt and i.delivery.state == DeliveryState.PENDING.value])
                return grouped
        return grouped

    async def _settle_doubts(self, items: list[ClaimedDelivery]) -> list[ClaimedDelivery]:
        """Ask the chat which of this channel's cards in doubt it already has; record those as
        sent and return the cards that still need work. A failed lookup leaves them all for
        later (the first one takes the back-off, the rest are released)."""
        doubt = [i for i in items if i.in_doubt and i.delivery.state == DeliveryState.PENDING.value]
        if not doubt:
            return items
        first = doubt[0].delivery
        adapter = self.adapters[first.platform]
        if not isinstance(adapter, IdempotentChat):
            return items  # at-least-once: this platform cannot tell us
        since = min(i.delivery.sending_at or i.delivery.created_at for i in doubt)
        tokens = {delivery_token(i.delivery): i for i in doubt}
        try:
            threads = [i.thread_ref for i in doubt if i.thread_ref is not None]
            found = await adapter.find_sent(first.channel, list(tokens), since=since,
                                            threads=threads)
        except Exception as exc:  # a ChatError or an adapter bug: nothing may be sent blindly
            metrics.CHAT_ERRORS.labels(platform=first.platform).inc()
            await self._failed(items[0], f"looking up cards in doubt: {exc}",
                               exc.retry_after if isinstance(exc, ChatError) else None,
                               False, False, maybe_sent=True)
            rest = items[1:]
            await asyncio.to_thread(
                self.store.release, delivery_ids=[i.delivery.id or 0 for i in rest],
                fresh=[i.delivery.id or 0 for i in rest
                       if not i.in_doubt and i.delivery.state == DeliveryState.PENDING.value])
            return []
        done = set()
        for token, ref in found.items():
            item = tokens.get(token)
            if item is None:
                continue
            log.info("delivery %s was already in %s:%s; recorded, not sent again",
                     item.delivery.id, first.platform, first.channel)
            await asyncio.to_thread(self.store.delivery_sent, delivery_id=item.delivery.id or 0,
                                    message_ref=ref)
            done.add(item.delivery.id)
        return [i for i in items if i.delivery.id not in done]

    async def _one(self, item: ClaimedDelivery, parents: dict[int, str]) -> bool:
        d = item.delivery
        adapter = self.adapters[d.platform]
        card = card_for(item.view, reply_networks=self.reply_networks,
                        ai_drafts=self.ai_drafts, story=item.story,
                        moderators=self.moderators)
        update = d.state == DeliveryState.SENT.value and d.message_ref is not None
        thread = item.thread_ref or (parents.get(item.parent_mention_id)
                                     if item.parent_mention_id is not None else None)
        try:
            if update:
                assert d.message_ref is not None
                await adapter.update_card(d.channel, d.message_ref, card)
                ref = d.message_ref
            elif thread is not None and isinstance(adapter, ThreadedChat):
                ref = await adapter.send_card_in_thread(d.channel, thread, card,
                                                        token=delivery_token(d))
            elif isinstance(adapter, IdempotentChat):
                ref = await adapter.send_card_with_token(d.channel, card,
                                                         token=delivery_token(d))
            else:
                ref = await adapter.send_card(d.channel, card)
        except ChatError as exc:
            metrics.CHAT_ERRORS.labels(platform=d.platform).inc()
            # A 429 or a refusal means the chat did not take it; a timeout or 5xx may have.
            unsent = exc.retry_after is not None or exc.permanent
            await self._failed(item, str(exc), exc.retry_after, exc.permanent, update,
                               maybe_sent=not unsent)
            return False
        except Exception as exc:  # an adapter bug must not stop the relay for other channels
            metrics.CHAT_ERRORS.labels(platform=d.platform).inc()
            log.exception("%s adapter failed on delivery %s", d.platform, d.id)
            await self._failed(item, f"{type(exc).__name__}: {exc}", None, False, update,
                               maybe_sent=True)
            return False
        await asyncio.to_thread(self.store.delivery_sent, delivery_id=d.id or 0, message_ref=ref)
        if thread is None:
            parents[d.mention_id] = ref
        if not update:
            metrics.RELAYED.labels(platform=d.platform).inc()
            seen = item.view.mention.seen_at
            if seen is not None:
                metrics.RELAY_LATENCY.labels(platform=d.platform).observe(
                    max((self.now() - seen).total_seconds(), 0.0))
        return True

    async def _failed(
        self, item: ClaimedDelivery, error: str, retry_after: float | None, permanent: bool,
        update: bool, *, maybe_sent: bool = False,
    ) -> None:
        d = item.delivery
        attempt = d.attempts + 1
        # A rate limit is the platform saying when, not a failure: it never uses up the attempts.
        give_up = permanent or (attempt >= self.policy.max_attempts and retry_after is None)
        delay = retry_after if retry_after is not None else backoff_delay(
            attempt, self.policy, self.rng)
        retry_at = None if give_up else self.now() + timedelta(seconds=delay)
        log.warning(
            "delivery %s to %s:%s failed (attempt %s)%s: %s", d.id, d.platform, d.channel,
            attempt, " - giving up" if give_up else f" - retry in {delay:.1f}s", error,
        )
        await asyncio.to_thread(
            self.store.delivery_failed, delivery_id=d.id or 0, error=error, retry_at=retry_at,
            update=update, maybe_sent=maybe_sent,
        )

    async def run(self, stop: asyncio.Event, *, poll: float = 0.5) -> None:
        """Relay until `stop` is set; wakes early when `wakeup` is set by the pipeline. Once
        `stop` is set, the cards being sent finish and the rest of the round is released."""
        self._stopping = stop
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("relay batch failed; trying again shortly")
                handled = 0
            if handled:
                continue
            self.wakeup.clear()
            waiters = [asyncio.ensure_future(stop.wait()),
                       asyncio.ensure_future(self.wakeup.wait())]
            _, pending = await asyncio.wait(waiters, timeout=poll,
                                            return_when=asyncio.FIRST_COMPLETED)
            for w in pending:
                w.cancel()
