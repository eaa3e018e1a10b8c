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
from sla.queries import SloKey, WindowData
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


@dataclass(frozen=True)
class Report:
    """Every row of every level for one window."""

    window: ReportWindow
    rows: Mapping[Level, tuple[Row, ...]]


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def measured(key: SloKey, budget: float, data: WindowData) -> Measured:
    """An SLO's measurements: no data unless it had events in the window."""
    total = _finite(data.total.get(key))
    errors = _finite(data.errors.get(key)) or 0.0
    ratio = errors / total if total else None
    r1, r6 = _finite(data.ratio_1h.get(key)), _finite(data.ratio_6h.get(key))
    return Measured(
        error_ratio=ratio,
        covered_minutes=data.covered_steps.get(key, 0.0) * COVERAGE_STEP_SECONDS / 60,
        burn_rate_1h=None if r1 is None else r1 / budget,
        burn_rate_6h=None if r6 is None else r6 / budget,
    )


def _group(level: Level, name: str, team: str | None, members: Sequence[Row], service: str | None) -> Row:
    return Row(
        level=level,
        name=name,
        service=service,
        team=team,
        figures=rollup([m.figures for m in members]),
        members=tuple(m.name for m in members),
        breaches=tuple(sorted({b for m in members for b in m.breaches}, key=lambda b: b.start)),
    )


def build(catalog: Catalog, window: ReportWindow, data: WindowData, breaches: Sequence[BreachSpan]) -> Report:
    """SLO rows in catalog order, then service, team and platform rollups."""
    by_slo: dict[SloKey, list[BreachSpan]] = defaultdict(list)
    for breach in breaches:
        by_slo[(breach.service or "", breach.slo or "")].append(breach)
    team_of = {s.name: s.team for s in catalog.services}
    slos = []
    for slo in catalog.slos:
        key = (slo.service, slo.name)
        figures = slo_figures(slo.target_ratio, measured(key, slo.error_budget_ratio, data), window.span)
        own = tuple(sorted(by_slo.get(key, []), key=lambda b: b.start))
        slos.append(Row("slo", slo.name, slo.service, team_of.get(slo.service), figures, (), own))
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
