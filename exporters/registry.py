"""The metric registry behind the names modules: each metric's name, type, label names and help, once.

`Section.metric(...)` returns the name, so a names module's constants stay plain strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

MetricKind = Literal["gauge", "counter", "histogram"]
UNITS = ("seconds", "bytes", "ratio")
"""Base units a name may end with; OpenMetrics' `# UNIT` is written for these (and only these)."""
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_PLACEHOLDER = re.compile(r"<[a-z_]+>")


@dataclass(frozen=True)
class MetricInfo:
    """One metric family: its name (a counter's without `_total`), type, label names and help."""

    name: str
    kind: MetricKind
    labels: tuple[str, ...]
    help: str

    @property
    def unit(self) -> str:
        """The OpenMetrics unit: the name's suffix when it is a base unit, else empty."""
        return next((u for u in UNITS if self.name.endswith(f"_{u}")), "")

    @property
    def samples(self) -> tuple[str, ...]:
        """The sample names a scrape shows."""
        if self.kind == "counter":
            return (f"{self.name}_total",)
        if self.kind == "histogram":
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        return (self.name,)


@dataclass
class Section:
    """A group of metrics in the reference (one source kind, the runtime, the drift jobs)."""

    title: str
    text: str
    module: str = ""
    """The dotted module that registers it (`__name__`), for the reference's "Defined in"."""
    metrics: list[MetricInfo] = field(default_factory=list)

    def metric(self, name: str, kind: MetricKind, labels: tuple[str, ...], help: str) -> str:
        """Register a metric and return its name. A name may hold a placeholder such as `<window>`
        when it stands for a family of names (one per window): only the reference uses those."""
        if not _NAME.fullmatch(_PLACEHOLDER.sub("x", name)) or name.endswith("_total"):
            raise ValueError(f"{name!r}: not a metric name (a counter is registered without _total)")
        if not help or "\n" in help or not all(_LABEL.fullmatch(label) for label in labels):
            raise ValueError(f"{name}: needs one line of help and valid label names")
        if len(set(labels)) != len(labels):
            raise ValueError(f"{name}: repeated label names {labels}")
        self.metrics.append(MetricInfo(name, kind, labels, help))
        return name


@dataclass
class Registry:
    """The sections of one names module, in order."""

    sections: list[Section] = field(default_factory=list)

    def section(self, title: str, text: str, module: str = "") -> Section:
        self.sections.append(Section(title, text, module))
        return self.sections[-1]

    def by_name(self) -> dict[str, MetricInfo]:
        found: dict[str, MetricInfo] = {}
        for info in (i for s in self.sections for i in s.metrics):
            if info.name in found:
                raise ValueError(f"{info.name} is registered twice")
            found[info.name] = info
        return found
