"""Drains the outbox into the chat adapters.

A delivery is done only when the chat accepted it. Failures retry with exponential back-off and
jitter (or the platform's own Retry-After); channels are independent of each other, and within a
channel cards go out in the order they were stored. Cards whose mention changed are edited in
place.

Exactly once: a claimed card is marked `sending_at` before it goes out (bot.store). A card found
still marked on a later claim may have reached the chat; when the adapter implements
bot.chat.IdempotentChat the relay asks it for the cards' tokens first and records the ones the
chat already has instead of posting them again. Other adapters are at-least-once after a crash.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import metrics
from bot.cards import card_for
from bot.chat import ChatAdapter, ChatError, IdempotentChat
from bot.clock import utcnow
from bot.domain import DeliveryState
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
        # Networks that can hide comments (bot.cards.card_for's Hide button).
        self.moderators = moderators
        # Set while `run` stops: the card being sent finishes, the rest of the round is given
        # back to the outbox (for this process's next start or another replica).
        self._stopping: asyncio.Event | None = None

    async def run_once(self) -> int:
        """Claim one batch of due rows and work through it; returns how many were handled."""
        claimed = await asyncio.to_thread(
            self.store.claim_deliveries,
            worker=self.worker,
            limit=self.policy.batch,
            lease=self.policy.lease,
            platforms=list(self.adapters),
        )
        if not claimed:
            return 0
        channels: dict[tuple[str, str], list[ClaimedDelivery]] = {}
        for c in claimed:
            channels.setdefault((c.delivery.platform, c.delivery.channel), []).append(c)
        await asyncio.gather(*(self._channel(items) for items in channels.values()))
        return len(claimed)

    async def _channel(self, items: list[ClaimedDelivery]) -> None:
        items = await self._settle_doubts(items)
        for index, item in enumerate(items):
            if self._stopping is not None and self._stopping.is_set():
                await asyncio.to_thread(self.store.release,
                                        delivery_ids=[i.delivery.id or 0 for i in items[index:]])
                return
            ok = await self._one(item)
            if not ok and item.delivery.state == DeliveryState.PENDING.value:
                # Keep the channel's order: the rest wait until this one went out.
                rest = [i.delivery.id or 0 for i in items[index + 1:]
                        if i.delivery.state == DeliveryState.PENDING.value]
                await asyncio.to_thread(self.store.release, delivery_ids=rest)
                return

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
            found = await adapter.find_sent(first.channel, list(tokens), since=since)
        except Exception as exc:  # a ChatError or an adapter bug: nothing may be sent blindly
            metrics.CHAT_ERRORS.labels(platform=first.platform).inc()
            await self._failed(items[0], f"looking up cards in doubt: {exc}",
                               exc.retry_after if isinstance(exc, ChatError) else None,
                               False, False, maybe_sent=True)
            await asyncio.to_thread(self.store.release,
                                    delivery_ids=[i.delivery.id or 0 for i in items[1:]])
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

    async def _one(self, item: ClaimedDelivery) -> bool:
        d = item.delivery
        adapter = self.adapters[d.platform]
        card = card_for(item.view, reply_networks=self.reply_networks,
                            moderators=self.moderators)
        update = d.state == DeliveryState.SENT.value and d.message_ref is not None
        try:
            if update:
                assert d.message_ref is not None
                await adapter.update_card(d.channel, d.message_ref, card)
                ref = d.message_ref
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
