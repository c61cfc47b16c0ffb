"""The daily reading of the brands' own accounts' follower counts, for the digest's growth
figures (`Store.record_followers`, one row per account and local day).

Which accounts belong to which brand is configured as `ECHTZEIT_BRAND_ACCOUNTS`, entries
`<brand>=<network>:<handle>` separated by commas, e.g.
`Acme=mastodon:acme@mastodon.social,Acme=x:AcmeSupport,Acme=youtube:@acmeofficial`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import utcnow
from bot.store import NotFound, Store
from integrations.networks.http_common import Sleep

log = logging.getLogger(__name__)

Count = Callable[[str, str], Awaitable[int | None]]


@dataclass(frozen=True, slots=True)
class Account:
    brand: str
    network: str
    handle: str


def parse_accounts(entries: Sequence[str]) -> list[Account]:
    """`Brand=network:handle` entries; raises ValueError naming a malformed one."""
    accounts = []
    for entry in entries:
        brand, sep, rest = entry.partition("=")
        network, sep2, handle = rest.partition(":")
        if not (sep and sep2 and brand.strip() and network.strip() and handle.strip()):
            raise ValueError(f"brand account {entry!r}: write Brand=network:handle")
        accounts.append(Account(brand.strip(), network.strip().lower(), handle.strip()))
    return accounts


class FollowerRecorder:
    """A service (`bot.chat.Service`): reads every configured account's followers at start and
    then every `every` seconds, and records them for the local day."""

    name = "follower-counts"

    def __init__(self, store: Store, accounts: Sequence[Account], count: Count, *,
                 zone: str = "UTC", every: float = 24 * 3600.0, sleep: Sleep = asyncio.sleep,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.accounts = list(accounts)
        self.count = count
        self.zone = ZoneInfo(zone)
        self.every = every
        self.sleep = sleep
        self.now = now

    async def record_once(self) -> int:
        """Read and record every account once; returns how many were recorded."""
        day = self.now().astimezone(self.zone).date()
        done = 0
        for account in self.accounts:
            followers = await self.count(account.network, account.handle)
            if followers is None:
                log.warning("followers of %s on %s unknown today", account.handle,
                            account.network)
                continue
            try:
                brand = await asyncio.to_thread(self.store.brand, name=account.brand)
            except NotFound:
                log.warning("brand account for unknown brand %r skipped", account.brand)
                continue
            await asyncio.to_thread(self.store.record_followers, brand_id=brand.id or 0,
                                    network=account.network, handle=account.handle, day=day,
                                    followers=followers)
            done += 1
        return done

    async def serve(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.record_once()
            except Exception:
                log.exception("recording follower counts failed")
            waiting = asyncio.ensure_future(stop.wait())
            pause = asyncio.ensure_future(self.sleep(self.every))
            await asyncio.wait({waiting, pause}, return_when=asyncio.FIRST_COMPLETED)
            for task in (waiting, pause):
                task.cancel()
