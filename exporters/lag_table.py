"""Estimate a Kafka consumer's lag in seconds from a per-partition table of (log-end offset, time) points.

As kafka-lag-exporter does: each poll adds the partition's log-end offset and the poll time. The time at
which the committed offset's message was produced is read off the table by linear interpolation between
the two points around it, or by extrapolation at the table's average rate outside it. Lag = now - that time.

A log end that stays put (the producer paused) is kept as two points: when the offset was first and last
seen as the log end. An offset below the pause interpolates up to the first time; the paused offset
itself and those after it interpolate from the last time, so a long pause is never counted as lag.
"""

from __future__ import annotations

import bisect
import math
from array import array


class LagTable:
    """(offset, time) points: times strictly increasing, offsets non-decreasing with each offset held at
    most twice (the two ends of a flat run), at most `max_points` of them, oldest dropped first.

    Held as two machine arrays, 16 bytes a point: an exporter keeps one table per partition, and at
    25,000 partitions with full tables of 60 points, tuples in a deque took about 170 MB."""

    __slots__ = ("max_points", "offsets", "times")

    def __init__(self, max_points: int = 60) -> None:
        self.max_points = max_points
        self.offsets = array("q")
        self.times = array("d")

    @property
    def points(self) -> list[tuple[int, float]]:
        """The points, oldest first (for tests and debugging)."""
        return list(zip(self.offsets, self.times, strict=True))

    def add(self, offset: int, at: float) -> None:
        """Record the log-end offset seen at `at`. An unchanged offset moves its flat run's end to `at`; a
        smaller offset (a recreated topic) starts the table again; a time not after the last point's is
        ignored (no rate can be read from it)."""
        offsets, times = self.offsets, self.times
        if offsets:
            last = offsets[-1]
            if offset < last:
                del offsets[:], times[:]
            elif at <= times[-1]:
                return
            elif offset == last and len(offsets) > 1 and offsets[-2] == offset:
                times[-1] = at  # the flat run goes on: keep its first and latest time
                return
        offsets.append(offset)
        times.append(at)
        if len(offsets) > self.max_points:
            del offsets[0], times[0]

    def produced_at(self, offset: int) -> float:
        """When the log end moved past `offset` (its message was produced): NaN without two points at
        different offsets."""
        offsets, times = self.offsets, self.times
        n = len(offsets)
        if n < 2:
            return math.nan
        i = bisect.bisect_right(offsets, offset) - 1  # the last point at or below `offset`
        if 0 <= i < n - 1:
            o1, t1, o2, t2 = offsets[i], times[i], offsets[i + 1], times[i + 1]  # o1 <= offset < o2
        else:
            o1, t1, o2, t2 = offsets[0], times[0], offsets[-1], times[-1]
            if o1 == o2:
                return math.nan  # a flat table has no rate to extrapolate with
        return t1 + (offset - o1) * (t2 - t1) / (o2 - o1)

    def lag_seconds(self, committed: int, latest: int, now: float) -> float:
        """Seconds the consumer is behind: 0 when it has read everything, NaN without enough history."""
        if committed >= latest:
            return 0.0
        produced = self.produced_at(committed)
        if math.isnan(produced):
            return math.nan
        return max(0.0, now - produced)
