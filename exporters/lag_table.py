"""Estimate a Kafka consumer's lag in seconds from a per-partition table of (log-end offset, time) points.

As kafka-lag-exporter does: each poll adds the partition's log-end offset and the poll time. The time at
which the committed offset was produced is read off the table by linear interpolation between the two
points around it, or by extrapolation at the table's average rate outside it. Lag = now - that time.
"""

from __future__ import annotations

import math
from collections import deque


class LagTable:
    """(offset, time) points with strictly increasing offsets, at most `max_points` of them."""

    __slots__ = ("points",)

    def __init__(self, max_points: int = 60) -> None:
        self.points: deque[tuple[int, float]] = deque(maxlen=max_points)

    def add(self, offset: int, at: float) -> None:
        """Record the log-end offset seen at `at`. An unchanged offset keeps its first time: that is when
        the last message was produced, as closely as polling can tell. A smaller offset (a recreated
        topic) starts the table again."""
        if self.points and offset <= self.points[-1][0]:
            if offset < self.points[-1][0]:
                self.points.clear()
            else:
                return
        self.points.append((offset, at))

    def produced_at(self, offset: int) -> float:
        """When `offset` was (or will be) the log end: NaN with fewer than two points."""
        if len(self.points) < 2:
            return math.nan
        points = self.points
        if offset <= points[0][0] or offset >= points[-1][0]:
            (o1, t1), (o2, t2) = points[0], points[-1]
        else:
            lo, hi = 0, len(points) - 1
            while hi - lo > 1:  # binary search for the segment holding `offset`
                mid = (lo + hi) // 2
                if points[mid][0] <= offset:
                    lo = mid
                else:
                    hi = mid
            (o1, t1), (o2, t2) = points[lo], points[hi]
        return t1 + (offset - o1) * (t2 - t1) / (o2 - o1)

    def lag_seconds(self, committed: int, latest: int, now: float) -> float:
        """Seconds the consumer is behind: 0 when it has read everything, NaN without enough history."""
        if committed >= latest:
            return 0.0
        produced = self.produced_at(committed)
        if math.isnan(produced):
            return math.nan
        return max(0.0, now - produced)
