"""Lag in seconds from lookup tables, Burrow's status rules and the lag aggregates, on hand-computed cases,
and the lookup table's bound against a simulated true lag, by property."""

from __future__ import annotations

import bisect
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.model.kafka import KafkaSource
from exporters import names as m
from exporters.burrow import NO_COMMIT, OK, REWIND, STALL, STOP, WARN, StatusWindow, worst
from exporters.kafka_lag import KafkaCollector, PartitionLag, Snapshot
from exporters.lag_table import LagTable
from exporters.metric_set import MetricSet


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


def test_a_flat_table_keeps_the_first_and_last_time_and_cannot_estimate() -> None:
    flat = table((100, 1000.0), (100, 1010.0), (100, 1020.0))
    # No new produce: the run of polls is kept as its two ends, when 100 was first and last the log end.
    assert list(flat.points) == [(100, 1000.0), (100, 1020.0)]
    assert flat.lag_seconds(100, 100, now=1030.0) == 0.0  # caught up: 0, not NaN
    assert math.isnan(flat.lag_seconds(90, 100, now=1030.0))  # no rate known: NaN, never invented
    flat.add(150, 1030.0)  # produce resumes: message 100 was produced in (1020, 1030]
    # Offset 100 sits on the flat run's LAST point: produced at 1020, so 10 s behind at t=1030 (the first
    # time, 1000, would say 30 s: the whole idle stretch counted as lag).
    assert flat.lag_seconds(100, 150, now=1030.0) == 10.0
    # 125 is halfway from (100, 1020) to (150, 1030): produced at 1025, 5 s behind.
    assert flat.lag_seconds(125, 150, now=1030.0) == 5.0


def test_a_long_producer_pause_is_not_counted_as_lag() -> None:
    """The reviewer's case: a consumer about 60 s behind after a ten-hour pause must not read ~18,120 s.

    Producer: 1 message/s until t=0 (log end 600), then nothing for 36,120 s (10 h 2 min), then 1
    message/s again from t=36,120: message 600 + j is produced at 36,120 + j. Polls every 120 s. The
    consumer has committed 660, whose message was produced at 36,180; at the poll at t=36,240 (log end
    720) it is 36,240 - 36,180 = 60 s behind.
    Keeping only the first time 600 was seen, the table is (600, 0) then (720, 36,240), and 660 sits
    halfway: 0 + 60 * 36,240 / 120 = 18,120, so lag = 36,240 - 18,120 = 18,120 s (what was reported).
    Keeping the last time too, 660 is interpolated on (600, 36,120)-(720, 36,240): 36,180, lag 60 s.
    """
    pause = table((360, -240.0), (480, -120.0))
    for t in range(0, 36_121, 120):  # 302 polls that all see 600
        pause.add(600, float(t))
    pause.add(720, 36_240.0)
    assert pause.lag_seconds(660, 720, now=36_240.0) == 60.0
    assert len(pause.points) == 5  # the 302 flat polls are two points, however long the pause
    # At the flat run's offset: message 600 was produced at 36,120 (the last time 600 was the log end).
    assert pause.lag_seconds(600, 720, now=36_240.0) == 120.0
    # Below the flat run, interpolation uses the FIRST time 600 was reached: 540 is halfway between
    # (480, -120) and (600, 0), produced at -60, so 36,300 s behind, which is the truth for that offset.
    assert pause.lag_seconds(540, 720, now=36_240.0) == 36_300.0


def test_polls_out_of_time_order_are_ignored() -> None:
    t = table((100, 1000.0), (200, 1010.0))
    t.add(300, 1010.0)  # same instant as the last point: no rate can be read from it
    t.add(300, 1005.0)  # the clock went back
    assert list(t.points) == [(100, 1000.0), (200, 1010.0)]


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


# --- aggregates and snapshots (no broker) ---------------------------------------------------------


