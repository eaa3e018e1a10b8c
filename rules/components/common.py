"""What every component alert is built from: synthetic series, scenarios, drafts, and the catalog's overrides.

A source kind's module turns one catalog entry into `Draft`s; `finish` applies the catalog's `alerts:`
overrides (defaults from `catalog.alert_defaults`) and the owner's labels, giving a `ComponentAlert`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from catalog.alert_defaults import COMPONENT_ALERTS
from catalog.durations import Duration
from catalog.model import Catalog
from catalog.model.alerts import AlertOverride, HasAlerts
from catalog.model.services import Tier
from exporters import names as m
from rules.groups import Rule, RuleGroup
from rules.promql import matchers, number

PCT = "{{ $value | humanizePercentage }}"
NUM = "{{ $value | humanize }}"
DUR = "{{ $value | humanizeDuration }}"


@dataclass(frozen=True)
class Series:
    """One synthetic input series in promtool's notation (`values: 1+2x30`)."""

    metric: str
    labels: dict[str, str]
    values: str

    def text(self) -> str:
        return self.metric + matchers(self.labels)


@dataclass(frozen=True)
class Scenario:
    """Inputs under which an alert must fire, and inputs under which it must stay silent."""

    firing: list[Series]
    silent: list[Series]
    out_labels: dict[str, str]
    """The labels the alert expression itself yields while firing."""
    value: float | None = None
    """The alert's value while firing, when an annotation shows it."""
    settle: str = "5m"
    """How long after `for` elapses to check, so range functions have their samples."""


@dataclass(frozen=True)
class ComponentAlert:
    key: str
    rule: Rule
    scenario: Scenario
    eval_time: Duration


@dataclass(frozen=True)
class Draft:
    """An alert before the catalog's overrides and the owner's labels are applied."""

    key: str
    name: str
    expr: Callable[[float | None], str]
    summary: str
    description: str
    scenario: Callable[[float | None], Scenario]
    by: dict[str, str] = field(default_factory=dict)


def up_drafts(prefix: str, kind: str, source: str) -> list[Draft]:
    """The two alerts every exporter source has: it cannot be scraped, or nothing reports it."""
    sel = matchers({m.SOURCE_LABEL: source})
    labels = {m.SOURCE_LABEL: source}
    return [
        Draft(
            "source_down",
            "WatchkeeperSourceDown",
            lambda _t: f"{m.up(prefix)}{sel} == 0",
            f"The {kind} source {source} cannot be scraped",
            f"The exporter has failed to collect {kind} source {source} for 5 minutes; its other alerts are "
            "blind. See the exporter's scrape_errors_total by kind.",
            lambda _t: Scenario(
                [Series(m.up(prefix), labels, "0x20")], [Series(m.up(prefix), labels, "1x20")], labels
            ),
        ),
        Draft(
            "source_absent",
            "WatchkeeperSourceAbsent",
            lambda _t: f"absent({m.up(prefix)}{sel})",
            f"No exporter reports the {kind} source {source}",
            f"{m.up(prefix)} for {source} is missing: the exporter is down, not scraped, or not "
            "configured with this source.",
            lambda _t: Scenario([], [Series(m.up(prefix), labels, "1x20")], labels),
        ),
    ]


def above(t: float | None, fire: float) -> float:
    """A firing value for `> t`: `fire` when it is above t, else one clearly above it."""
    if t is None or fire > t:
        return fire
    return t * 2 if t > 0 else t + 1


def below(t: float | None, calm: float) -> float:
    """A calm value for `> t`: `calm` when it is not above t, else one clearly below it."""
    if t is None or calm <= t:
        return calm
    return t / 2 if t > 0 else t - 1


def fraction_above(t: float | None, fire: float, denominator: int = 100) -> float | None:
    """A ratio k/denominator (at most 1) above t for `> t`: `fire` when it is above t; None if t >= 1."""
    if t is None or fire > t:
        return fire
    k = math.floor(t * denominator + 1e-9) + 1
    return k / denominator if k <= denominator else None


def fraction_below(t: float | None, calm: float, denominator: int = 100) -> float:
    """A ratio k/denominator below t (0 when t is 0, which `> 0` does not pass): `calm` if already so."""
    if t is None or calm < t or (calm == 0 and t == 0):
        return calm
    return max(0, math.ceil(t * denominator - 1e-9) - 1) / denominator


def share(ratio: float, total: int = 100) -> tuple[int, int]:
    """`ratio` of `total` events as whole (part, rest) counts."""
    part = round(ratio * total)
    return part, total - part


def gauge_above(
    key: str,
    name: str,
    metric: str,
    sel: dict[str, str],
    by: tuple[str, ...],
    summary: str,
    description: str,
    fire: float,
    calm: float,
    extra: dict[str, str] | None = None,
) -> Draft:
    """`max by (...) (metric) > threshold`, the commonest component alert."""
    series_labels = {**sel, **(extra or {})}
    out = {k: series_labels[k] for k in by}

    def scenario(t: float | None) -> Scenario:
        hot, cold = above(t, fire), below(t, calm)
        return Scenario(
            [Series(metric, series_labels, f"{number(hot)}x40")],
            [Series(metric, series_labels, f"{number(cold)}x40")],
            out,
            hot,
        )

    return Draft(
        key,
        name,
        lambda t: f"max by ({', '.join(by)}) ({metric}{matchers(sel)}) > {number(t or 0)}",
        summary,
        description,
        scenario,
    )


NO_OVERRIDE = AlertOverride()
"""An alert the catalog does not override (built once: `finish` runs per alert, per claim)."""
duration = functools.lru_cache(maxsize=256)(Duration.parse)
"""`Duration.parse`, cached: the same few defaults are parsed for every alert."""


def finish(
    draft: Draft,
    entry: HasAlerts,
    kind: str,
    name: str,
    service: str,
    catalog: Catalog,
    runbook: str,
    dashboard: str,
) -> ComponentAlert | None:
    """The draft with the entry's override and the owner's labels applied; None when it is disabled."""
    default = COMPONENT_ALERTS[kind][draft.key]
    override = entry.alerts.get(draft.key, NO_OVERRIDE)
    if not override.enabled:
        return None
    svc = catalog.service(service)
    severity = override.severity or default.severity
    if severity == "critical" and svc.tier is Tier.low:
        severity = "warning"  # low-tier services never page
    threshold = override.threshold if override.threshold is not None else default.threshold
    for_ = override.for_ or (duration(default.for_) if default.for_ else None)
    scenario = draft.scenario(threshold)
    rule = Rule(
        alert=draft.name,
        expr=draft.expr(threshold),
        for_=str(for_) if for_ else None,
        labels={
            **override.labels,
            "severity": severity,
            "team": svc.team,
            "service": service,
            "tier": svc.tier.value,
            "component": kind,
            m.SOURCE_LABEL: name,
        },
        annotations={
            "summary": draft.summary,
            "description": draft.description,
            "runbook_url": runbook,
            "dashboard_url": dashboard,
        },
    )
    eval_time = Duration((for_.ms if for_ else 0) + duration(scenario.settle).ms)
    return ComponentAlert(draft.key, rule, scenario, eval_time)


def component_group(team: str, alerts: list[ComponentAlert]) -> RuleGroup:
    """A team's component alerts as one rule group."""
    return RuleGroup(f"watchkeeper-components-{team}", [a.rule for a in alerts])
