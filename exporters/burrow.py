"""Burrow's consumer status evaluation, over the last N polls of one group's partition.

Burrow (linkedin/Burrow) judges a partition from its recent commits: OK, WARN (moving, but falling
behind), STALL (committing without moving), STOP (no longer committing), REWIND (the offset went back).
A poll cannot tell a consumer that re-commits the same offset from one that stopped, so the group's
membership decides between STALL (members present) and STOP (no members).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise

OK, NO_COMMIT, WARN, STALL, STOP, REWIND = "OK", "NO_COMMIT", "WARN", "STALL", "STOP", "REWIND"
SEVERITY = {OK: 0, NO_COMMIT: 1, WARN: 2, STALL: 3, STOP: 4, REWIND: 5}
"""The group status is its worst partition's."""


def worst(statuses: list[str]) -> str:
    return max(statuses, key=SEVERITY.__getitem__, default=OK)


@dataclass
class StatusWindow:
    """The last `size` (committed offset, lag) observations of one group's partition."""

    size: int = 10
    entries: deque[tuple[int, int]] = field(default_factory=deque)

    def add(self, committed: int, lag: int) -> None:
        self.entries.append((committed, lag))
        while len(self.entries) > self.size:
            self.entries.popleft()

    def status(self, has_members: bool) -> str:
        entries = list(self.entries)
        if len(entries) < 2 or any(lag == 0 for _, lag in entries):
            return OK  # too little history to judge, or the consumer caught up within the window
        offsets = [c for c, _ in entries]
        if any(later < earlier for earlier, later in pairwise(offsets)):
            return REWIND
        if offsets[-1] == offsets[0]:
            return STALL if has_members else STOP
        lags = [lag for _, lag in entries]
        if all(later >= earlier for earlier, later in pairwise(lags)):
            return WARN  # moving, but never gaining ground (Burrow: lag not decreasing)
        return OK
