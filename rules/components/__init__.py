"""Component alerts for every source kind, each with the synthetic series that prove it fires and stays silent.

One module per source kind builds its drafts (`hdfs`, `yarn`, `spark`, `kafka`, `freshness`,
`inference`, `drift`); `common` holds what they share. Defaults come from `catalog.alert_defaults`; a
source's `alerts:` block overrides them. Every alert carries `team`, `service`, `tier`, `component` and
`source`, so Alertmanager routes it to the owner.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from catalog.claims import ClaimIndex
from catalog.links import component_url
from catalog.model import Catalog
from catalog.model.alerts import HasAlerts
from exporters.sources import COLLECTED, uncollected
from rules.components.common import ComponentAlert, Draft, Scenario, Series, component_group, finish
from rules.components.drift import drift_drafts
from rules.components.freshness import freshness_drafts
from rules.components.hdfs import hdfs_drafts
from rules.components.inference import inference_drafts
from rules.components.kafka import kafka_drafts
from rules.components.spark import spark_drafts
from rules.components.yarn import yarn_drafts
from rules.ownership import Claimable, Item, Part, parts

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
    kinds: Collection[str] = COLLECTED,
) -> dict[str, list[ComponentAlert]]:
    """Component alerts per team, in catalog order, for the sources of `kinds` (default: the kinds the
    exporter collects; an uncollected source would only ever fire WatchkeeperSourceAbsent) and drift.
    Each alert's `dashboard_url` opens its kind's component dashboard with the source selected (and a
    claim's part, when the claim names one literally)."""
    entries: list[tuple[HasAlerts, str, str, str, Sequence[Item]]] = []
    src = catalog.sources
    entries += [(s, "hdfs", s.name, s.service, hdfs_drafts(s)) for s in src.hdfs]
    entries += [(s, "yarn", s.name, s.service, yarn_drafts(s)) for s in src.yarn]
    entries += [(s, "spark", s.name, s.service, spark_drafts(s)) for s in src.spark]
    entries += [(s, "kafka", s.name, s.service, kafka_drafts(s)) for s in src.kafka]
    entries += [(s, "freshness", s.dataset, s.service, freshness_drafts(s)) for s in src.freshness]
    entries += [(s, "inference", s.name, s.service, inference_drafts(s)) for s in src.inference]
    entries = [e for e in entries if e[1] in kinds]
    entries += [(d, "drift", d.name, d.service, drift_drafts(d)) for d in catalog.drift]
    out: dict[str, list[ComponentAlert]] = {}
    claims = ClaimIndex.of(catalog)
    for entry, kind, name, service, drafts in entries:
        # A claimable alert becomes one alert per claim, owned by the claiming service (rules/ownership.py).
        for draft, owner, part in _expand(drafts, claims, name, service):
            svc = catalog.service(owner)
            claim = part.claim if part is not None else None
            # A literal claim names its part (a queue claim names a subtree: its source alone is selected).
            named = claim is not None and claim.literal and claim.kind != "yarn_queue"
            literal = claim.pattern if claim is not None and named else ""
            dashboard = component_url(grafana_url, kind, name, claim.kind if claim else "", literal)
            runbook = svc.runbook or dashboard
            done = finish(draft, entry, kind, name, owner, catalog, runbook, dashboard)
            if done is not None:
                out.setdefault(svc.team, []).append(done)
    return out


def _expand(
    items: Sequence[Item], index: ClaimIndex, source: str, service: str
) -> list[tuple[Draft, str, Part | None]]:
    """`rules.ownership.expand`, keeping each claimable draft's part (its dashboard link selects it)."""
    out: list[tuple[Draft, str, Part | None]] = []
    for item in items:
        if isinstance(item, Claimable):
            for part in parts(index, item.kind, source):
                out.append((item.build(part), part.claim.service if part.claim else service, part))
        else:
            out.append((item, service, None))
    return out


def uncollected_warnings(catalog: Catalog) -> list[str]:
    """One warning per source kind that the catalog lists but the exporter cannot collect yet."""
    return [
        f"{kind} sources {', '.join(names)}: no component alerts generated, because the exporter has no "
        f"{kind} collector yet (they would only ever fire WatchkeeperSourceAbsent)"
        for kind, names in uncollected(catalog).items()
    ]
