"""Burrow's consumer status evaluation, over the last N polls of one group's partition.

Burrow (linkedin/Burrow) judges a partition from its recent commits: OK, WARN (moving, but falling
behind), STALL (committing without moving), STOP (no longer committing), REWIND (the offset went back).
A poll cannot tell a consumer that re-commits the same offset from one that stopped, so the group's
membership decides between STALL (members present) and STOP (no members).
"""

from __future__ import annotations

from array import array

OK, NO_COMMIT, WARN, STALL, STOP, REWIND = "OK", "NO_COMMIT", "WARN", "STALL", "STOP", "REWIND"
SEVERITY = {OK: 0, NO_COMMIT: 1, WARN: 2, STALL: 3, STOP: 4, REWIND: 5}
"""The group status is its worst partition's."""


def worst(statuses: list[str]) -> str:
    return max(statuses, key=SEVERITY.__getitem__, default=OK)


class StatusWindow:
    """The last `size` (committed offset, lag) observations of one group's partition.

    Held in one machine array, committed offset and lag alternating (16 bytes an observation): there is
    a window per group-partition, and at 25,000 of them with 10 observations each, tuples took ~35 MB."""

    __slots__ = ("size", "values")

    def __init__(self, size: int = 10) -> None:
        self.size = size
        self.values = array("q")

    @property
    def entries(self) -> list[tuple[int, int]]:
        """The observations, oldest first (for tests and debugging)."""
        values = self.values
        return list(zip(values[0::2], values[1::2], strict=True))

    def add(self, committed: int, lag: int) -> None:
        values = self.values
        values.append(committed)
        values.append(lag)
        if len(values) > 2 * self.size:
            del values[:2]

    def status(self, has_members: bool) -> str:
        values = self.values
        if len(values) < 4:
            return OK  # too little history to judge
        committed, lags = values[0::2], values[1::2]
        if 0 in lags:
            return OK  # the consumer caught up within the window
        rewound = False
        lag_never_shrinks = True
        previous_offset, previous_lag = committed[0], lags[0]
        for offset, lag in zip(committed, lags, strict=True):
            rewound = rewound or offset < previous_offset
            lag_never_shrinks = lag_never_shrinks and lag >= previous_lag
            previous_offset, previous_lag = offset, lag
        if rewound:
            return REWIND
        if committed[-1] == committed[0]:
            return STALL if has_members else STOP
        if lag_never_shrinks:
            return WARN  # moving, but never gaining ground (Burrow: lag not decreasing)
        return OK
