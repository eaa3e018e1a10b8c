"""When `watchkeeper drift serve` runs each monitor: once at start, then on its schedule's grid.

The grid is aligned to the Unix epoch (a `6h` monitor runs at 00:00, 06:00, 12:00 and 18:00 UTC), so a
restarted service keeps the same times. Pure: the clock is passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def next_on_grid(every: float, after: float) -> float:
    """The first grid time strictly after `after` for a schedule of `every` seconds."""
    return (math.floor(after / every) + 1) * every


@dataclass
class Plan:
    """Each monitor's next run time."""

    schedules: dict[str, float]
    next_runs: dict[str, float] = field(default_factory=dict)

    @classmethod
    def starting(cls, schedules: dict[str, float], now: float, run_now: bool = True) -> Plan:
        plan = cls(dict(schedules))
        for name, every in schedules.items():
            plan.next_runs[name] = now if run_now else next_on_grid(every, now)
        return plan

    def due(self, now: float) -> list[str]:
        """Monitors whose time has come, earliest first (ties by name)."""
        return sorted(
            (m for m, t in self.next_runs.items() if t <= now), key=lambda m: (self.next_runs[m], m)
        )

    def done(self, monitor: str, finished: float) -> float:
        """Schedule the monitor's next run after one finished at `finished` (a late run skips missed slots)."""
        self.next_runs[monitor] = next_on_grid(self.schedules[monitor], finished)
        return self.next_runs[monitor]

    def wait(self, now: float) -> float:
        """Seconds until the next run (0 if one is due)."""
        return max(0.0, min(self.next_runs.values(), default=now + 60.0) - now)

    def upcoming(self) -> list[tuple[str, float]]:
        return sorted(self.next_runs.items(), key=lambda item: (item[1], item[0]))
