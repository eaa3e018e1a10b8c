"""The entries read from a catalog's files, valid or not, by section, each with its origin (file,
YAML path, line) so that a problem found later points at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from catalog.errors import Problem
from catalog.model.kafka import KafkaSource
from catalog.suggest import NameIndex
from catalog.yaml_source import PathKey, YamlDocument


@dataclass
class Origin:
    """Where a validated entry came from, for cross-reference errors."""

    doc: YamlDocument
    key: PathKey
    label: str

    def problem(
        self, message: str, sub: PathKey = (), level: Literal["error", "warning"] = "error"
    ) -> Problem:
        path = self.label + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in sub)
        return Problem(self.doc.file, path, message, line=self.doc.line_of((*self.key, *sub)), level=level)


@dataclass
class Collected:
    """What the first pass read: valid entries and raw mappings per section (`sources.kafka`, ...)."""

    entries: dict[str, list[tuple[Any, Origin]]] = field(default_factory=dict)
    raw: dict[str, list[tuple[dict[str, Any], Origin]]] = field(default_factory=dict)
    name_index: dict[str, NameIndex] = field(default_factory=dict)
    kafka_index: dict[str, KafkaSource] | None = None

    def add(self, section: str, entry: Any, origin: Origin) -> None:
        self.entries.setdefault(section, []).append((entry, origin))

    def get(self, section: str) -> list[tuple[Any, Origin]]:
        return self.entries.get(section, [])

    def raw_entries(self, section: str) -> list[tuple[dict[str, Any], Origin]]:
        """Every mapping entry of a section, valid or not, so one bad entry does not hide others' errors."""
        return self.raw.get(section, [])

    def names(self, section: str) -> NameIndex:
        """The names defined in a section (built once: the cross-check asks for them per entry)."""
        if section not in self.name_index:
            key = "dataset" if section == "sources.freshness" else "name"
            self.name_index[section] = NameIndex(
                r[key] for r, _ in self.raw_entries(section) if isinstance(r.get(key), str)
            )
        return self.name_index[section]

    def kafka_sources(self) -> dict[str, KafkaSource]:
        """The valid kafka sources by name (built once)."""
        if self.kafka_index is None:
            self.kafka_index = {k.name: k for k, _ in self.get("sources.kafka")}
        return self.kafka_index
