"""Build the exporter's sources from the catalog, optionally only some kinds."""

from __future__ import annotations

from catalog.model import Catalog
from exporters.hdfs import HdfsCollector
from exporters.runtime import Source
from exporters.spark import SparkCollector
from exporters.yarn import YarnCollector

IMPLEMENTED = ("hdfs", "yarn", "spark", "kafka")
"""Source kinds the exporter collects; freshness and inference are planned."""


def build_sources(catalog: Catalog, only: set[str] | None = None) -> tuple[list[Source], list[str]]:
    """The collectors for the catalog's sources, and notes on sources that are not collected."""
    wanted = only or set(IMPLEMENTED)
    src = catalog.sources
    sources: list[Source] = []
    if "hdfs" in wanted:
        sources += [HdfsCollector(s) for s in src.hdfs]
    if "yarn" in wanted:
        sources += [YarnCollector(s) for s in src.yarn]
    if "spark" in wanted:
        sources += [SparkCollector(s) for s in src.spark]
    if "kafka" in wanted:
        from exporters.kafka_lag import KafkaCollector

        sources += [KafkaCollector(s) for s in src.kafka]
    notes = []
    for kind in ("freshness", "inference"):
        entries = getattr(src, kind)
        if entries and kind in wanted:
            notes.append(
                f"{len(entries)} {kind} source(s) in the catalog are not collected yet by this exporter"
            )
    return sources, notes
