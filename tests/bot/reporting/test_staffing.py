"""Erlang C staffing against the published worked example, the textbook formula and the
answers of pyworkforce (which the digest used before), and the shift plan."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.reporting.staffing import forecast, people_needed, plan, service_level, waiting_probability


def erlang_c_reference(agents: int, traffic: float) -> float:
    """Probability of waiting, straight from the textbook formula (test oracle)."""
    top = traffic ** agents / math.factorial(agents) * agents / (agents - traffic)
    bottom = sum(traffic ** k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


def erlang_c_log_reference(agents: int, traffic: float) -> float:
    """The same textbook formula in logarithms (lgamma), for sizes where the plain one
    overflows (test oracle)."""
    logs = [k * math.log(traffic) - math.lgamma(k + 1) for k in range(agents)]
    top = (agents * math.log(traffic) - math.lgamma(agents + 1)
           + math.log(agents / (agents - traffic)))
    peak = max(*logs, top)
    bottom = sum(math.exp(x - peak) for x in logs) + math.exp(top - peak)
    return math.exp(top - peak) / bottom


def test_call_centre_helper_worked_example() -> None:
    # 100 calls in 30 minutes, 3 minutes handling, 80 % answered within 20 seconds: the
    # published answer is 14 agents (service level 88.8 %, 17.4 % of calls wait, 71.4 %
    # occupancy) and, with 30 % shrinkage, 20 people on the rota. The same load is 200 an
    # hour, 10 Erlangs.
    traffic = 200 / 60 * 3
    assert traffic == 10.0
    people = people_needed(200, handling_minutes=3, wait_minutes=20 / 60, target_share=0.8)
    assert people == 14
    assert math.ceil(people / (1 - 0.3)) == 20
    assert round(service_level(14, traffic, handling_minutes=3, wait_minutes=20 / 60), 3) == 0.888
    assert round(waiting_probability(14, traffic), 3) == 0.174
    assert round(traffic / people, 3) == 0.714
    assert waiting_probability(14, traffic) == pytest.approx(erlang_c_reference(14, 10.0))
    # 13 agents reach only 79.6 %.
    assert service_level(13, traffic, handling_minutes=3, wait_minutes=20 / 60) < 0.8


def test_service_level_matches_the_textbook_formula() -> None:
    for agents in (11, 12, 13, 14):
        pw = erlang_c_reference(agents, 10.0)
        expected = 1 - pw * math.exp(-(agents - 10.0) * (20 / 60) / 3)
        got = service_level(agents, 10.0, handling_minutes=3, wait_minutes=20 / 60)
        assert got == pytest.approx(expected)
    for traffic in (0.05, 0.8, 2.5, 10.0, 47.5):
        for agents in range(math.floor(traffic) + 1, math.floor(traffic) + 40):
            assert waiting_probability(agents, traffic) == pytest.approx(
                erlang_c_reference(agents, traffic), rel=1e-9)
            assert waiting_probability(agents, traffic) == pytest.approx(
                erlang_c_log_reference(agents, traffic), rel=1e-9)
    # A queue that cannot keep up: everyone waits, nobody is served in time.
    assert waiting_probability(10, 10.0) == 1.0
    assert service_level(9, 10.0, handling_minutes=3, wait_minutes=1) == 0.0


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


# (arrivals per hour, handling minutes, wait minutes, target share, max occupancy) -> people.
# Produced by pyworkforce 0.5.1 (`ErlangC(transactions=arrivals, aht=handling,
# asa=max(wait, 0.01), interval=60).required_positions(target, max_occupancy)["raw_positions"]`,
# what `people_needed` returned) before the dependency was removed: the digest's default (5
# minutes handling, 60-minute SLA) over hourly means, the worked example's 3 minutes and 20
# seconds, and seeded random loads up to 2,000 an hour with waits from below zero (an SLA
# under the handling time; counted as 0.01) to a day. They cover each rule that can decide:
# the service level, the occupancy cap and pyworkforce's starting point of the traffic + 1,
# rounded.
PYWORKFORCE_0_5_1 = [
    (0.25, 5.0, 55.0, 0.8, 0.85, 1), (0.5, 5.0, 55.0, 0.8, 0.85, 1),
    (0.75, 5.0, 55.0, 0.8, 0.85, 1), (1.0, 5.0, 55.0, 0.8, 0.85, 1),
    (1.25, 5.0, 55.0, 0.8, 0.85, 1), (1.5, 5.0, 55.0, 0.8, 0.85, 1),
    (2.0, 5.0, 55.0, 0.8, 0.85, 1), (2.5, 5.0, 55.0, 0.8, 0.85, 1),
    (3.0, 5.0, 55.0, 0.8, 0.85, 1), (4.0, 5.0, 55.0, 0.8, 0.85, 1),
    (5.0, 5.0, 55.0, 0.8, 0.85, 1), (6.0, 5.0, 55.0, 0.8, 0.85, 2),
    (7.5, 5.0, 55.0, 0.8, 0.85, 2), (8.0, 5.0, 55.0, 0.8, 0.85, 2),
    (10.0, 5.0, 55.0, 0.8, 0.85, 2), (10.25, 5.0, 55.0, 0.8, 0.85, 2),
    (12.0, 5.0, 55.0, 0.8, 0.85, 2), (15.0, 5.0, 55.0, 0.8, 0.85, 2),
    (17.0, 5.0, 55.0, 0.8, 0.85, 2), (20.0, 5.0, 55.0, 0.8, 0.85, 3),
    (25.0, 5.0, 55.0, 0.8, 0.85, 3), (30.0, 5.0, 55.0, 0.8, 0.85, 4),
    (40.0, 5.0, 55.0, 0.8, 0.85, 4), (50.0, 5.0, 55.0, 0.8, 0.85, 5),
    (60.0, 5.0, 55.0, 0.8, 0.85, 6), (75.0, 5.0, 55.0, 0.8, 0.85, 8),
    (100.0, 5.0, 55.0, 0.8, 0.85, 10), (150.0, 5.0, 55.0, 0.8, 0.85, 15),
    (20.0, 3.0, 0.33, 0.8, 0.85, 3), (100.0, 3.0, 0.33, 0.8, 0.85, 8),
    (200.0, 3.0, 0.33, 0.8, 0.85, 14), (350.0, 3.0, 0.33, 0.8, 0.85, 22),
    (800.0, 3.0, 0.33, 0.8, 0.85, 48), (17.75, 9.63, 110.37, 0.7, 1.0, 4),
    (0.25, 2.7, 57.3, 0.9, 0.85, 1), (37.75, 9.8, 5.2, 0.9, 0.9, 9),
    (1.0, 29.48, -24.48, 0.95, 0.85, 3), (0.5, 11.0, 109.0, 0.9, 0.7, 1),
    (0.25, 0.66, 29.34, 0.5, 1.0, 1), (1239.0, 0.83, 239.17, 0.7, 0.9, 20),
    (692.75, 6.16, -1.16, 0.95, 0.85, 87), (23.75, 0.73, 239.27, 0.95, 1.0, 1),
    (18.25, 2.82, 2.18, 0.5, 0.85, 2), (1616.25, 9.9, 110.1, 0.8, 1.0, 268),
    (106.5, 0.83, 29.17, 0.8, 0.9, 2), (7.0, 6.59, 8.41, 0.5, 1.0, 2),
    (406.0, 3.46, 1.54, 0.7, 1.0, 26), (0.25, 1.25, 8.75, 0.95, 0.85, 1),
    (1.25, 11.45, -6.45, 0.9, 0.9, 2), (22.0, 7.51, -2.51, 0.95, 1.0, 7),
    (6.75, 2.31, 1437.69, 0.9, 1.0, 1), (2.25, 42.74, 1397.26, 0.95, 0.9, 3),
    (1.25, 15.73, 14.27, 0.95, 0.7, 2), (1250.0, 30.76, 89.24, 0.7, 0.85, 754),
    (316.75, 4.77, 25.23, 0.95, 0.7, 36), (1729.25, 44.7, -29.7, 0.5, 0.9, 1432),
    (692.25, 10.13, 49.87, 0.5, 0.85, 138), (287.5, 4.79, 1435.21, 0.8, 0.9, 26),
    (117.5, 3.7, 11.3, 0.9, 0.9, 9), (64.0, 0.61, 119.39, 0.95, 1.0, 2),
    (140.75, 1.31, 58.69, 0.95, 0.9, 4), (0.25, 0.51, 4.49, 0.7, 0.9, 1),
    (11.0, 1.48, 238.52, 0.9, 0.7, 1), (38.25, 8.31, 51.69, 0.5, 1.0, 6),
    (12.0, 0.76, 239.24, 0.7, 0.9, 1), (1671.25, 8.83, 231.17, 0.95, 0.85, 290),
    (0.25, 12.21, -7.21, 0.5, 0.7, 1), (894.75, 5.55, 234.45, 0.5, 0.9, 92),
    (1.25, 1.69, 1438.31, 0.95, 0.7, 1), (1.75, 7.41, 232.59, 0.95, 0.85, 1),
    (0.5, 2.48, 7.52, 0.8, 0.85, 1), (119.5, 12.81, 47.19, 0.7, 1.0, 27),
    (6.75, 0.57, 1439.43, 0.95, 1.0, 1), (19.5, 0.65, 119.35, 0.9, 0.85, 1),
    (707.0, 0.77, 29.23, 0.5, 0.9, 11), (6.75, 22.79, 217.21, 0.8, 0.85, 4),
    (26.0, 0.97, 119.03, 0.7, 1.0, 1), (8.25, 4.76, 25.24, 0.9, 1.0, 2),
    (290.75, 0.62, 29.38, 0.9, 1.0, 4), (27.0, 3.62, 1.38, 0.5, 0.9, 3),
    (5.75, 13.49, 106.51, 0.9, 0.9, 2), (73.5, 1.08, 1438.92, 0.7, 0.85, 2),
    (2.5, 0.61, 119.39, 0.8, 1.0, 1), (1126.5, 7.4, 232.6, 0.95, 0.9, 155),
    (1.0, 1.61, 3.39, 0.95, 1.0, 1), (10.25, 8.06, 51.94, 0.8, 1.0, 2),
    (250.0, 4.59, 235.41, 0.7, 0.85, 23), (299.75, 21.49, -11.49, 0.8, 0.7, 154),
    (612.75, 9.44, 110.56, 0.8, 0.85, 114), (563.0, 2.03, 27.97, 0.5, 0.9, 22),
    (0.25, 19.16, 10.84, 0.7, 0.85, 1), (155.5, 1.9, 28.1, 0.7, 0.9, 6),
    (33.75, 0.55, 9.45, 0.8, 1.0, 1), (31.0, 3.76, 1.24, 0.7, 1.0, 3),
    (23.5, 8.73, 1431.27, 0.8, 1.0, 4), (533.0, 27.77, -22.77, 0.8, 0.7, 353),
    (1018.0, 4.57, 115.43, 0.5, 1.0, 79), (34.75, 38.04, 81.96, 0.5, 0.85, 26),
    (5.75, 1.42, 238.58, 0.5, 0.7, 1), (461.75, 33.29, -28.29, 0.5, 0.7, 366),
    (51.75, 7.02, 1432.98, 0.7, 1.0, 7), (224.75, 3.36, 116.64, 0.7, 1.0, 14),
    (0.5, 7.67, -2.67, 0.8, 0.85, 1), (3.75, 31.9, -16.9, 0.8, 0.7, 4),
    (1.5, 0.87, 239.13, 0.8, 1.0, 1), (225.75, 2.31, 237.69, 0.9, 0.9, 10),
    (1.5, 8.3, 111.7, 0.5, 0.85, 1), (5.25, 1.66, 13.34, 0.95, 1.0, 1),
    (202.0, 1.55, 238.45, 0.5, 0.7, 8), (188.25, 8.59, 6.41, 0.8, 0.85, 32),
    (53.0, 6.71, 233.29, 0.8, 0.9, 7), (7.25, 29.58, 90.42, 0.95, 1.0, 5),
    (0.5, 8.31, 21.69, 0.8, 0.9, 1), (63.5, 23.79, -8.79, 0.8, 0.9, 31),
    (5.0, 9.64, 230.36, 0.5, 0.9, 2), (84.25, 0.7, 9.3, 0.8, 0.85, 2),
    (362.0, 42.93, 17.07, 0.7, 1.0, 262), (2.0, 0.68, 29.32, 0.7, 0.85, 1),
    (25.75, 0.87, 0.73, 0.9, 0.95, 2), (78.0, 33.89, 20.54, 0.9, 0.95, 47),
    (25.75, 29.08, 8.22, 0.95, 1.0, 17), (101.0, 9.85, 4.61, 0.8, 0.9, 19),
    (5.75, 27.47, 14.41, 0.8, 1.0, 4), (12.5, 21.58, 17.77, 0.7, 0.95, 6),
    (63.0, 21.03, -0.41, 0.5, 0.95, 25), (21.75, 1.29, 0.93, 0.8, 0.85, 2),
    (1338.5, 0.96, 0.49, 0.95, 0.95, 26), (1329.0, 5.39, 6.23, 0.7, 0.9, 133),
    (490.25, 5.98, 1.9, 0.95, 1.0, 55), (9.5, 8.04, 11.6, 0.95, 0.85, 3),
    (68.25, 0.55, 0.28, 0.9, 0.85, 2), (8.0, 31.44, 25.11, 0.95, 1.0, 7),
    (130.25, 22.61, 12.75, 0.7, 0.85, 58), (37.25, 0.69, 1.02, 0.7, 0.95, 1),
    (57.5, 18.26, 13.49, 0.5, 0.95, 19), (246.0, 2.56, 1.16, 0.5, 0.85, 13),
    (10.0, 18.94, 16.37, 0.7, 0.9, 4), (14.5, 20.62, 30.2, 0.7, 1.0, 6),
    (5.5, 0.96, 0.78, 0.8, 0.9, 1), (696.5, 14.67, 8.68, 0.9, 0.9, 190),
    (13.75, 0.55, 0.26, 0.5, 1.0, 1), (46.5, 2.48, 2.0, 0.95, 0.85, 4),
    (30.0, 25.3, 3.11, 0.5, 0.95, 15), (21.0, 5.82, 7.65, 0.5, 0.85, 3),
    (192.75, 14.16, 21.2, 0.5, 1.0, 46), (18.5, 2.69, -0.05, 0.8, 1.0, 3),
    (1108.0, 24.0, 29.32, 0.9, 1.0, 445), (1074.25, 33.18, 32.44, 0.9, 1.0, 597),
    (344.25, 42.04, 35.51, 0.7, 1.0, 243), (367.5, 42.21, 9.4, 0.9, 0.9, 288),
    (14.25, 8.29, 5.4, 0.9, 0.85, 4), (67.25, 2.91, 0.5, 0.95, 0.9, 7),
    (245.75, 0.96, 1.01, 0.95, 0.9, 6), (6.5, 4.18, 4.54, 0.7, 0.9, 1),
    (1190.75, 23.7, 20.72, 0.95, 0.9, 523), (12.25, 40.72, 47.61, 0.7, 0.95, 10),
    (110.5, 7.26, 2.18, 0.9, 0.9, 17), (133.75, 30.81, 17.94, 0.5, 1.0, 70),
    (729.0, 0.88, 0.8, 0.95, 0.9, 13), (280.5, 10.3, -0.89, 0.95, 0.9, 61),
    (56.0, 6.16, 3.71, 0.95, 0.85, 9), (106.5, 17.74, 20.76, 0.9, 0.85, 38),
    (777.25, 40.71, 5.76, 0.5, 0.85, 621), (24.5, 27.33, 10.59, 0.8, 0.85, 14),
    (1214.25, 6.95, 5.92, 0.5, 1.0, 142), (695.5, 16.97, 24.09, 0.8, 0.85, 232),
    (9.5, 1.71, 2.25, 0.8, 1.0, 1), (87.0, 0.51, 0.28, 0.7, 0.9, 2),
    (69.0, 4.72, 6.21, 0.9, 0.85, 7), (8.75, 27.24, 23.77, 0.7, 1.0, 5),
    (32.5, 1.91, -0.05, 0.7, 0.95, 3), (96.25, 6.23, 8.57, 0.5, 1.0, 11),
    (11.0, 8.25, -0.75, 0.9, 0.95, 4), (42.0, 2.02, -0.14, 0.8, 1.0, 4),
    (20.5, 1.2, 0.14, 0.95, 0.85, 3), (417.25, 1.39, -0.02, 0.7, 0.85, 13),
    (574.25, 5.56, 2.72, 0.7, 1.0, 56), (208.5, 0.75, 1.03, 0.95, 0.95, 5),
    (764.0, 1.15, 1.21, 0.8, 1.0, 16), (9.25, 13.89, 8.5, 0.5, 0.85, 3),
    (6.0, 0.65, 0.73, 0.5, 0.95, 1), (13.5, 3.34, 4.28, 0.8, 0.85, 2),
    (6.5, 41.69, 61.52, 0.5, 1.0, 6), (1056.75, 38.23, 35.83, 0.9, 1.0, 676),
    (830.0, 6.75, 3.7, 0.7, 0.85, 110), (1397.75, 16.2, 2.82, 0.7, 1.0, 383),
    (27.0, 7.26, 1.68, 0.7, 0.85, 5), (14.0, 6.2, 8.03, 0.95, 1.0, 3),
    (265.5, 1.04, 1.4, 0.95, 1.0, 7), (33.75, 1.08, 1.59, 0.5, 0.85, 2),
    (944.5, 1.52, 2.18, 0.9, 0.95, 26), (75.25, 8.4, 4.99, 0.5, 0.85, 13),
    (10.5, 9.82, 7.44, 0.95, 0.85, 4), (12.0, 1.21, -0.07, 0.5, 1.0, 1),
    (50.0, 8.23, 7.25, 0.9, 0.85, 9), (14.25, 0.65, 0.04, 0.95, 0.95, 2),
    (48.0, 1.16, 0.27, 0.7, 0.85, 2), (1268.75, 1.27, 1.1, 0.7, 0.9, 30),
    (213.25, 5.7, 6.49, 0.7, 1.0, 22), (573.0, 16.05, 1.53, 0.9, 1.0, 165),
]


def test_reproduces_pyworkforce_row_for_row() -> None:
    assert len(PYWORKFORCE_0_5_1) == 200
    wrong = [(row, got) for *row, expected in PYWORKFORCE_0_5_1
             if (got := people_needed(row[0], handling_minutes=row[1], wait_minutes=row[2],
                                      target_share=row[3], max_occupancy=row[4])) != expected]
    assert wrong == []


@settings(max_examples=300, deadline=None)
# Found by this property: traffic / cap was 25.000000000000004 in floating point (26 asked).
@example(arrivals=1500.0, more=0.0, handling=0.7777071073520627, wait=1.0, target=0.5,
         max_occupancy=0.7777071073520627)
@given(arrivals=st.floats(0.01, 3000), more=st.floats(0, 500), handling=st.floats(0.5, 60),
       wait=st.floats(0.01, 240), target=st.floats(0.05, 0.99), max_occupancy=st.floats(0.3, 1))
def test_staffing_is_the_fewest_people_that_meet_the_target(
        arrivals: float, more: float, handling: float, wait: float, target: float,
        max_occupancy: float) -> None:
    def need(per_hour: float) -> int:
        return people_needed(per_hour, handling_minutes=handling, wait_minutes=wait,
                             target_share=target, max_occupancy=max_occupancy)

    def meets(people: int) -> bool:
        return (service_level(people, traffic, handling_minutes=handling, wait_minutes=wait)
                >= target and traffic / people <= max_occupancy * (1 + 1e-12))

    people = need(arrivals)
    traffic = arrivals / 60 * handling
    assert need(arrivals + more) >= people
    assert meets(people)
    # One fewer misses the service level or the occupancy cap, unless it is below the
    # starting point (traffic + 1, rounded) that people_needed keeps from pyworkforce.
    if people > round(traffic + 1):
        assert not meets(people - 1)


@pytest.mark.parametrize(("arrivals", "handling", "wait", "target", "max_occupancy", "people"), [
    # pyworkforce 0.5.1's answers, as in PYWORKFORCE_0_5_1.
    (50_000, 5, 55, 0.8, 0.85, 4902),  # the occupancy cap decides
    (50_000, 3, 0.33, 0.8, 1.0, 2512),
    (50_000, 3, 0.33, 0.95, 0.99, 2526),
    (50_000, 12.5, 0.0, 0.9, 1.0, 10557),
    (250_000, 4, 0.5, 0.8, 1.0, 16679),
])
def test_huge_loads_do_not_overflow(arrivals: float, handling: float, wait: float, target: float,
                                    max_occupancy: float, people: int) -> None:
    got = people_needed(arrivals, handling_minutes=handling, wait_minutes=wait,
                        target_share=target, max_occupancy=max_occupancy)
    assert got == people
    traffic = arrivals / 60 * handling
    with pytest.raises(OverflowError):  # what the factorials would do here
        erlang_c_reference(people, traffic)
    assert waiting_probability(people, traffic) == pytest.approx(
        erlang_c_log_reference(people, traffic), rel=1e-9)
    assert service_level(people, traffic, handling_minutes=handling,
                         wait_minutes=max(wait, 0.01)) >= target
