"""Expected SLO alert states, minute by minute, computed from the test's input and the catalog alone.

Nothing here reads a generated rule: the inputs are per-minute bad and total events (or the gauge states
of time-based SLIs), the thresholds come from the window table (rules/windows.yaml) and the SLO's
objective, and the low-traffic guard and `for` from the catalog. Prometheus' semantics are modelled:

- `rate(c[5m])` at minute t of a counter that starts at 0 with one sample a minute is its increase since
  max(0, t-5) over 300 s (from 0 Prometheus does not extrapolate), and is absent at t = 0;
- a window's ratio is bad over total events summed over the 5m rates recorded in [t-w, t] (both ends,
  as Prometheus 2.x selects ranges), the design docs/rules.md describes; the 5m ratio is the 5m rates';
- an alert fires at t when its condition held at every evaluation of the last `for`.

Comparisons within 1e-9 of a threshold are reported as undecided (None): floating-point rounding in
Prometheus could go either way, so the caller does not test them.
"""

from __future__ import annotations

from itertools import accumulate

from catalog.model.slos import SLO
from rules.windows import alert_windows

TIE = 1e-9


def _above(value: float | None, threshold: float) -> bool | None:
    if value is None:
        return False
    if abs(value - threshold) <= TIE * threshold:
        return None
    return value > threshold


class Simulation:
    """Alert conditions from the recorded 5m error and total rates an SLO's rules should produce."""

    def __init__(
        self, slo: SLO, errors5m: list[float | None], total5m: list[float | None], guarded: bool
    ) -> None:
        self.slo, self.errors, self.total = slo, errors5m, total5m
        self.windows = alert_windows(slo.window.period)
        self.minimum = slo.alerting.min_events_per_hour if guarded else 0.0
        present = [e is not None and t is not None for e, t in zip(errors5m, total5m, strict=True)]
        self.prefix_e = [
            0.0,
            *accumulate(e if p and e is not None else 0.0 for e, p in zip(errors5m, present, strict=True)),
        ]
        self.prefix_t = [
            0.0,
            *accumulate(t if p and t is not None else 0.0 for t, p in zip(total5m, present, strict=True)),
        ]
        self.prefix_n = [0, *accumulate(int(p) for p in present)]
        self._memo: dict[tuple[str, int], tuple[bool | None, float | None]] = {}

    def ratio(self, minutes: int, t: int) -> float | None:
        """The error ratio over the last `minutes` at minute t; None when there is no data."""
        if minutes <= 5:
            e, total = self.errors[t], self.total[t]
            return None if e is None or not total else e / total
        start = max(0, t - minutes)
        total_sum = self.prefix_t[t + 1] - self.prefix_t[start]
        if self.prefix_n[t + 1] == self.prefix_n[start] or total_sum == 0:
            return None
        return (self.prefix_e[t + 1] - self.prefix_e[start]) / total_sum

    def _guard(self, t: int) -> bool | None:
        """`avg_over_time(total5m[1h]) * 3600 >= min_events_per_hour`; always true when it is 0."""
        if self.minimum == 0:
            return True
        start = max(0, t - 60)
        count = self.prefix_n[t + 1] - self.prefix_n[start]
        if count == 0:
            return False
        per_hour = (self.prefix_t[t + 1] - self.prefix_t[start]) / count * 3600
        if abs(per_hour - self.minimum) <= TIE * self.minimum:
            return None
        return per_hour >= self.minimum

    def condition(self, severity: str, t: int) -> tuple[bool | None, float | None]:
        """(active, value): the value is the short ratio of the first window whose condition holds."""
        key = (severity, t)
        if key not in self._memo:
            self._memo[key] = self._condition(severity, t)
        return self._memo[key]

    def _condition(self, severity: str, t: int) -> tuple[bool | None, float | None]:
        budget = self.slo.error_budget_ratio
        undecided = False
        for window in (w for w in self.windows if w.severity == severity):
            threshold = window.factor * budget
            short = self.ratio(int(window.short.seconds // 60), t)
            long = self.ratio(int(window.long.seconds // 60), t)
            a, b = _above(short, threshold), _above(long, threshold)
            if a is False or b is False:
                continue
            if a is None or b is None or undecided:
                undecided = True
                continue
            guard = self._guard(t) if severity == "page" else True
            return (True, short) if guard else (guard, None)
        return (None, None) if undecided else (False, None)

    def firing(self, severity: str, for_minutes: int, at: int) -> tuple[bool | None, float | None]:
        """Firing at `at`: active at every evaluation of the last `for` (Prometheus' ActiveAt rule)."""
        if at - for_minutes < 0:
            return False, None
        states = [self.condition(severity, t)[0] for t in range(at - for_minutes, at + 1)]
        if False in states:
            return False, None
        if None in states:
            return None, None
        return True, self.condition(severity, at)[1]
