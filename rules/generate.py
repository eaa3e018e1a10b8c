"""The rule pipeline: catalog → SLO rule groups (SLI recordings, metadata, alerts), with no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.model import Catalog
from rules import names
from rules.groups import Rule, RuleGroup
from rules.slo_alerts import alert_group, unreachable_windows
from rules.slo_recordings import meta_group, sli_group

DEFAULT_GRAFANA_URL = "http://grafana:3000"


@dataclass
class RuleSet:
    """Rule groups per output file, plus warnings about rules that can never fire."""

    files: dict[str, list[RuleGroup]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def watchdog_group() -> RuleGroup:
    return RuleGroup(
        "watchkeeper-watchdog",
        [
            Rule(
                alert=names.WATCHDOG_ALERT,
                expr="vector(1)",
                labels={"severity": "none"},
                annotations={
                    "summary": "Alerting pipeline heartbeat; always firing",
                    "description": "This alert always fires. If the dead-man's switch stops receiving it, "
                    "Prometheus or Alertmanager is down.",
                },
            )
        ],
    )


def generate_rules(catalog: Catalog, grafana_url: str = DEFAULT_GRAFANA_URL) -> RuleSet:
    """Every rule group for a catalog, one file per team plus the watchdog."""
    result = RuleSet()
    for slo in catalog.slos:
        team = catalog.team_of(slo.service).name
        groups = result.files.setdefault(f"slo-{team}.rules.yml", [])
        groups += [sli_group(slo), meta_group(slo, catalog), alert_group(slo, catalog, grafana_url)]
        for window in unreachable_windows(slo):
            result.warnings.append(
                f"SLO {slo.name}: the {window.severity} alert over {window.long}/{window.short} can never fire "
                f"(threshold {window.factor:g} x {slo.error_budget_ratio:.4g} > 1); lower the objective "
                "or lengthen the window"
            )
    result.files["watchdog.rules.yml"] = [watchdog_group()]
    return result
