"""SLA clocks: first-response targets per network, per-brand overrides, business hours.

A mention's clock starts when it was posted on the network (`Mention.created_at`: that is when
the customer starts waiting) and stops at our first reply that the network took. Targets run in
calendar time, as the customer counts; business hours (optional, per channel) only change how the
digest reports the team's own response times. docs/digest.md gives the sources of the defaults.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Minutes to the first reply that customers expect, per network (docs/digest.md, "SLA targets").
DEFAULT_TARGET_MINUTES: Mapping[str, int] = {
    "x": 60,
    "bluesky": 60,
    "mastodon": 60,
    "threads": 60,
    "facebook": 120,
    "instagram": 120,
    "reddit": 240,
    "youtube": 24 * 60,
    "github": 24 * 60,
    "trustpilot": 24 * 60,
    "google": 24 * 60,
    "hackernews": 24 * 60,
    "rss": 24 * 60,
}
# Any other network: the four hours customers said they would wait (Sprout Social Index 2016).
FALLBACK_TARGET_MINUTES = 240
# A reminder goes out when this share of the target has passed, another one at the breach.
WARNING_SHARE = 0.75


def default_target(network: str) -> timedelta:
    return timedelta(minutes=DEFAULT_TARGET_MINUTES.get(network, FALLBACK_TARGET_MINUTES))


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """The targets in force: defaults per network, overridden per (brand id, network)."""

    overrides: Mapping[tuple[int, str], int] = field(default_factory=dict)

    def target(self, brand_id: int, network: str) -> timedelta:
        minutes = self.overrides.get((brand_id, network))
        return timedelta(minutes=minutes) if minutes is not None else default_target(network)

    def due_at(self, brand_id: int, network: str, created_at: datetime) -> datetime:
        return created_at + self.target(brand_id, network)

    def warn_at(self, brand_id: int, network: str, created_at: datetime,
                share: float = WARNING_SHARE) -> datetime:
        return created_at + self.target(brand_id, network) * share


def due_at(created_at: datetime, network: str, override_minutes: int | None) -> datetime:
    """When a mention breaches its SLA (calendar time)."""
    if override_minutes is not None:
        return created_at + timedelta(minutes=override_minutes)
    return created_at + default_target(network)


# --- business hours -------------------------------------------------------------------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_GROUP = re.compile(
    r"^\s*(?P<d1>[a-z]{3})(?:\s*-\s*(?P<d2>[a-z]{3}))?\s+"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*$"
)


class BusinessHoursError(ValueError):
    """The business-hours text does not follow "mon-fri 09:00-18:00; sat 10:00-14:00"."""


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Opening hours per weekday (0 = Monday) in one time zone.

    `elapsed` counts only open time between two instants (as Zendesk's business-hours metrics
    and Sprout Social's "Business Hours" reports do); `is_open` tells whether an instant is
    inside them. Closing at 24:00 is written 00:00."""

    zone: ZoneInfo
    hours: Mapping[int, tuple[tuple[time, time], ...]]
    text: str = ""

    @classmethod
    def parse(cls, text: str, zone: ZoneInfo) -> BusinessHours:
        hours: dict[int, list[tuple[time, time]]] = {}
        for group in re.split(r"[;,]", text.lower()):
            if not group.strip():
                continue
            m = _GROUP.match(group)
            if m is None or m["d1"] not in _DAYS or (m["d2"] and m["d2"] not in _DAYS):
                raise BusinessHoursError(
                    f"expected business hours like 'mon-fri 09:00-18:00; sat 10:00-14:00', "
                    f"not {group.strip()!r}")
            first = _DAYS.index(m["d1"])
            last = _DAYS.index(m["d2"]) if m["d2"] else first
            days = range(first, last + 1) if first <= last else [*range(first, 7),
                                                                  *range(last + 1)]
            try:
                start = time(int(m["h1"]), int(m["m1"]))
                end = time(int(m["h2"]), int(m["m2"]))
            except ValueError as exc:
                raise BusinessHoursError(f"bad time in {group.strip()!r}: {exc}") from None
            if end != time(0) and end <= start:
                raise BusinessHoursError(f"{group.strip()!r} closes before it opens")
            for d in days:
                hours.setdefault(d, []).append((start, end))
        if not hours:
            raise BusinessHoursError("no opening hours given")
        return cls(zone=zone, hours={d: tuple(sorted(v)) for d, v in hours.items()},
                   text=text.strip())

    def _intervals(self, start: datetime, end: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Open intervals (aware, UTC) that overlap [start, end)."""
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            for open_, close in self.hours.get(day.weekday(), ()):
                a = datetime.combine(day, open_, self.zone)
                b = (datetime.combine(day + timedelta(days=1), time(0), self.zone)
                     if close == time(0) else datetime.combine(day, close, self.zone))
                yield a.astimezone(UTC), b.astimezone(UTC)
            day += timedelta(days=1)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two instants (zero if `end` is not after `start`)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        for a, b in self._intervals(start, end):
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += hi - lo
        return total

    def is_open(self, at: datetime) -> bool:
        return any(a <= at < b for a, b in self._intervals(at, at + timedelta(seconds=1)))

    def open_hours(self, weekday: int) -> set[int]:
        """Local hours (0-23) of a weekday that are at least partly open."""
        out: set[int] = set()
        for open_, close in self.hours.get(weekday, ()):
            end = 24 if close == time(0) else close.hour + (1 if close.minute else 0)
            out.update(range(open_.hour, end))
        return out
