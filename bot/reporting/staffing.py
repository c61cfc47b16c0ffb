"""How many people each shift needs: Erlang C over tomorrow's expected arrivals.

Mentions are treated like calls in a queue (Poisson arrivals, one person works one mention at a
time for the measured handling time). The target is a share of mentions (e.g. 80 %) whose first
reply comes within the SLA; the wait that Erlang C counts ends when a person *starts* on the
mention, so the allowed wait is the SLA minus the handling time. Erlang C is our own
implementation (below; it replaced the pyworkforce dependency, see docs/digest.md); the tests
check it against the Call Centre Helper worked example, the textbook formula and a table of
pyworkforce 0.5.1's answers, which it reproduces row for row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
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


def _erlang_b(positions: int, traffic: float) -> float:
    # B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)): every step stays within [0, 1], so there are
    # no factorials or powers to overflow however many positions.
    blocked = 1.0
    for n in range(1, positions + 1):
        blocked = traffic * blocked / (n + traffic * blocked)
    return blocked


def _waiting(positions: int, traffic: float, blocked: float) -> float:
    # Erlang C from Erlang B (positions > traffic): C = N·B / (N - A·(1 - B)).
    return positions * blocked / (positions - traffic * (1 - blocked))


def _served(positions: int, traffic: float, blocked: float, wait_per_handling: float) -> float:
    waiting = _waiting(positions, traffic, blocked)
    return 1 - waiting * math.exp(-(positions - traffic) * wait_per_handling)


def waiting_probability(positions: int, traffic: float) -> float:
    """Erlang C: the probability that an arrival has to wait when `traffic` Erlangs (arrivals
    per minute × handling minutes) meet `positions` people; 1.0 when they cannot keep up."""
    if positions <= traffic:
        return 1.0
    return _waiting(positions, traffic, _erlang_b(positions, traffic))


def service_level(positions: int, traffic: float, *, handling_minutes: float,
                  wait_minutes: float) -> float:
    """Share of arrivals that someone starts on within `wait_minutes`; 0.0 when `positions`
    cannot keep up with `traffic` (the queue grows without end)."""
    if positions <= traffic:
        return 0.0
    return _served(positions, traffic, _erlang_b(positions, traffic),
                   wait_minutes / handling_minutes)


def people_needed(arrivals_per_hour: float, *, handling_minutes: float, wait_minutes: float,
                  target_share: float, max_occupancy: float = MAX_OCCUPANCY) -> int:
    """People needed in one hour so that `target_share` of arrivals wait at most
    `wait_minutes` before someone starts on them (Erlang C), each busy at most `max_occupancy`
    of the hour.

    The same answer as pyworkforce 0.5.1's `required_positions()["raw_positions"]`, which the
    digest used before: the search starts at the traffic + 1, rounded (half to even), so the
    answer is never below that even where one person fewer would meet the target; a wait
    under 0.01 minutes counts as 0.01."""
    if arrivals_per_hour <= 0:
        return 0
    if handling_minutes <= 0:
        raise ValueError("handling_minutes must be positive")
    if not 0 <= target_share <= 1:
        raise ValueError("target_share must be between 0 and 1")
    if not 0 < max_occupancy <= 1:
        raise ValueError("max_occupancy must be above 0 and at most 1")
    traffic = arrivals_per_hour / 60 * handling_minutes
    wait_per_handling = max(wait_minutes, 0.01) / handling_minutes
    positions = round(traffic + 1)  # > traffic, so the queue keeps up
    blocked = _erlang_b(positions, traffic)
    while _served(positions, traffic, blocked, wait_per_handling) < target_share:
        positions += 1
        blocked = traffic * blocked / (positions + traffic * blocked)
    if traffic / positions > max_occupancy * (1 + 1e-12):
        # The fewest people within the cap; the tolerance keeps a quotient such as
        # 25.000000000000004 (floating point) from asking for a 26th person.
        positions = math.ceil(traffic / max_occupancy * (1 - 1e-12))
    return positions


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
