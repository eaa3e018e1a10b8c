"""Lag in seconds from lookup tables, and Burrow's status rules, on hand-computed cases."""

from __future__ import annotations

import math

import pytest

from exporters.burrow import NO_COMMIT, OK, REWIND, STALL, STOP, WARN, StatusWindow, worst
from exporters.lag_table import LagTable


def table(*points: tuple[int, float], size: int = 60) -> LagTable:
    t = LagTable(size)
    for offset, at in points:
        t.add(offset, at)
    return t


# Offsets 100 -> 200 -> 400 logged at t=1000, 1010, 1030: 10 offsets/s, then 10 offsets/s again.
T = table((100, 1000.0), (200, 1010.0), (400, 1030.0))


def test_inside_the_table_interpolates_linearly() -> None:
    assert T.produced_at(150) == 1005.0
    assert T.lag_seconds(150, 400, now=1040.0) == 35.0
    assert T.produced_at(300) == 1020.0  # halfway between (200, 1010) and (400, 1030)
    assert T.lag_seconds(300, 400, now=1040.0) == 20.0
    assert T.produced_at(200) == 1010.0  # exactly on a point


def test_before_the_first_point_extrapolates_at_the_table_rate() -> None:
    # Rate over the table: 300 offsets in 30 s; offset 50 is 50 offsets (5 s) before the first point.
    assert T.produced_at(50) == 995.0
    assert T.lag_seconds(50, 400, now=1040.0) == 45.0


def test_past_the_last_point_extrapolates_and_never_goes_negative() -> None:
    # Offset 450 would be the log end at 1035; the log end is 500 by now (not yet in the table).
    assert T.produced_at(450) == 1035.0
    assert T.lag_seconds(450, 500, now=1040.0) == 5.0
    assert T.lag_seconds(450, 500, now=1030.0) == 0.0


def test_a_flat_table_keeps_the_first_time_and_cannot_estimate() -> None:
    flat = table((100, 1000.0), (100, 1010.0), (100, 1020.0))
    assert list(flat.points) == [(100, 1000.0)]  # no new produce: the offset's first time is kept
    assert flat.lag_seconds(100, 100, now=1030.0) == 0.0  # caught up: 0, not NaN
    assert math.isnan(flat.lag_seconds(90, 100, now=1030.0))  # too little history: NaN, never invented
    flat.add(150, 1020.0)  # produce resumes: 50 offsets in 20 s since the first time
    assert flat.lag_seconds(100, 150, now=1030.0) == 30.0


def test_a_single_point_gives_nan_unless_caught_up() -> None:
    single = table((100, 1000.0))
    assert math.isnan(single.produced_at(50))
    assert math.isnan(single.lag_seconds(50, 100, now=1010.0))
    assert single.lag_seconds(100, 100, now=1010.0) == 0.0
    assert single.lag_seconds(120, 100, now=1010.0) == 0.0  # committed ahead of a stale end: caught up


def test_the_table_is_bounded_and_restarts_when_offsets_go_back() -> None:
    bounded = table(*[(i * 10, float(i)) for i in range(10)], size=3)
    assert list(bounded.points) == [(70, 7.0), (80, 8.0), (90, 9.0)]
    bounded.add(5, 20.0)  # the topic was recreated
    assert list(bounded.points) == [(5, 20.0)]


def window(*entries: tuple[int, int]) -> StatusWindow:
    w = StatusWindow(size=5)
    for committed, lag in entries:
        w.add(committed, lag)
    return w


@pytest.mark.parametrize(
    ("entries", "members", "status"),
    [
        ([(10, 5), (20, 5), (30, 0)], True, OK),  # caught up within the window
        ([(10, 5), (20, 4), (30, 2)], True, OK),  # moving and gaining
        ([(10, 5), (20, 6), (30, 9)], True, WARN),  # moving but falling behind
        ([(10, 5), (20, 5), (30, 5)], True, WARN),  # moving at exactly the produce rate: lag never shrinks
        ([(10, 5), (10, 8), (10, 12)], True, STALL),  # members present, offset stuck, lag growing
        ([(10, 5), (10, 8), (10, 12)], False, STOP),  # no members: the consumer stopped
        ([(30, 5), (10, 25), (12, 23)], True, REWIND),  # the offset went back
        ([(10, 5)], True, OK),  # one observation: too little to judge
    ],
)
def test_burrow_status(entries: list[tuple[int, int]], members: bool, status: str) -> None:
    assert window(*entries).status(has_members=members) == status


def test_window_is_bounded_and_group_status_is_the_worst() -> None:
    w = window((30, 5), (10, 25), (11, 24), (12, 23), (13, 22), (14, 21))
    assert len(w.entries) == 5 and w.status(True) == OK  # the rewind has left the window
    assert worst([OK, WARN, NO_COMMIT]) == WARN
    assert worst([STALL, REWIND, OK]) == REWIND
    assert worst([]) == OK
