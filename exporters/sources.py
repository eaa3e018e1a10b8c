"""The source kinds the exporter collects (one list, read by the exporter, `--only` and the rules generator),
and building the exporter's sources from the catalog."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from exporters.errors import ConfigError
from exporters.secrets import collecting, startup_error

if TYPE_CHECKING:  # the collectors (and prometheus_client) load only when the exporter builds them
    from catalog.model import Catalog
    from exporters.runtime import Source

COLLECTORS: dict[str, str] = {
    "hdfs": "exporters.hdfs:HdfsCollector",
    "yarn": "exporters.yarn:YarnCollector",
    "spark": "exporters.spark:SparkCollector",
    "kafka": "exporters.kafka_lag:KafkaCollector",
    "freshness": "exporters.freshness:FreshnessCollector",
    "inference": "exporters.inference:InferenceCollector",
}
"""Source kind -> its collector class (imported only when used). Adding a kind is one line here."""

COLLECTED: tuple[str, ...] = tuple(COLLECTORS)
"""Source kinds the exporter collects. A catalog kind not listed here gets no component alerts from the
rules generator, and the exporter warns about its sources at start-up."""
IMPLEMENTED = COLLECTED  # the former name


def catalog_kinds() -> tuple[str, ...]:
    """Every source kind the catalog accepts (the fields of `sources:`)."""
    from catalog.model.sources import Sources

    return tuple(Sources.model_fields)


def uncollected(catalog: Catalog) -> dict[str, list[str]]:
    """Kind -> names of the catalog's sources of a kind that no collector serves, in catalog order."""
    found: dict[str, list[str]] = {}
    for kind in catalog_kinds():
        entries: list[Any] = getattr(catalog.sources, kind)
        if entries and kind not in COLLECTORS:
            found[kind] = [str(entry.name) for entry in entries]
    return found


def _collector(kind: str) -> Any:
    module, _, name = COLLECTORS[kind].partition(":")
    return getattr(import_module(module), name)


def build_sources(catalog: Catalog, only: set[str] | None = None) -> tuple[list[Source], list[str]]:
    """The collectors for the catalog's sources, and warnings naming the sources nothing collects.

    Each collector reads its secrets as it is built (`exporters.secrets.read_secret`). Every missing or
    empty variable and unreadable or empty file, of every source, is raised at once as one ConfigError."""
    wanted = only or set(COLLECTED)
    sources: list[Source] = []
    with collecting() as problems:
        for kind in COLLECTED:
            if kind in wanted:
                collector = _collector(kind)
                for entry in getattr(catalog.sources, kind):
                    try:
                        sources.append(collector(entry))
                    except ConfigError as exc:  # another start-up problem: listed with the others
                        problems.append(str(exc))
    if problems:
        for source in sources:
            source.stop()
        raise startup_error(problems)
    notes = [
        f"{len(names)} {kind} source(s) in the catalog are not collected: this exporter has no {kind} "
        f"collector yet, so they export nothing and get no component alerts: {', '.join(names)}"
        for kind, names in uncollected(catalog).items()
    ]
    return sources, notes
