"""Business hours per channel: they change only how the digest reports the team's own response
times (SLA targets run in calendar time, as the customer counts)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

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
