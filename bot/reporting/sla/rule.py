"""SLA clocks: first-response targets per network, per-brand overrides, and the warn/due rule.

A mention's clock starts when it was posted on the network (`Mention.created_at`: that is when
the customer starts waiting) and stops at our first reply that the network took. Targets run in
calendar time, as the customer counts; business hours (bot.reporting.sla.hours) only change how
the digest reports the team's own response times. docs/digest.md gives the sources of the
defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Literal

from bot.networks import network_specs


def default_target_minutes() -> Mapping[str, int]:
    """Minutes to the first reply that customers expect, per network: the `sla_minutes` of the
    installed list of networks (bot.networks; docs/digest.md, "SLA targets"). Worked out once
    per installed list (a digest asks for every mention it judges)."""
    global _defaults
    specs = network_specs()
    if _defaults is None or _defaults[0] is not specs:
        _defaults = (specs, MappingProxyType(
            {s.name: s.sla_minutes for s in specs if s.sla_minutes is not None}))
    return _defaults[1]


_defaults: tuple[object, Mapping[str, int]] | None = None


# Any other network: the four hours customers said they would wait (Sprout Social Index 2016).
FALLBACK_TARGET_MINUTES = 240
# A reminder goes out when this share of the target has passed, another one at the breach.
WARNING_SHARE = 0.75


def default_target(network: str) -> timedelta:
    return timedelta(minutes=default_target_minutes().get(network, FALLBACK_TARGET_MINUTES))


SlaStage = Literal["sla_warning", "sla_breach"]


@dataclass(frozen=True, slots=True)
class SlaClock:
    """THE warn/due rule, the one place it is written: a mention is due `target` after it was
    posted, and warned about once `warn_share` of the target has passed. Cards show `due_at`,
    the digest judges replies against it, the reminders go out by `stage`; the digest's overdue
    list applies the same rule in SQL through `breached_before`."""

    created_at: datetime
    target: timedelta
    warn_share: float = WARNING_SHARE

    @property
    def due_at(self) -> datetime:
        return self.created_at + self.target

    @property
    def warn_at(self) -> datetime:
        return self.created_at + self.target * self.warn_share

    def stage(self, now: datetime) -> SlaStage | None:
        """The reminder due at `now`: the breach from `due_at` on, the warning from `warn_at`."""
        if now >= self.due_at:
            return "sla_breach"
        if now >= self.warn_at:
            return "sla_warning"
        return None


def breached_before(now: datetime, target: timedelta) -> datetime:
    """The rule turned around for SQL: a mention posted before this instant is past its due
    time at `now` (created_at + target < now)."""
    return now - target


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """The targets in force: defaults per network, overridden per (brand id, network)."""

    overrides: Mapping[tuple[int, str], int] = field(default_factory=dict)

    def target(self, brand_id: int, network: str) -> timedelta:
        minutes = self.overrides.get((brand_id, network))
        return timedelta(minutes=minutes) if minutes is not None else default_target(network)

    def clock(self, brand_id: int, network: str, created_at: datetime,
              share: float = WARNING_SHARE) -> SlaClock:
        return SlaClock(created_at, self.target(brand_id, network), share)

    def due_at(self, brand_id: int, network: str, created_at: datetime) -> datetime:
        return self.clock(brand_id, network, created_at).due_at

    def warn_at(self, brand_id: int, network: str, created_at: datetime,
                share: float = WARNING_SHARE) -> datetime:
        return self.clock(brand_id, network, created_at, share).warn_at


def due_at(created_at: datetime, network: str, override_minutes: int | None) -> datetime:
    """When a mention breaches its SLA (calendar time)."""
    target = (timedelta(minutes=override_minutes) if override_minutes is not None
              else default_target(network))
    return SlaClock(created_at, target).due_at
