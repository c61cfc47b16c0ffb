"""Quiet hours of a route: local hours during which only urgent cards are posted.

Written like business hours but with overnight ranges allowed: "22:00-07:00" (every day),
"mon-fri 20:00-08:00; sat-sun 00:00-00:00" (00:00-00:00 is the whole day). A range that ends
at or before it starts runs into the next day. The hours are read in the route's time zone
(zoneinfo), so a daylight-saving change moves them with the clock on the wall.

During quiet hours the pipeline stores a non-urgent card as `held` with its `next_attempt_at`
at the end of the quiet period (bot.store.mentions); the relay turns the held cards of a
channel whose quiet period ended into one catch-up notice (bot.relay). docs/routing.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_GROUP = re.compile(
    r"^\s*(?:(?P<d1>[a-z]{3})(?:\s*-\s*(?P<d2>[a-z]{3}))?\s+)?"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*$"
)
# How far ahead the end of a quiet period is looked for (a week of quiet days and one more).
_HORIZON_DAYS = 8


class QuietHoursError(ValueError):
    """The text does not follow "22:00-07:00" or "mon-fri 20:00-08:00; sat-sun 00:00-00:00",
    or the time zone is unknown."""


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QuietHoursError(f"unknown time zone {name!r} (e.g. Europe/Berlin)") from None


@dataclass(frozen=True, slots=True)
class QuietHours:
    zone: ZoneInfo
    ranges: tuple[tuple[int, time, time], ...]  # (weekday 0 = Monday, start, end) local
    text: str = ""

    @classmethod
    def parse(cls, text: str, timezone: str) -> QuietHours:
        zone = zone_of(timezone)
        ranges: list[tuple[int, time, time]] = []
        for group in re.split(r"[;,]", text.lower()):
            if not group.strip():
                continue
            m = _GROUP.match(group)
            if m is None or (m["d1"] and m["d1"] not in _DAYS) or (
                    m["d2"] and m["d2"] not in _DAYS):
                raise QuietHoursError(
                    f"expected quiet hours like '22:00-07:00' or 'mon-fri 20:00-08:00; "
                    f"sat-sun 00:00-00:00', not {group.strip()!r}")
            first = _DAYS.index(m["d1"]) if m["d1"] else 0
            last = _DAYS.index(m["d2"]) if m["d2"] else (first if m["d1"] else 6)
            days = range(first, last + 1) if first <= last else [*range(first, 7),
                                                                  *range(last + 1)]
            try:
                start = time(int(m["h1"]), int(m["m1"]))
                end = time(int(m["h2"]), int(m["m2"]))
            except ValueError as exc:
                raise QuietHoursError(f"bad time in {group.strip()!r}: {exc}") from None
            ranges += [(d, start, end) for d in days]
        if not ranges:
            raise QuietHoursError("no quiet hours given")
        return cls(zone=zone, ranges=tuple(sorted(ranges)), text=text.strip())

    def _periods(self, at: datetime) -> list[tuple[datetime, datetime]]:
        """Quiet periods (UTC, adjacent ones merged) from the day before `at` on."""
        day = at.astimezone(self.zone).date() - timedelta(days=1)
        spans: list[tuple[datetime, datetime]] = []
        for k in range(_HORIZON_DAYS + 1):
            d = day + timedelta(days=k)
            for weekday, start, end in self.ranges:
                if weekday != d.weekday():
                    continue
                a = datetime.combine(d, start, self.zone)
                b = datetime.combine(d + timedelta(days=1) if end <= start else d, end, self.zone)
                spans.append((a.astimezone(UTC), b.astimezone(UTC)))
        spans.sort()
        merged: list[tuple[datetime, datetime]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged

    def quiet_until(self, at: datetime) -> datetime | None:
        """The end of the quiet period `at` falls in (UTC), or None when `at` is not quiet.
        A route quiet around the clock ends its period after the horizon (eight days)."""
        for a, b in self._periods(at):
            if a <= at < b:
                return b
        return None

    def is_quiet(self, at: datetime) -> bool:
        return self.quiet_until(at) is not None


def route_quiet(quiet_hours: str | None, quiet_timezone: str | None) -> QuietHours | None:
    """A route's stored quiet hours, or None. Stored values were checked when they were set;
    a zone that vanished from the system's tz database makes the route never quiet rather
    than stopping ingest."""
    if not quiet_hours:
        return None
    try:
        return QuietHours.parse(quiet_hours, quiet_timezone or "UTC")
    except QuietHoursError:
        return None


__all__ = ["QuietHours", "QuietHoursError", "route_quiet", "zone_of"]
