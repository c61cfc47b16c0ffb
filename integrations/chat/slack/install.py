"""Slack installations (OAuth, many workspaces) kept in Echtzeit's own database.

Implements slack_sdk's `AsyncInstallationStore` (bot tokens only: Echtzeit acts as its bot, never
as the installing person) and `AsyncOAuthStateStore` (single-use `state` values of the install
flow, so a replayed redirect is refused) on two tables of our schema, created by the Alembic
migration `0002_slack`. They work on SQLite and PostgreSQL alike and are shared by every replica
behind a load balancer. Database calls run in a worker thread: the store is synchronous.

Bot tokens are stored as they are (as slack_sdk's own stores do): protect the database.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.clock import utcnow
from bot.models import UTCDateTime

log = logging.getLogger(__name__)

metadata = sa.MetaData()

installations = sa.Table(
    "slack_installation",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    # team id, or "org:<enterprise id>" for an org-wide install: one row per workspace.
    sa.Column("workspace", sa.String(100), nullable=False),
    sa.Column("app_id", sa.String(64)),
    sa.Column("enterprise_id", sa.String(64)),
    sa.Column("enterprise_name", sa.String(200)),
    sa.Column("team_id", sa.String(64)),
    sa.Column("team_name", sa.String(200)),
    sa.Column("bot_token", sa.Text, nullable=False),
    sa.Column("bot_id", sa.String(64), nullable=False),
    sa.Column("bot_user_id", sa.String(64), nullable=False),
    sa.Column("bot_scopes", sa.Text, nullable=False),
    sa.Column("bot_refresh_token", sa.Text),
    sa.Column("bot_token_expires_at", sa.BigInteger),
    sa.Column("is_enterprise_install", sa.Boolean, nullable=False),
    sa.Column("installer_user_id", sa.String(64)),
    sa.Column("installed_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("client_id", "workspace", name="uq_slack_installation_workspace"),
)

oauth_states = sa.Table(
    "slack_oauth_state",
    metadata,
    sa.Column("state", sa.String(64), primary_key=True),
    sa.Column("expire_at", UTCDateTime(), nullable=False),
)


def _workspace(*, enterprise_id: str | None, team_id: str | None,
               is_enterprise_install: bool | None) -> str:
    if is_enterprise_install or not team_id:
        return f"org:{enterprise_id or ''}"
    return team_id


class SqlInstallationStore(AsyncInstallationStore):
    """Bot installations per workspace (or org) in the `slack_installation` table."""

    def __init__(self, engine: sa.Engine, *, client_id: str,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.client_id = client_id
        self.now = now

    @property
    def logger(self) -> logging.Logger:
        return log

    # --- writes --------------------------------------------------------------------------------

    def _save(self, bot: Bot, installer: str | None) -> None:
        workspace = _workspace(enterprise_id=bot.enterprise_id, team_id=bot.team_id,
                               is_enterprise_install=bot.is_enterprise_install)
        row: dict[str, Any] = {
            "client_id": self.client_id, "workspace": workspace, "app_id": bot.app_id,
            "enterprise_id": bot.enterprise_id, "enterprise_name": bot.enterprise_name,
            "team_id": None if bot.is_enterprise_install else bot.team_id,
            "team_name": bot.team_name, "bot_token": bot.bot_token, "bot_id": bot.bot_id,
            "bot_user_id": bot.bot_user_id, "bot_scopes": ",".join(bot.bot_scopes or []),
            "bot_refresh_token": bot.bot_refresh_token,
            "bot_token_expires_at": bot.bot_token_expires_at,
            "is_enterprise_install": bool(bot.is_enterprise_install),
            "installer_user_id": installer, "installed_at": self.now(),
        }
        t = installations
        with self.engine.begin() as conn:
            # A re-install (or a rotated token) replaces the workspace's row.
            conn.execute(t.delete().where(t.c.client_id == self.client_id,
                                          t.c.workspace == workspace))
            conn.execute(t.insert(), row)

    async def async_save(self, installation: Installation) -> None:
        if not installation.bot_token:
            log.warning("installation of %s has no bot token; not saved",
                        installation.team_id or installation.enterprise_id)
            return
        await asyncio.to_thread(self._save, installation.to_bot(), installation.user_id)

    async def async_save_bot(self, bot: Bot) -> None:
        await asyncio.to_thread(self._save, bot, None)

    def _delete(self, enterprise_id: str | None, team_id: str | None) -> None:
        t = installations
        with self.engine.begin() as conn:
            q = t.delete().where(t.c.client_id == self.client_id)
            if team_id:
                q = q.where(t.c.team_id == team_id)
            else:
                q = q.where(t.c.enterprise_id == enterprise_id, t.c.team_id.is_(None))
            conn.execute(q)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self._delete, enterprise_id, team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
    ) -> None:
        # Only bot tokens are kept: removing the installation removes the bot.
        await asyncio.to_thread(self._delete, enterprise_id, team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await asyncio.to_thread(self._delete, enterprise_id, team_id)

    # --- reads ---------------------------------------------------------------------------------

    def _find(self, enterprise_id: str | None, team_id: str | None,
              is_enterprise_install: bool | None) -> sa.Row[Any] | None:
        t = installations
        q = sa.select(t).where(t.c.client_id == self.client_id)
        if team_id and not is_enterprise_install:
            # Team ids are unique across Slack, inside an Enterprise Grid org too.
            q = q.where(t.c.team_id == team_id)
        else:
            q = q.where(t.c.enterprise_id == enterprise_id, t.c.is_enterprise_install.is_(True))
        with self.engine.connect() as conn:
            return conn.execute(q.order_by(t.c.installed_at.desc()).limit(1)).first()

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        row = await asyncio.to_thread(self._find, enterprise_id, team_id, is_enterprise_install)
        if row is None:
            return None
        return Bot(
            app_id=row.app_id, enterprise_id=row.enterprise_id,
            enterprise_name=row.enterprise_name, team_id=row.team_id, team_name=row.team_name,
            bot_token=row.bot_token, bot_id=row.bot_id, bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes, bot_refresh_token=row.bot_refresh_token,
            bot_token_expires_at=row.bot_token_expires_at,
            is_enterprise_install=row.is_enterprise_install,
            installed_at=row.installed_at.timestamp(),
        )

    async def async_find_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        row = await asyncio.to_thread(self._find, enterprise_id, team_id, is_enterprise_install)
        if row is None or (user_id is not None and row.installer_user_id != user_id):
            return None
        return Installation(
            app_id=row.app_id, enterprise_id=row.enterprise_id,
            enterprise_name=row.enterprise_name, team_id=row.team_id, team_name=row.team_name,
            bot_token=row.bot_token, bot_id=row.bot_id, bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes, bot_refresh_token=row.bot_refresh_token,
            bot_token_expires_at=row.bot_token_expires_at,
            user_id=row.installer_user_id or "",
            is_enterprise_install=row.is_enterprise_install,
            installed_at=row.installed_at.timestamp(),
        )

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(
                sa.select(sa.func.count()).select_from(installations)
                .where(installations.c.client_id == self.client_id)
            ).scalar_one())


class SqlOAuthStateStore(AsyncOAuthStateStore):
    """Single-use OAuth `state` values with an expiry, in the `slack_oauth_state` table."""

    def __init__(self, engine: sa.Engine, *, expiration_seconds: int = 600,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.expiration = timedelta(seconds=expiration_seconds)
        self.now = now

    @property
    def logger(self) -> logging.Logger:
        return log

    def _issue(self) -> str:
        state = secrets.token_urlsafe(32)
        now = self.now()
        t = oauth_states
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.expire_at <= now))
            conn.execute(t.insert(), {"state": state, "expire_at": now + self.expiration})
        return state

    def _consume(self, state: str) -> bool:
        t = oauth_states
        with self.engine.begin() as conn:
            gone = conn.execute(t.delete().where(t.c.state == state[:64],
                                                 t.c.expire_at > self.now()))
            return gone.rowcount == 1

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await asyncio.to_thread(self._issue)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self._consume, state)