def offline_collector() -> KafkaCollector:
    """A collector that never connects: only its `build` is used."""
    return KafkaCollector(KafkaSource(name="prod", service="kafka-prod", bootstrap="127.0.0.1:9"))


def at(group: str, topic: str, partition: int) -> dict[str, str]:
    return {"cluster": "prod", "group": group, "topic": topic, "partition": str(partition)}


def lag_row(partition: int, lag: int, seconds: float, topic: str = "orders") -> PartitionLag:
    return PartitionLag("etl", topic, partition, 100, 100 + lag, lag, seconds, "OK")


@pytest.mark.parametrize("nan_first", [True, False])
def test_topic_and_group_maxima_ignore_partitions_without_history(nan_first: bool) -> None:
    """One partition without history (NaN seconds) must not hide another's 240 s of lag: the maxima are
    over the finite values, and NaN only when no partition has one (topic "audit")."""
    rows = [lag_row(0, 5, math.nan), lag_row(1, 7, 240.0)]
    rows = rows if nan_first else rows[::-1]
    rows += [lag_row(0, 3, math.nan, topic="audit")]
    out = MetricSet()
    offline_collector().build(out, rows, per_partition=True)
    assert out.value(m.KAFKA_TOPIC_MAX_LAG_SECONDS, cluster="prod", group="etl", topic="orders") == 240.0
    assert out.value(m.KAFKA_GROUP_MAX_LAG_SECONDS, cluster="prod", group="etl") == 240.0
    assert math.isnan(
        out.value(m.KAFKA_TOPIC_MAX_LAG_SECONDS, cluster="prod", group="etl", topic="audit") or 0
    )
    assert out.value(m.KAFKA_GROUP_SUM_LAG_OFFSETS, cluster="prod", group="etl") == 15  # 5 + 7 + 3


def test_a_snapshot_builds_its_series_at_the_first_read_only() -> None:
    """The poll keeps its results; the first scrape builds the series and later reads share them."""
    built: list[int] = []

    def build(out: MetricSet, lags: list[PartitionLag]) -> None:
        built.append(len(lags))
        offline_collector().build(out, lags, per_partition=True)

    snapshot = Snapshot([lag_row(0, 5, 12.5), lag_row(1, 0, 0.0)], build, None, 0.0, 0.1)
    assert built == []  # the poll built nothing
    series = snapshot.metrics
    assert snapshot.metrics is series and built == [2]
    assert series.value(m.KAFKA_PARTITION_LAG_SECONDS, **at("etl", "orders", 0)) == 12.5
    assert series.value(m.KAFKA_GROUP_SUM_LAG_OFFSETS, cluster="prod", group="etl") == 5


# --- property: the estimate stays within one poll interval of the true lag -----------------------------

FUZZ_EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "150"))


def true_lag(produced: list[float], committed: int, now: float) -> float:
    """The true lag in seconds of a consumer that committed `committed`, at time `now`.

    `produced[k]` is when message `k` was produced (sorted), so at time t the log end is the number of
    messages produced at or before t. Committing `committed` means messages 0..committed-1 are read and
    message `committed` is the oldest unread one. As in kafka-lag-exporter, the lag is now minus the time
    that message was produced, which is the instant the log end moved past `committed` (the last moment
    `committed` was the log end); it is 0 when the consumer has read everything produced by `now`.
    (The FIRST moment `committed` was the log end differs from it by the gap before that message: one
    message apart while producing, the whole pause after a pause, which is the defect this guards.)
    Computed from the simulated production alone, never from LagTable.
    """
    if committed >= bisect.bisect_right(produced, now):
        return 0.0
    return now - produced[committed]


