"""What the catalog says a service or team owns, as dashboards need it: sources by kind and their `up` series."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.links import component_variable
from catalog.model import Catalog
from exporters import names as m

KINDS = ("hdfs", "yarn", "spark", "kafka", "freshness", "inference", "drift")
"""Component dashboard kinds, in the order the dashboards list them."""
PREFIX = {
    "hdfs": m.HDFS_PREFIX,
    "yarn": m.YARN_PREFIX,
    "spark": m.SPARK_PREFIX,
    "kafka": m.KAFKA_PREFIX,
    "freshness": m.FRESHNESS_PREFIX,
    "inference": m.INFERENCE_PREFIX,
}
"""The exporter prefix of each collected kind (drift is pushed by its jobs, not collected)."""
TITLE = {
    "hdfs": "HDFS",
    "yarn": "YARN",
    "spark": "Spark",
    "kafka": "Kafka consumer lag",
    "freshness": "Freshness and volume",
    "inference": "Inference",
    "drift": "Drift",
}


@dataclass(frozen=True)
class Part:
    """One catalog source or drift monitor: its kind, name (a dataset's name for freshness) and service."""

    kind: str
    name: str
    service: str


def parts(catalog: Catalog) -> list[Part]:
    """Every source and drift monitor, in catalog order by kind."""
    src = catalog.sources
    found = [Part("hdfs", s.name, s.service) for s in src.hdfs]
    found += [Part("yarn", s.name, s.service) for s in src.yarn]
    found += [Part("spark", s.name, s.service) for s in src.spark]
    found += [Part("kafka", s.name, s.service) for s in src.kafka]
    found += [Part("freshness", s.dataset, s.service) for s in src.freshness]
    found += [Part("inference", s.name, s.service) for s in src.inference]
    found += [Part("drift", d.name, d.service) for d in catalog.drift]
    return found


def kinds_present(catalog: Catalog) -> list[str]:
    """The kinds with at least one source or monitor, in `KINDS` order."""
    present = {p.kind for p in parts(catalog)}
    return [k for k in KINDS if k in present]


def variable(kind: str) -> str:
    """The variable that selects one source of `kind` on its component dashboard."""
    return component_variable(kind)
