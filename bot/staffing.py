"""How many people each shift needs: Erlang C over tomorrow's expected arrivals.

Mentions are treated like calls in a queue (Poisson arrivals, one person works one mention at a
time for the measured handling time). The target is a share of mentions (e.g. 80 %) whose first
reply comes within the SLA; the wait that Erlang C counts ends when a person *starts* on the
mention, so the allowed wait is the SLA minus the handling time. The formula comes from
pyworkforce (a maintained library, see docs/digest.md), whose `ErlangC` is tested here against
the Call Centre Helper worked example.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

# Shifts in local hours [start, end); a shift needs as many people as its busiest hour.
SHIFTS: tuple[tuple[str, int, int], ...] = (("early", 6, 14), ("late", 14, 22), ("night", 22, 6))
DEFAULT_HANDLING_MINUTES = 5.0
MAX_OCCUPANCY = 0.85


@dataclass(frozen=True, slots=True)
class ShiftNeed:
    name: str
    start_hour: int
    end_hour: int
    peak_per_hour: float  # expected mentions in the busiest hour of the shift
    people: int


@dataclass(frozen=True, slots=True)
class Staffing:
    """Tomorrow's forecast and the people each shift needs."""

    day: date
    weeks: int  # how many earlier same weekdays the forecast averages
    expected_by_hour: tuple[float, ...]  # 24 local hours
    handling_minutes: float
    handling_measured: bool  # False: no claim->reply pairs yet, the default was assumed
    target_share: float
    answer_within_minutes: float
    shifts: tuple[ShiftNeed, ...]
    reachable: bool  # False when handling alone takes longer than the SLA


@cache
def _erlang_c() -> Any:
    # pyworkforce pulls in pandas and OR-Tools at import (~0.7 s): load it on first use only.
    from pyworkforce.queuing import ErlangC

    return ErlangC


def people_needed(arrivals_per_hour: float, *, handling_minutes: float, wait_minutes: float,
                  target_share: float, max_occupancy: float = MAX_OCCUPANCY) -> int:
    """People needed in one hour so that `target_share` of arrivals wait at most
    `wait_minutes` before someone starts on them (Erlang C)."""
    if arrivals_per_hour <= 0:
        return 0
    erlang = _erlang_c()(transactions=arrivals_per_hour, aht=handling_minutes,
                         asa=max(wait_minutes, 0.01), interval=60)
    result = erlang.required_positions(service_level=target_share, max_occupancy=max_occupancy)
    return int(result["raw_positions"])


def forecast(arrivals: Sequence[datetime], *, zone: ZoneInfo, weekday_dates: Sequence[date],
             ) -> tuple[float, ...]:
    """Mean mentions per local hour over the given earlier dates (same weekday as tomorrow)."""
    counts = [0] * 24
    wanted = set(weekday_dates)
    for at in arrivals:
        local = at.astimezone(zone)
        if local.date() in wanted:
            counts[local.hour] += 1
    n = max(len(wanted), 1)
    return tuple(c / n for c in counts)


def plan(*, day: date, expected_by_hour: Sequence[float], weeks: int,
         handling_minutes: float | None, sla_minutes: float,
         target_share: float = 0.8) -> Staffing:
    measured = handling_minutes is not None and handling_minutes > 0
    aht = handling_minutes if measured and handling_minutes else DEFAULT_HANDLING_MINUTES
    wait = sla_minutes - aht
    needs = []
    for name, start, end in SHIFTS:
        hours = list(range(start, end)) if start < end else [*range(start, 24), *range(end)]
        peak = max(expected_by_hour[h] for h in hours)
        people = max(people_needed(expected_by_hour[h], handling_minutes=aht, wait_minutes=wait,
                                   target_share=target_share) for h in hours)
        needs.append(ShiftNeed(name, start, end, peak, people))
    return Staffing(day=day, weeks=weeks, expected_by_hour=tuple(expected_by_hour),
                    handling_minutes=aht, handling_measured=measured, target_share=target_share,
                    answer_within_minutes=sla_minutes, shifts=tuple(needs), reachable=wait > 0)
