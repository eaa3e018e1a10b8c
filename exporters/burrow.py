"""Burrow's consumer status evaluation, over the last N polls of one group's partition.

Burrow (linkedin/Burrow) judges a partition from its recent commits: OK, WARN (moving, but falling
behind), STALL (committing without moving), STOP (no longer committing), REWIND (the offset went back).
A poll cannot tell a consumer that re-commits the same offset from one that stopped, so the group's
membership decides between STALL (members present) and STOP (no members).
"""

from __future__ import annotations

from collections import deque

OK, NO_COMMIT, WARN, STALL, STOP, REWIND = "OK", "NO_COMMIT", "WARN", "STALL", "STOP", "REWIND"
SEVERITY = {OK: 0, NO_COMMIT: 1, WARN: 2, STALL: 3, STOP: 4, REWIND: 5}
"""The group status is its worst partition's."""


def worst(statuses: list[str]) -> str:
    return max(statuses, key=SEVERITY.__getitem__, default=OK)


class StatusWindow:
    """The last `size` (committed offset, lag) observations of one group's partition."""

    __slots__ = ("entries",)

    def __init__(self, size: int = 10) -> None:
        self.entries: deque[tuple[int, int]] = deque(maxlen=size)

    def add(self, committed: int, lag: int) -> None:
        self.entries.append((committed, lag))

    def status(self, has_members: bool) -> str:
        entries = self.entries
        if len(entries) < 2:
            return OK  # too little history to judge
        rewound = False
        lag_never_shrinks = True
        previous_offset, previous_lag = entries[0]
        if previous_lag == 0:
            return OK
        for offset, lag in list(entries)[1:]:
            if lag == 0:
                return OK  # the consumer caught up within the window
            rewound = rewound or offset < previous_offset
            lag_never_shrinks = lag_never_shrinks and lag >= previous_lag
            previous_offset, previous_lag = offset, lag
        if rewound:
            return REWIND
        if entries[-1][0] == entries[0][0]:
            return STALL if has_members else STOP
        if lag_never_shrinks:
            return WARN  # moving, but never gaining ground (Burrow: lag not decreasing)
        return OK
