"""Erlang C staffing against the published worked example, and the shift plan."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.staffing import _erlang_c, forecast, people_needed, plan


def erlang_c_reference(agents: int, traffic: float) -> float:
    """Probability of waiting, straight from the textbook formula (test oracle)."""
    top = traffic ** agents / math.factorial(agents) * agents / (agents - traffic)
    bottom = sum(traffic ** k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


def test_call_centre_helper_worked_example() -> None:
    # 100 calls in 30 minutes, 3 minutes handling, 80 % answered within 20 seconds: the
    # published answer is 14 agents (service level 88.8 %, 17.4 % of calls wait, 71.4 %
    # occupancy) and, with 30 % shrinkage, 20 people on the rota.
    erlang = _erlang_c()(transactions=100, aht=3, asa=20 / 60, interval=30, shrinkage=0.3)
    result = erlang.required_positions(service_level=0.8, max_occupancy=0.85)
    assert result["raw_positions"] == 14
    assert result["positions"] == 20
    assert round(result["service_level"], 3) == 0.888
    assert round(result["waiting_probability"], 3) == 0.174
    assert round(result["occupancy"], 3) == 0.714
    assert result["waiting_probability"] == pytest.approx(erlang_c_reference(14, 10.0))
    # Our hourly wrapper: the same load (200 an hour) needs the same 14 people.
    assert people_needed(200, handling_minutes=3, wait_minutes=20 / 60, target_share=0.8) == 14


def test_service_level_matches_the_textbook_formula() -> None:
    erlang = _erlang_c()(transactions=100, aht=3, asa=20 / 60, interval=30)
    for agents in (11, 12, 13, 14):
        pw = erlang_c_reference(agents, 10.0)
        expected = 1 - pw * math.exp(-(agents - 10.0) * (20 / 60) / 3)
        assert erlang.service_level(agents) == pytest.approx(expected)


def test_quiet_hours_need_nobody_and_busy_ones_more() -> None:
    assert people_needed(0, handling_minutes=5, wait_minutes=55, target_share=0.8) == 0
    few = people_needed(4, handling_minutes=5, wait_minutes=55, target_share=0.8)
    many = people_needed(60, handling_minutes=5, wait_minutes=55, target_share=0.8)
    assert few == 1 and many > few


def test_forecast_averages_the_same_weekday_in_local_hours() -> None:
    zone = ZoneInfo("Europe/Berlin")
    days = [date(2026, 11, 13), date(2026, 11, 6)]
    arrivals = [datetime(2026, 11, 13, 8, 30, tzinfo=UTC)] * 4 + \
               [datetime(2026, 11, 6, 8, 5, tzinfo=UTC)] * 2 + \
               [datetime(2026, 11, 7, 8, 5, tzinfo=UTC)] * 9  # another weekday: ignored
    expected = forecast(arrivals, zone=zone, weekday_dates=days)
    assert expected[9] == 3.0 and sum(expected) == 3.0


def test_the_plan_takes_each_shift_busiest_hour() -> None:
    by_hour = [0.0] * 24
    by_hour[10] = 40.0
    by_hour[15] = 5.0
    p = plan(day=date(2026, 11, 21), expected_by_hour=by_hour, weeks=4, handling_minutes=None,
             sla_minutes=60)
    early, late, night = p.shifts
    assert not p.handling_measured and p.handling_minutes == 5.0
    assert early.peak_per_hour == 40.0 and early.people > late.people >= 1
    assert night.people == 0 and p.reachable
    assert not plan(day=date(2026, 11, 21), expected_by_hour=by_hour, weeks=1,
                    handling_minutes=90, sla_minutes=60).reachable
