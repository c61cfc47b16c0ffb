"""The on-call rota per brand and the escalation pings (issue 17, item 4).

A rota is levels of people (1 is pinged first), each during their business hours in their time
zone (bot.reporting.sla.hours.BusinessHours; no hours: any time). A ping is recorded under a
unique (mention, step) BEFORE it is sent, so a restart or a second leader sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select

from bot.errors import NotFound
from bot.models import EscalationPing, Mention, OnCall, table
from bot.store.base import StoreBase


class OnCallStore(StoreBase):
    """On-call entries and escalation pings."""

    def set_oncall(self, *, brand_id: int, level: int, platform: str, person: str,
                   hours: str | None, timezone: str, actor: str) -> OnCall:
        """Put `person` on `level` of the brand's ladder (or change their hours)."""
        with self.session() as s:
            row = s.exec(select(OnCall).where(
                OnCall.brand_id == brand_id, OnCall.level == level,
                OnCall.platform == platform, OnCall.person == person)).first()
            if row is None:
                row = OnCall(brand_id=brand_id, level=level, platform=platform, person=person,
                             set_by=actor)
                s.add(row)
            row.hours, row.timezone, row.set_by, row.updated_at = (hours, timezone, actor,
                                                                   self.now())
            s.flush()
            self._event(s, kind="oncall_set", actor=actor, brand_id=brand_id,
                        detail={"level": level, "person": f"{platform}:{person}",
                                "hours": hours, "timezone": timezone})
            return row

    def remove_oncall(self, *, brand_id: int, person: str, actor: str,
                      level: int | None = None) -> int:
        """Take `person` off the brand's ladder (one level, or all); how many entries went."""
        with self.session() as s:
            q = select(OnCall).where(OnCall.brand_id == brand_id, OnCall.person == person)
            if level is not None:
                q = q.where(OnCall.level == level)
            rows = list(s.exec(q))
            if not rows:
                raise NotFound(f"{person} is not on call for this brand")
            for r in rows:
                s.delete(r)
            self._event(s, kind="oncall_removed", actor=actor, brand_id=brand_id,
                        detail={"person": person, "level": level})
            return len(rows)

    def oncall_rota(self, *, brand_ids: list[int] | None = None) -> list[OnCall]:
        with self.session() as s:
            q = select(OnCall)
            if brand_ids is not None:
                q = q.where(col(OnCall.brand_id).in_(brand_ids))
            return list(s.exec(q.order_by(col(OnCall.brand_id), col(OnCall.level),
                                          col(OnCall.platform), col(OnCall.person))))

    def escalation_steps(self, mention_ids: list[int]) -> dict[int, int]:
        """The highest step recorded per mention (absent: never pinged)."""
        if not mention_ids:
            return {}
        t = table(EscalationPing)
        q = (sa.select(t.c.mention_id, sa.func.max(t.c.step))
             .where(t.c.mention_id.in_(mention_ids)).group_by(t.c.mention_id))
        with self.engine.connect() as conn:
            return {int(m): int(st) for m, st in conn.execute(q)}

    def record_ping(self, *, mention_id: int, step: int, level: int, people: list[str],
                    at: datetime) -> int | None:
        """Record a ping before it is sent; None when this step was recorded already (another
        runner, or a run before a restart)."""
        with self.session() as s:
            lock = select(Mention).where(Mention.id == mention_id)
            if self.is_postgres:
                lock = lock.with_for_update()
            m = s.exec(lock).first()
            if m is None:
                raise NotFound(f"no mention #{mention_id}")
            exists = s.exec(select(EscalationPing.id).where(
                EscalationPing.mention_id == mention_id, EscalationPing.step == step)).first()
            if exists is not None:
                return None
            ping = EscalationPing(mention_id=mention_id, brand_id=m.brand_id, step=step,
                                  level=level, people=",".join(people), at=at)
            s.add(ping)
            s.flush()
            self._event(s, kind="escalation_ping", actor="scheduler", mention=m,
                        detail={"step": step, "level": level, "people": people})
            return ping.id

    def ping_done(self, *, ping_id: int, error: str | None = None) -> None:
        with self.session() as s:
            ping = s.get(EscalationPing, ping_id)
            if ping is None:
                raise NotFound(f"no escalation ping {ping_id}")
            ping.state = "failed" if error else "sent"
            ping.error = error[:2000] if error else None
            if error:
                m = s.get(Mention, ping.mention_id)
                self._event(s, kind="escalation_failed", actor="scheduler", mention=m,
                            detail={"ping": ping_id, "error": error[:300]})
