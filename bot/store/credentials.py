"""Credentials the bot renews itself (rotating OAuth refresh tokens, long-lived tokens), one
renewer at a time."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.errors import NotFound
from bot.models import Credential, table
from bot.store.base import StoreBase


class CredentialStore(StoreBase):
    """Stored credentials and the lease to renew them."""

    def credential(self, *, name: str) -> Credential | None:
        """The stored credential `name` (a rotating refresh token and its access token)."""
        with self.session() as s:
            return s.get(Credential, name)

    def seed_credential(self, *, name: str, secret: str, origin: str) -> Credential:
        """The stored credential `name`, started from the configured `secret` when there is
        none, or when the stored one descends from another configured token (`origin`, a hash
        of it, differs: the operator authorized again). A stored chain that started from this
        very `secret` is kept: its refresh token is newer, and the configured one is spent."""
        t = table(Credential)
        now = self.now()
        values = {"secret": secret, "access": None, "expires_at": None, "origin": origin,
                  "lease_holder": None, "lease_until": None, "updated_at": now}
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.name == name, t.c.origin != origin)
                         .values(**values))
        try:
            with self.engine.begin() as conn:
                conn.execute(t.insert(), {"name": name, **values})
        except sa.exc.IntegrityError:
            pass  # there already (or another replica seeded it a moment ago)
        row = self.credential(name=name)
        if row is None:
            raise NotFound(f"no credential {name}")
        return row

    def lease_credential(
        self, *, name: str, secret: str, holder: str, until: datetime
    ) -> bool:
        """Take the right to renew credential `name` until `until`: True when the stored
        refresh token is still `secret` and no other holder's lease runs. One replica renews
        at a time; the others wait and then take the token it stored."""
        t = table(Credential)
        with self.engine.begin() as conn:
            taken = conn.execute(
                t.update()
                .where(t.c.name == name, t.c.secret == secret,
                       sa.or_(t.c.lease_until.is_(None), t.c.lease_until <= self.now(),
                              t.c.lease_holder == holder))
                .values(lease_holder=holder, lease_until=until)
            ).rowcount
        return bool(taken)

    def save_credential(
        self, *, name: str, secret: str, access: str | None, expires_at: datetime | None,
        expected: str,
    ) -> bool:
        """Store the renewed credential `name` in place of refresh token `expected` (compare
        and swap) and end the lease. False when the stored token is no longer `expected`."""
        t = table(Credential)
        with self.engine.begin() as conn:
            saved = conn.execute(
                t.update()
                .where(t.c.name == name, t.c.secret == expected)
                .values(secret=secret, access=access, expires_at=expires_at,
                        lease_holder=None, lease_until=None, updated_at=self.now())
            ).rowcount
        return bool(saved)

    def release_credential(self, *, name: str, holder: str) -> None:
        """End `holder`'s lease on credential `name` without a change (the renewal failed)."""
        t = table(Credential)
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.name == name, t.c.lease_holder == holder)
                         .values(lease_holder=None, lease_until=None))
