"""Component alerts for every source kind, each with the synthetic series that prove it fires and stays silent.

One module per source kind builds its drafts (`hdfs`, `yarn`, `spark`, `kafka`, `freshness`,
`inference`, `drift`); `common` holds what they share. Defaults come from `catalog.alert_defaults`; a
source's `alerts:` block overrides them. Every alert carries `team`, `service`, `tier`, `component` and
`source`, so Alertmanager routes it to the owner.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from catalog.model import Catalog, HasAlerts
from exporters.sources import COLLECTED, uncollected
from rules.components.common import ComponentAlert, Draft, Scenario, Series, component_group, finish
from rules.components.drift import drift_drafts
from rules.components.freshness import freshness_drafts
from rules.components.hdfs import hdfs_drafts
from rules.components.inference import inference_drafts
from rules.components.kafka import kafka_drafts
from rules.components.spark import spark_drafts
from rules.components.yarn import yarn_drafts

__all__ = [
    "ComponentAlert",
    "Scenario",
    "Series",
    "component_alerts",
    "component_group",
    "uncollected_warnings",
]


def component_alerts(
    catalog: Catalog,
    grafana_url: str,
    dashboard_uid: Callable[[str], str],
    kinds: Collection[str] = COLLECTED,
) -> dict[str, list[ComponentAlert]]:
    """Component alerts per team, in catalog order, for the sources of `kinds` (default: the kinds the
    exporter collects; an uncollected source would only ever fire WatchkeeperSourceAbsent) and drift."""
    entries: list[tuple[HasAlerts, str, str, str, list[Draft]]] = []
    src = catalog.sources
    entries += [(s, "hdfs", s.name, s.service, hdfs_drafts(s)) for s in src.hdfs]
    entries += [(s, "yarn", s.name, s.service, yarn_drafts(s)) for s in src.yarn]
    entries += [(s, "spark", s.name, s.service, spark_drafts(s)) for s in src.spark]
    entries += [(s, "kafka", s.name, s.service, kafka_drafts(s)) for s in src.kafka]
    entries += [(s, "freshness", s.dataset, s.service, freshness_drafts(s)) for s in src.freshness]
    entries += [(s, "inference", s.name, s.service, inference_drafts(s)) for s in src.inference]
    entries = [e for e in entries if e[1] in kinds]
    entries += [(d, "drift", d.name, d.service, drift_drafts(d)) for d in catalog.drift]
    base = grafana_url.rstrip("/")
    out: dict[str, list[ComponentAlert]] = {}
    for entry, kind, name, service, drafts in entries:
        svc = catalog.service(service)
        dashboard = f"{base}/d/{dashboard_uid(service)}"
        runbook = svc.runbook or dashboard
        for draft in drafts:
            done = finish(draft, entry, kind, name, service, catalog, runbook, dashboard)
            if done is not None:
                out.setdefault(svc.team, []).append(done)
    return out


def uncollected_warnings(catalog: Catalog) -> list[str]:
    """One warning per source kind that the catalog lists but the exporter cannot collect yet."""
    return [
        f"{kind} sources {', '.join(names)}: no component alerts generated, because the exporter has no "
        f"{kind} collector yet (they would only ever fire WatchkeeperSourceAbsent)"
        for kind, names in uncollected(catalog).items()
    ]
