"""Assemble reports, pure: the catalog's SLOs, what Prometheus measured (sla/queries.py) and the ledger's
breaches become one row per SLO, then service, team and platform rollups (sla/report_math.py)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from catalog.model import Catalog
from sla.corrections import Applied, Correction, Interval, minutes
from sla.queries import RangeData, SloKey, WindowData
from sla.report_math import Figures, Measured, rollup, slo_figures
from sla.report_windows import COVERAGE_STEP_SECONDS, ReportWindow

Level = Literal["slo", "service", "team", "platform"]
LEVELS: tuple[Level, ...] = ("slo", "service", "team", "platform")


@dataclass(frozen=True)
class BreachSpan:
    """One breach from the ledger: an alert instance's start, end (None while firing) and duration."""

    alertname: str
    service: str | None
    slo: str | None
    team: str | None
    severity: str | None
    start: datetime
    end: datetime | None

    @property
    def duration_seconds(self) -> float | None:
        return None if self.end is None else (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Row:
    """One report row: an SLO (`name` is the SLO, `service`/`team` its owners) or a rollup."""

    level: Level
    name: str
    service: str | None
    team: str | None
    figures: Figures
    members: tuple[str, ...]
    breaches: tuple[BreachSpan, ...]
    corrections: tuple[Correction, ...] = ()


@dataclass(frozen=True)
class Report:
    """Every row of every level for one window."""

    window: ReportWindow
    rows: Mapping[Level, tuple[Row, ...]]


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _less(value: float | None, parts: Sequence[float | None]) -> float | None:
    if value is None:
        return None
    return max(value - sum(p for p in parts if p is not None), 0.0)


def measured(
    key: SloKey,
    budget: float,
    data: WindowData,
    excluded: Sequence[Interval] = (),
    parts: RangeData | None = None,
) -> Measured:
    """An SLO's measurements, without the `excluded` intervals (the SLO's sums over them all are in
    `parts`): no data unless events are left in the window (more than rounding leaves after subtracting
    corrections), and no data when a sum of bad or all events is NaN or infinite (a broken series: its
    error ratio is unknown, not zero)."""
    got = [parts] if parts is not None and excluded else []
    r1, r6 = _finite(data.ratio_1h.get(key)), _finite(data.ratio_6h.get(key))
    burn_1h, burn_6h = (None if r is None else r / budget for r in (r1, r6))
    sums = [data.errors.get(key), data.total.get(key)]
    sums += [v for p in got for v in (p.errors.get(key), p.total.get(key))]
    if any(v is not None and not math.isfinite(v) for v in sums):
        return Measured(None, 0.0, burn_1h, burn_6h)
    measured_total = _finite(data.total.get(key))
    total = _less(measured_total, [_finite(p.total.get(key)) for p in got])
    if total is not None and measured_total and total <= 1e-9 * measured_total:
        total = 0.0
    errors = _less(_finite(data.errors.get(key)) or 0.0, [_finite(p.errors.get(key)) for p in got]) or 0.0
    steps = _less(data.covered_steps.get(key, 0.0), [p.covered_steps.get(key) for p in got]) or 0.0
    ratio = min(errors / total, 1.0) if total else None
    return Measured(ratio, steps * COVERAGE_STEP_SECONDS / 60, burn_1h, burn_6h)


def _group(level: Level, name: str, team: str | None, members: Sequence[Row], service: str | None) -> Row:
    return Row(
        level=level,
        name=name,
        service=service,
        team=team,
        figures=rollup([m.figures for m in members]),
        members=tuple(m.name for m in members),
        breaches=tuple(sorted({b for m in members for b in m.breaches}, key=lambda b: b.start)),
        corrections=tuple(
            sorted({c for m in members for c in m.corrections}, key=lambda c: (c.start, c.end))
        ),
    )


def build(
    catalog: Catalog,
    window: ReportWindow,
    data: WindowData,
    breaches: Sequence[BreachSpan],
    applied: Mapping[SloKey, Applied] | None = None,
    parts: RangeData | None = None,
    stored: Mapping[SloKey, Figures] | None = None,
) -> Report:
    """SLO rows in catalog order, then service, team and platform rollups; `applied` corrections are left
    out of each SLO's measurements (their sums are in `parts`) and budget. `stored` figures (a closed
    month's snapshots) stand in for SLOs Prometheus has no data for (retention)."""
    applied, stored = applied or {}, stored or {}
    by_slo: dict[SloKey, list[BreachSpan]] = defaultdict(list)
    for breach in breaches:
        by_slo[(breach.service or "", breach.slo or "")].append(breach)
    team_of = {s.name: s.team for s in catalog.services}
    slos = []
    for slo in catalog.slos:
        key = (slo.service, slo.name)
        fix = applied.get(key)
        seen = measured(key, slo.error_budget_ratio, data, fix.measured if fix else (), parts)
        figures = slo_figures(slo.target_ratio, seen, window.span, minutes(fix.period) if fix else 0.0)
        if figures.attainment is None and key in stored:
            figures = stored[key]  # Prometheus no longer holds the month: its snapshot does
        own = tuple(sorted(by_slo.get(key, []), key=lambda b: b.start))
        owner = team_of.get(slo.service)
        slos.append(
            Row("slo", slo.name, slo.service, owner, figures, (), own, fix.corrections if fix else ())
        )
    services: list[Row] = []
    for service in catalog.services:
        members = [r for r in slos if r.service == service.name]
        if members:
            services.append(_group("service", service.name, service.team, members, service.name))
    teams = []
    for team in catalog.teams:
        members = [r for r in slos if r.team == team.name]
        if members:
            teams.append(_group("team", team.name, team.name, members, None))
    platform = _group("platform", "platform", None, slos, None)
    return Report(
        window,
        {"slo": tuple(slos), "service": tuple(services), "team": tuple(teams), "platform": (platform,)},
    )
