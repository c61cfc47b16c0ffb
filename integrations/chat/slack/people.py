"""Who a Slack user is to Echtzeit: their display name and their roles.

`ECHTZEIT_SLACK_ADMINS`, `ECHTZEIT_SLACK_RESPONDERS` and `ECHTZEIT_SLACK_APPROVERS` name user
ids (U…/W…) or user-group ids (S…). Group members are looked up with usergroups.users.list and
names with users.info; both are cached for a few minutes so that a busy channel costs a handful
of API calls, not one per click. An empty responders list means everyone in the channel may
answer customers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from commands import Role

log = logging.getLogger(__name__)


def _is_group(ident: str) -> bool:
    return ident.startswith("S")


@dataclass
class _Cached:
    value: object
    until: float


@dataclass
class Directory:
    """Roles and display names of Slack users, with a small time-limited cache."""

    admins: tuple[str, ...] = ()
    responders: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
    ttl: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _cache: dict[str, _Cached] = field(default_factory=dict)

    @classmethod
    def from_lists(cls, admins: Iterable[str], responders: Iterable[str],
                   approvers: Iterable[str] = ()) -> Directory:
        return cls(admins=tuple(a.strip() for a in admins if a.strip()),
                   responders=tuple(r.strip() for r in responders if r.strip()),
                   approvers=tuple(a.strip() for a in approvers if a.strip()))

    def _get(self, key: str) -> object | None:
        hit = self._cache.get(key)
        if hit is None or hit.until < self.clock():
            return None
        return hit.value

    def _put(self, key: str, value: object) -> None:
        self._cache[key] = _Cached(value=value, until=self.clock() + self.ttl)

    async def group_members(self, client: AsyncWebClient, group: str) -> frozenset[str]:
        cached = self._get(f"group:{group}")
        if isinstance(cached, frozenset):
            return cached
        try:
            response = await client.usergroups_users_list(usergroup=group)
            members = frozenset(str(u) for u in response.get("users") or [])
        except SlackApiError as exc:
            # Deny rather than guess; cache briefly so a broken group is not asked per click.
            log.warning("cannot read members of user group %s: %s", group,
                        exc.response.get("error"))
            members = frozenset()
        self._put(f"group:{group}", members)
        return members

    async def _listed(self, client: AsyncWebClient, user: str, ids: tuple[str, ...]) -> bool:
        if user in ids:
            return True
        for ident in ids:
            if _is_group(ident) and user in await self.group_members(client, ident):
                return True
        return False

    async def roles(self, client: AsyncWebClient, user: str) -> frozenset[Role]:
        """The roles of `user`: admin, approver and responder as configured (an admin is all
        three, an approver also answers); everyone is a responder when no responders are
        configured."""
        roles: set[Role] = set()
        if await self._listed(client, user, self.admins):
            roles |= {Role.ADMIN, Role.APPROVER, Role.RESPONDER}
        if self.approvers and await self._listed(client, user, self.approvers):
            roles |= {Role.APPROVER, Role.RESPONDER}
        if not self.responders or await self._listed(client, user, self.responders):
            roles.add(Role.RESPONDER)
        return frozenset(roles)

    async def display_name(self, client: AsyncWebClient, user: str,
                           fallback: str | None = None) -> str:
        """The name Slack shows for `user` (display name, else real name, else handle)."""
        cached = self._get(f"user:{user}")
        if isinstance(cached, str):
            return cached
        name = fallback or user
        try:
            response = await client.users_info(user=user)
            info = response.get("user") or {}
            profile = info.get("profile") or {}
            name = (profile.get("display_name") or profile.get("real_name")
                    or info.get("real_name") or info.get("name") or name)
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", user, exc.response.get("error"))
        self._put(f"user:{user}", str(name))
        return str(name)