@st.composite
def schedules(draw: st.DrawFn) -> tuple[list[float], float, list[float]]:
    """(production times, poll interval, poll times): bursts at random rates with jitter, and pauses of
    up to 14 hours, polled every `interval` seconds from t=0 to after the last message."""
    rng = draw(st.randoms(use_true_random=False))
    interval = draw(st.sampled_from([15.0, 30.0, 60.0, 120.0]))
    produced: list[float] = []
    t = draw(st.floats(0.0, 300.0))
    for kind, drawn, rate in draw(
        st.lists(
            st.tuples(
                st.sampled_from(["burst", "pause"]),
                st.floats(1.0, 50_400.0),  # up to 14 h
                st.sampled_from([0.01, 0.2, 1.0, 7.0, 50.0]),
            ),
            min_size=1,
            max_size=6,
        )
    ):
        length = min(drawn, 900.0) if kind == "burst" else drawn  # bursts: a bounded message count
        if kind == "burst":
            count = max(1, int(length * rate))
            produced += sorted(t + rng.uniform(0.0, length) for _ in range(count))
        t += length
    polls = [k * interval for k in range(int(t // interval) + 3)]
    return produced, interval, polls


def oldest_known_end(ends: list[int], run_start: list[int], k: int, max_points: int) -> int:
    """The smallest log end whose LAST poll a table of `max_points` points still holds after poll `k`.

    The table's documented shape: one point per run of polls that saw the same log end, two (its first
    and last poll) when the run is longer than one poll, at most `max_points` points, oldest dropped
    first. Walking the runs back from poll `k` (`run_start[i]`: the first poll of poll i's run), a run's
    last point is held while the count of points from it to the newest is within `max_points`."""
    held, count, i = ends[k], 0, k
    while i >= 0:
        count += 1  # the run's last poll
        if count > max_points:
            break
        held = ends[i]
        count += 1 if run_start[i] < i else 0  # and its first poll, if the run is longer than one
        i = run_start[i] - 1
    return held


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schedule=schedules(),
    consumer_rates=st.lists(st.sampled_from([0.0, 0.0, 0.5, 3.0, 40.0, 1e9]), min_size=1, max_size=8),
    max_points=st.sampled_from([3, 8, 60]),
)
def test_estimate_is_within_one_poll_interval_of_the_true_lag(
    schedule: tuple[list[float], float, list[float]], consumer_rates: list[float], max_points: int
) -> None:
    """Whatever the production (bursts, pauses of hours) and consumption (idle, slow, catching up), the
    lag read at each poll is within one poll interval of the true lag, provided the table still holds the
    last poll before the committed offset's message was produced (`oldest_known_end`). Without that
    history the answer may be NaN (or an extrapolation), never negative; with it, NaN is a failure.
    Caught up is exactly 0."""
    produced, interval, polls = schedule
    lag_table = LagTable(max_points)
    ends = [bisect.bisect_right(produced, t) for t in polls]
    run_start = [0] * len(ends)
    for i in range(1, len(ends)):
        run_start[i] = run_start[i - 1] if ends[i] == ends[i - 1] else i
    committed = 0
    for k, (now, end) in enumerate(zip(polls, ends, strict=True)):
        lag_table.add(end, now)
        rate = consumer_rates[k * len(consumer_rates) // len(polls)]  # the consumer changes pace in phases
        committed = min(end, committed + int(rate * interval))
        # The consumer's offset, and offsets where a pause shows: the first messages since the last polls.
        probes = {
            committed,
            (committed + end) // 2,
            max(0, end - 1),
            ends[max(0, k - 1)],
            ends[max(0, k - 2)],
        }
        known = oldest_known_end(ends, run_start, k, max_points)
        for offset in probes:
            estimate = lag_table.lag_seconds(offset, end, now)
            truth = true_lag(produced, offset, now)
            if offset >= end:
                assert estimate == 0.0 and truth == 0.0, (offset, end, now)
            elif known <= offset:  # enough history (see the docstring)
                assert abs(estimate - truth) <= interval, (offset, end, now, estimate, truth)
            else:
                assert math.isnan(estimate) or estimate >= 0.0
