"""SLA report maths, pure (no I/O): attainment, error budget, burn rates, time to exhaustion, status,
and the time-weighted rollup of SLOs into services, teams and the platform. Formulas: docs/sla.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

AT_RISK_REMAINING = 0.25
"""At risk when less than this share of the budget remains (or the projection runs out first)."""


class Status(StrEnum):
    """A report's verdict, worst first when ranked by `SEVERITY`."""

    HEALTHY = "Healthy"
    AT_RISK = "At risk"
    EXHAUSTED = "Exhausted"
    NO_DATA = "No data"


SEVERITY = {Status.NO_DATA: 0, Status.HEALTHY: 1, Status.AT_RISK: 2, Status.EXHAUSTED: 3}


@dataclass(frozen=True)
class Measured:
    """What Prometheus says about one SLO over one window (None: no data)."""

    error_ratio: float | None
    covered_minutes: float
    """Minutes of the window during which the SLI had data."""
    burn_rate_1h: float | None = None
    burn_rate_6h: float | None = None


@dataclass(frozen=True)
class Span:
    """The window in minutes: its full length, the part elapsed, and whether it is still open."""

    length_minutes: float
    elapsed_minutes: float
    rolling: bool

    @property
    def horizon_minutes(self) -> float:
        """How far ahead a projection matters: a rolling window's length, the rest of a calendar one."""
        return self.length_minutes if self.rolling else self.length_minutes - self.elapsed_minutes


@dataclass(frozen=True)
class Figures:
    """Every number of one report row (an SLO, or a rollup of several)."""

    objective: float
    attainment: float | None
    budget_total_minutes: float
    budget_consumed_minutes: float
    budget_remaining_minutes: float
    budget_consumed_ratio: float
    budget_remaining_ratio: float
    burn_rate_1h: float | None
    burn_rate_6h: float | None
    period_burn_rate: float | None
    minutes_to_exhaustion: float | None
    covered_minutes: float
    status: Status
    excluded_minutes: float = 0.0
    """Minutes of the period excluded by corrections (planned maintenance): not in the budget total."""


def minutes_to_exhaustion(remaining_minutes: float, burn_rate: float | None, budget: float) -> float | None:
    """At `burn_rate` x budget bad minutes per minute, when the remaining budget is gone (None: never)."""
    if remaining_minutes <= 0:
        return 0.0
    spent_per_minute = 0.0 if burn_rate is None else burn_rate * budget
    if spent_per_minute <= 0:
        return None
    return remaining_minutes / spent_per_minute


def status_of(
    attainment: float | None,
    remaining_ratio: float,
    burn_rate: float | None,
    exhaustion: float | None,
    horizon: float,
) -> Status:
    """No data; Exhausted (nothing left); At risk (< 25% left, or burning faster than 1 and projected
    to run out within the horizon); else Healthy."""
    if attainment is None:
        return Status.NO_DATA
    if remaining_ratio <= 0:
        return Status.EXHAUSTED
    projected = burn_rate is not None and burn_rate > 1 and exhaustion is not None and exhaustion < horizon
    if remaining_ratio < AT_RISK_REMAINING or projected:
        return Status.AT_RISK
    return Status.HEALTHY


def slo_figures(objective: float, measured: Measured, span: Span, excluded_minutes: float = 0.0) -> Figures:
    """One SLO's report over `span`; `objective` is a ratio in (0, 1). `measured` already leaves out the
    corrected time; `excluded_minutes` of the period are taken out of the budget total."""
    budget = 1 - objective
    total = budget * max(span.length_minutes - excluded_minutes, 0.0)
    error = measured.error_ratio
    consumed = 0.0 if error is None else error * measured.covered_minutes
    consumed_ratio = consumed / total if total > 0 else 0.0
    remaining = total - consumed
    exhaustion = None
    if error is not None and span.horizon_minutes > 0:
        exhaustion = minutes_to_exhaustion(remaining, measured.burn_rate_1h, budget)
    remaining_ratio = 1 - consumed_ratio
    return Figures(
        objective=objective,
        attainment=None if error is None else 1 - error,
        budget_total_minutes=total,
        budget_consumed_minutes=consumed,
        budget_remaining_minutes=remaining,
        budget_consumed_ratio=consumed_ratio,
        budget_remaining_ratio=remaining_ratio,
        burn_rate_1h=measured.burn_rate_1h,
        burn_rate_6h=measured.burn_rate_6h,
        period_burn_rate=None if error is None else error / budget,
        minutes_to_exhaustion=exhaustion,
        covered_minutes=measured.covered_minutes if error is not None else 0.0,
        status=status_of(
            None if error is None else 1 - error,
            remaining_ratio,
            measured.burn_rate_1h,
            exhaustion,
            span.horizon_minutes,
        ),
        excluded_minutes=excluded_minutes,
    )


def _max(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _min(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def rollup(members: Sequence[Figures]) -> Figures:
    """A service, team or platform row: attainment and objective weighted by each member's covered time,
    budget minutes summed over the members WITH data (a No-data member's untouched budget would hide
    the others' spending), the fastest burn and the nearest exhaustion, the worst status. Without any
    covered minute the row is No data (attainment None, budget sums 0) and its objective the members'
    plain mean."""
    with_data = [m for m in members if m.attainment is not None and m.covered_minutes > 0]
    weight = sum(m.covered_minutes for m in with_data)
    attainment = (
        sum(m.attainment * m.covered_minutes for m in with_data if m.attainment is not None) / weight
        if weight > 0
        else None
    )
    objective = (
        sum(m.objective * m.covered_minutes for m in with_data) / weight
        if weight > 0
        else (sum(m.objective for m in members) / len(members) if members else 0.0)
    )
    total = sum(m.budget_total_minutes for m in with_data)
    consumed = sum(m.budget_consumed_minutes for m in with_data)
    consumed_ratio = consumed / total if total > 0 else 0.0
    statuses = [m.status for m in members] or [Status.NO_DATA]
    return Figures(
        objective=objective,
        attainment=attainment,
        budget_total_minutes=total,
        budget_consumed_minutes=consumed,
        budget_remaining_minutes=total - consumed,
        budget_consumed_ratio=consumed_ratio,
        budget_remaining_ratio=1 - consumed_ratio,
        burn_rate_1h=_max([m.burn_rate_1h for m in members]),
        burn_rate_6h=_max([m.burn_rate_6h for m in members]),
        period_burn_rate=None if attainment is None else (1 - attainment) / (1 - objective),
        minutes_to_exhaustion=_min([m.minutes_to_exhaustion for m in members]),
        covered_minutes=weight,
        status=Status.NO_DATA if attainment is None else max(statuses, key=SEVERITY.__getitem__),
        excluded_minutes=sum(m.excluded_minutes for m in members),
    )
