"""Brands, their routes to chat channels, and the revision that tells replicas to reload."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.domain import PRIORITY_ORDER
from bot.errors import Conflict, NotFound
from bot.models import Brand, Revision, Route, table
from bot.quiet import QuietHours
from bot.store.base import StoreBase

BRANDS_REVISION = "brands"


class BrandStore(StoreBase):
    """Brands, routes and revisions."""

    def _bump(self, s: Session, name: str) -> None:
        row = s.get(Revision, name)
        if row is None:
            s.add(Revision(name=name, value=1))
        else:
            row.value += 1

    def revision(self, name: str = BRANDS_REVISION) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(table(Revision).c.value).where(table(Revision).c.name == name)
            ).scalar()
        return int(value or 0)

    def add_brand(self, *, name: str, query: str, actor: str) -> Brand:
        with self.session() as s:
            if s.exec(select(Brand).where(Brand.name == name)).first():
                raise Conflict(f"a brand named {name!r} exists already")
            now = self.now()
            brand = Brand(name=name, query=query, created_at=now, updated_at=now)
            s.add(brand)
            s.flush()
            self._bump(s, BRANDS_REVISION)
            self._event(s, kind="brand_added", actor=actor, brand_id=brand.id,
                        detail={"name": name, "query": query})
            return brand

    def set_brand_query(self, *, name: str, query: str, actor: str) -> Brand:
        with self.session() as s:
            brand = self._brand_by_name(s, name)
            old = brand.query
            brand.query = query
            brand.updated_at = self.now()
            self._bump(s, BRANDS_REVISION)
            self._event(s, kind="query_changed", actor=actor, brand_id=brand.id,
                        detail={"old": old, "new": query})
            return brand

    def _brand_by_name(self, s: Session, name: str) -> Brand:
        brand = s.exec(select(Brand).where(sa.func.lower(Brand.name) == name.lower())).first()
        if brand is None:
            raise NotFound(f"no brand named {name!r}")
        return brand

    def brand(self, *, name: str) -> Brand:
        with self.session() as s:
            return self._brand_by_name(s, name)

    def brands(self) -> list[Brand]:
        with self.session() as s:
            return list(s.exec(select(Brand).order_by(col(Brand.name))))

    def brand_queries(self) -> dict[int, str]:
        with self.engine.connect() as conn:
            t = table(Brand)
            return {int(r.id): str(r.query) for r in conn.execute(sa.select(t.c.id, t.c.query))}

    def add_route(
        self,
        *,
        brand: str,
        platform: str,
        channel: str,
        networks: Sequence[str] = (),
        min_priority: str = "low",
        quiet_hours: str | None = None,
        quiet_timezone: str | None = None,
        min_relevance: float = 0.0,
        actor: str,
    ) -> Route:
        """Create or replace a route (every option is set: what is not given is the default).
        `quiet_hours` in `quiet_timezone` (bot.quiet; QuietHoursError when malformed)."""
        if min_priority not in PRIORITY_ORDER:
            raise ValueError(f"priority must be one of {', '.join(PRIORITY_ORDER)}")
        if quiet_hours:
            quiet_timezone = quiet_timezone or "UTC"
            QuietHours.parse(quiet_hours, quiet_timezone)
        else:
            quiet_hours = quiet_timezone = None
        if not 0.0 <= min_relevance <= 1.0:
            raise ValueError("minimum relevance must be between 0 and 1")
        with self.session() as s:
            b = self._brand_by_name(s, brand)
            existing = s.exec(
                select(Route).where(
                    Route.brand_id == b.id, Route.platform == platform, Route.channel == channel
                )
            ).first()
            route = existing or Route(brand_id=b.id or 0, platform=platform, channel=channel)
            route.networks = ",".join(networks)
            route.min_priority = min_priority
            route.quiet_hours = quiet_hours
            route.quiet_timezone = quiet_timezone
            route.min_relevance = min_relevance
            s.add(route)
            s.flush()
            self._bump(s, BRANDS_REVISION)
            self._event(s, kind="route_set", actor=actor, brand_id=b.id,
                        detail={"platform": platform, "channel": channel,
                                "networks": list(networks), "min_priority": min_priority,
                                "quiet_hours": quiet_hours, "quiet_timezone": quiet_timezone,
                                "min_relevance": min_relevance})
            return route

    def remove_route(self, *, brand: str, platform: str, channel: str, actor: str) -> None:
        with self.session() as s:
            b = self._brand_by_name(s, brand)
            route = s.exec(
                select(Route).where(
                    Route.brand_id == b.id, Route.platform == platform, Route.channel == channel
                )
            ).first()
            if route is None:
                raise NotFound(f"{brand} has no route to {platform}:{channel}")
            s.delete(route)
            self._bump(s, BRANDS_REVISION)
            self._event(s, kind="route_removed", actor=actor, brand_id=b.id,
                        detail={"platform": platform, "channel": channel})

    def routes(self, *, brand_id: int | None = None) -> list[Route]:
        with self.session() as s:
            q = select(Route).order_by(col(Route.id))
            if brand_id is not None:
                q = q.where(Route.brand_id == brand_id)
            return list(s.exec(q))


def is_noise(route: Route, relevance: float | None) -> bool:
    """Whether a mention is below the route's minimum relevance (never for unscored ones)."""
    return relevance is not None and relevance < (route.min_relevance or 0.0)


def noise_everywhere(routes: Iterable[Route], *, network: str, priority: str,
                     relevance: float | None) -> bool:
    """Whether every route that takes a mention hides it as noise (and at least one does):
    no channel shows it, so nobody is waiting on it. The store closes such a mention at once
    ("ignored" by the pipeline, no staff event), outside the open list, the reminders and the
    response rate; `list noise` shows it and a claim or reply reopens it."""
    taking = [r for r in routes if route_accepts(r, network=network, priority=priority)]
    return bool(taking) and all(is_noise(r, relevance) for r in taking)


def route_accepts(route: Route, *, network: str, priority: str) -> bool:
    if route.networks and network not in route.networks.split(","):
        return False
    return PRIORITY_ORDER.get(priority, 1) >= PRIORITY_ORDER.get(route.min_priority, 0)
