"""What every component alert is built from: synthetic series, scenarios, drafts, and the catalog's overrides.

A source kind's module turns one catalog entry into `Draft`s; `finish` applies the catalog's `alerts:`
overrides (defaults from `catalog.alert_defaults`) and the owner's labels, giving a `ComponentAlert`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from catalog.alert_defaults import COMPONENT_ALERTS
from catalog.durations import Duration
from catalog.model import AlertOverride, Catalog, HasAlerts, Tier
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
    return Draft(
        key,
        name,
        lambda t: f"max by ({', '.join(by)}) ({metric}{matchers(sel)}) > {number(t or 0)}",
        summary,
        description,
        lambda t: Scenario(
            [Series(metric, series_labels, f"{number(fire)}x40")],
            [Series(metric, series_labels, f"{number(calm)}x40")],
            out,
            fire,
        ),
    )


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
    override = entry.alerts.get(draft.key, AlertOverride())
    if not override.enabled:
        return None
    svc = catalog.service(service)
    severity = override.severity or default.severity
    if severity == "critical" and svc.tier is Tier.low:
        severity = "warning"  # low-tier services never page
    threshold = override.threshold if override.threshold is not None else default.threshold
    for_ = override.for_ or (Duration.parse(default.for_) if default.for_ else None)
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
    eval_time = Duration((for_.ms if for_ else 0) + Duration.parse(scenario.settle).ms)
    return ComponentAlert(draft.key, rule, scenario, eval_time)


def component_group(team: str, alerts: list[ComponentAlert]) -> RuleGroup:
    """A team's component alerts as one rule group."""
    return RuleGroup(f"watchkeeper-components-{team}", [a.rule for a in alerts])
