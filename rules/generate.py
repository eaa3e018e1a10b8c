"""The rule pipeline: catalog → rule groups per file (SLO, component, self-monitoring) and their tests, with no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from catalog.durations import Duration
from catalog.gc_pause import gc_paused
from catalog.model import Catalog
from catalog.model.slos import SLO
from exporters.names import EXPORTER_JOB
from rules import names
from rules.components import (
    ComponentAlert,
    Scenario,
    Series,
    component_alerts,
    component_group,
    uncollected_warnings,
)
from rules.components.freshness import volume_recordings
from rules.groups import Rule, RuleGroup
from rules.ownership import OWNERSHIP_FILE, ownership_group, ownership_tests, partition_tests, untestable
from rules.promql import matchers
from rules.slo_alerts import alert_group, unreachable_windows
from rules.slo_recordings import meta_group, sli_group

if TYPE_CHECKING:  # the test generators load only with --tests (they import promql_parser)
    from rules.unit_tests import Test

DEFAULT_GRAFANA_URL = "http://grafana:3000"
SELF_FILE = "watchkeeper.rules.yml"


@dataclass
class RuleSet:
    """Rule groups per output file, the promtool tests of each file, and warnings."""

    files: dict[str, list[RuleGroup]] = field(default_factory=dict)
    tests: dict[str, list[Test]] = field(default_factory=dict)
    test_notes: dict[str, list[str]] = field(default_factory=dict)
    """Per test file: SLOs whose tests cannot use raw series, and why (written as comments)."""
    warnings: list[str] = field(default_factory=list)


def self_monitoring_group() -> RuleGroup:
    """The Watchdog heartbeat, and the exporter's own scrape target going down."""
    return RuleGroup(
        "watchkeeper-self",
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
            ),
            Rule(
                alert=names.EXPORTER_DOWN_ALERT,
                expr=f"up{matchers({'job': EXPORTER_JOB})} == 0",
                for_="5m",
                labels={"severity": "warning"},
                annotations={
                    "summary": "A Watchkeeper exporter is down",
                    "description": "Prometheus cannot scrape the Watchkeeper exporter at {{ $labels.instance }}; "
                    "every source it serves is blind.",
                },
            ),
        ],
    )


def _self_tests(group: RuleGroup) -> list[Test]:
    from rules.unit_tests import component_tests

    watchdog, exporter_down = group.rules
    target = {"job": EXPORTER_JOB, "instance": "exporter:9108"}
    scenario = Scenario([Series("up", target, "0x10")], [Series("up", target, "1x10")], target)
    heartbeat: Test = {
        "name": "Watchdog always fires",
        "interval": "1m",
        "input_series": [],
        "alert_rule_test": [
            {
                "eval_time": "0m",
                "alertname": names.WATCHDOG_ALERT,
                "exp_alerts": [{"exp_labels": watchdog.labels, "exp_annotations": watchdog.annotations}],
            }
        ],
    }
    down = ComponentAlert("exporter_down", exporter_down, scenario, Duration.parse("6m"))
    return [heartbeat, *component_tests([down])]


def _raw_sli_untestable(slo: SLO) -> str | None:
    from rules.sli_inputs import raw_sli_untestable

    return raw_sli_untestable(slo)


def generate_rules(
    catalog: Catalog, grafana_url: str = DEFAULT_GRAFANA_URL, with_tests: bool = True
) -> RuleSet:
    """Every rule group for a catalog: per team an SLO file and a component file, plus self-monitoring;
    with `with_tests`, also the promtool tests of each file."""
    with gc_paused():
        return _generate(catalog, grafana_url, with_tests)


def _generate(catalog: Catalog, grafana_url: str, with_tests: bool) -> RuleSet:
    if with_tests:
        from rules.unit_tests import Peer, component_tests, no_data_test, slo_tests
    result = RuleSet()
    for team in catalog.teams:
        slos = [s for s in catalog.slos if catalog.team_of(s.service).name == team.name]
        if not slos:
            continue
        filename = f"slo-{team.name}.rules.yml"
        groups: list[RuleGroup] = []
        alerts: list[Rule] = []
        tests: list[Test] = []
        notes: list[str] = []
        burn = {id(slo): alert_group(slo, catalog, grafana_url) for slo in slos}
        for slo in slos:
            alert = burn[id(slo)]
            groups += [sli_group(slo), meta_group(slo, catalog), alert]
            alerts += alert.rules
            if with_tests:
                peers = [Peer(p, burn[id(p)].rules) for p in slos if p is not slo]
                cases, note = slo_tests(slo, catalog, alert.rules, peers)
                tests += cases
                notes += [note] if note else []
            if slo.sli.kind == "raw" and (reason := _raw_sli_untestable(slo)):
                result.warnings.append(f"SLO {slo.name}: no generated promtool test ({reason})")
            for window in unreachable_windows(slo):
                result.warnings.append(
                    f"SLO {slo.name}: the {window.severity} alert over {window.long}/{window.short} can never "
                    f"fire (threshold {window.factor:g} x {slo.error_budget_ratio:.4g} > 1): its error budget is too "
                    f"large for this burn rate; raise the objective so the budget is below "
                    f"{100 / window.factor:.3g}% (objective above {100 - 100 / window.factor:.4g})"
                )
        result.files[filename] = groups
        if with_tests:
            result.tests[filename] = tests + no_data_test(slos, catalog, alerts)
            result.test_notes[filename] = notes
    result.warnings += uncollected_warnings(catalog)
    components = component_alerts(catalog, grafana_url)
    for owner, component in components.items():
        filename = f"components-{owner}.rules.yml"
        volume = volume_recordings(catalog, owner)  # recorded before the alerts that read them
        result.files[filename] = [*([volume] if volume else []), component_group(owner, component)]
        if with_tests:
            result.tests[filename] = component_tests([a for a in component if not untestable(a)])
            result.warnings += [
                f"{a.rule.alert} for {a.rule.labels.get('service')} on {a.rule.labels.get('source')}: no name "
                "was found that this owner's share selects (a claim that wins nothing, or claims that leave "
                "nothing unclaimed), so its generated tests are skipped"
                for a in component
                if untestable(a)
            ]
            result.tests[filename] += partition_tests(owner, components)  # claims: each part fires once
    ownership = ownership_group(catalog)  # who owns each consumer group, topic, queue and Spark app
    if ownership is not None:
        result.files[OWNERSHIP_FILE] = [ownership]
        if with_tests:
            result.tests[OWNERSHIP_FILE] = ownership_tests(catalog, ownership)
    result.files[SELF_FILE] = [self_monitoring_group()]
    if with_tests:
        result.tests[SELF_FILE] = _self_tests(result.files[SELF_FILE][0])
    return result
