"""Samples collected from one scrape, grouped into metric families, and the fast exposition writers.

`text()` writes the Prometheus text format 0.0.4 and `openmetrics()` OpenMetrics 1.0 directly
(prometheus_client's writers cost ~10 us a sample); `families()` gives prometheus_client families for
its own writers. A registered name (`exporters.names`) takes its HELP and UNIT from the registry.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import utils as _client_utils
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from exporters.names import METRICS

Kind = Literal["gauge", "counter", "histogram"]


@dataclass
class _Family:
    kind: Kind
    help: str
    labels: tuple[str, ...]
    unit: str = ""
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)


class MetricSet:
    """A builder: `gauge(name, help, labels, value)`; every sample of a name must use the same label names.

    With `max_series`, samples past that many are not kept but counted in `dropped` (a cardinality guard:
    the first ones added, such as a NameNode's own series before its per-DataNode detail, are kept).
    """

    def __init__(self, max_series: int | None = None) -> None:
        self._families: dict[str, _Family] = {}
        self.max_series = max_series
        self._room = sys.maxsize if max_series is None else max_series
        self.dropped = 0

    @property
    def room(self) -> int | None:
        """Samples that can still be added; None without a cap."""
        return None if self.max_series is None else self._room

    def _add(self, kind: Kind, name: str, help: str, labels: dict[str, str], value: float | None) -> None:
        if value is not None:
            self.add(kind, name, help, tuple(labels), tuple(labels.values()), value)

    def add(
        self, kind: Kind, name: str, help: str, names: tuple[str, ...], values: tuple[str, ...], value: float
    ) -> None:
        """The fast path: label names and values as tuples (no dict per sample).

        A counter sample that is NaN or negative is not a counter value (OpenMetrics forbids it): dropped.
        """
        if kind == "counter" and not value >= 0:
            return
        if self._room <= 0:
            self.dropped += 1
            return
        family = self._families.get(name)
        if family is None:
            info = METRICS.get(name)
            family = self._families[name] = (
                _Family(kind, info.help, names, info.unit) if info else _Family(kind, help, names)
            )
        elif names != family.labels:
            raise ValueError(f"{name}: labels {names} differ from {family.labels}")
        family.samples.append((values, float(value)))
        self._room -= 1

    def gauge(self, name: str, help: str, labels: dict[str, str], value: float | None) -> None:
        self._add("gauge", name, help, labels, value)

    def counter(self, name: str, help: str, labels: dict[str, str], value: float | None) -> None:
        """`name` without `_total`; prometheus_client adds it."""
        self._add("counter", name, help, labels, value)

    def histogram(
        self, name: str, help: str, labels: dict[str, str], buckets: list[tuple[float, float]], total: float
    ) -> None:
        """One histogram series: cumulative `(upper bound, count)` pairs, the last one +Inf, and the sum.

        Its `_bucket`, `_sum` and `_count` samples are kept whole or not at all (under `max_series`). A
        sample's label values end with its suffix and its `le` ("" for `_sum` and `_count`)."""
        if not buckets or buckets[-1][0] != math.inf:
            raise ValueError(f"{name}: a histogram's last bucket must be +Inf")
        names = tuple(labels)
        family = self._families.get(name)
        if family is not None and (family.kind != "histogram" or family.labels != names):
            raise ValueError(f"{name}: labels {names} differ from {family.labels}")
        if len(buckets) + 2 > self._room:
            self.dropped += len(buckets) + 2
            return
        if family is None:
            info = METRICS.get(name)
            family = self._families[name] = _Family("histogram", info.help if info else help, names)
            family.unit = info.unit if info else ""
        values = tuple(labels.values())
        family.samples += [((*values, "_bucket", _le(le)), float(n)) for le, n in buckets]
        family.samples += [
            ((*values, "_sum", ""), float(total)),
            ((*values, "_count", ""), float(buckets[-1][1])),
        ]
        self._room -= len(buckets) + 2

    def merge(self, other: MetricSet) -> None:
        """Add another set's samples (a list extend per family: this is on every scrape's path), within
        this set's cap; what the other set dropped counts as dropped here too."""
        self.dropped += other.dropped
        for name, family in other._families.items():
            mine = self._families.get(name)
            if mine is not None and mine.labels != family.labels:
                raise ValueError(f"{name}: labels {family.labels} differ from {mine.labels}")
            samples = family.samples
            if len(samples) > self._room:
                kept = max(self._room, 0)
                cut = samples[:kept] if family.kind != "histogram" else _whole_series(samples, kept)
                self.dropped += len(samples) - len(cut)
                samples = cut
            self._room -= len(samples)
            if mine is None:
                self._families[name] = _Family(
                    family.kind, family.help, family.labels, family.unit, list(samples)
                )
            else:
                mine.samples.extend(samples)

    def size(self) -> int:
        """The number of samples held."""
        return sum(len(family.samples) for family in self._families.values())

    def families(self) -> Iterable[Metric]:
        for name, family in self._families.items():
            metric: GaugeMetricFamily | CounterMetricFamily
            if family.kind == "histogram":
                yield _histogram_family(name, family)
                continue
            if family.kind == "counter":
                metric = CounterMetricFamily(name, family.help, labels=family.labels, unit=family.unit)
            else:
                metric = GaugeMetricFamily(name, family.help, labels=family.labels, unit=family.unit)
            for labels, value in family.samples:
                metric.add_metric(list(labels), value)
            yield metric

    def text(self) -> str:
        """Prometheus text format 0.0.4: a counter's metadata and samples carry `_total`."""
        return self._write(openmetrics=False)

    def openmetrics(self) -> str:
        """OpenMetrics 1.0: a counter's metadata names the family (no `_total`), its samples carry
        `_total`; `# UNIT` for a name ending in its unit; HELP escapes `"` too; `# EOF` ends it."""
        return self._write(openmetrics=True)

    def _write(self, openmetrics: bool) -> str:
        lines: list[str] = []
        for name, family in self._families.items():
            exposed = f"{name}_total" if family.kind == "counter" else name
            meta = name if openmetrics else exposed
            lines.append(f"# HELP {meta} {_escape_help(family.help, openmetrics)}")
            lines.append(f"# TYPE {meta} {family.kind}")
            if openmetrics and family.unit:
                lines.append(f"# UNIT {meta} {family.unit}")
            if family.kind == "histogram":
                lines += _histogram_lines(name, family)
                continue
            if not family.labels:
                lines += [f"{exposed} {_format(v)}" for _, v in family.samples]
                continue
            template = exposed + "{" + ",".join(f'{k}="%s"' for k in family.labels) + "} "
            for values, value in family.samples:
                safe = tuple(_escape_label(v) for v in values) if _NEEDS_ESCAPE(" ".join(values)) else values
                lines.append(template % safe + _format(value))
        lines.append("# EOF\n" if openmetrics else "")
        return "\n".join(lines)

    def value(self, name: str, **labels: str) -> float | None:
        """The value of one sample, for tests and logs; None if absent."""
        family = self._families.get(name)
        if family is None:
            return None
        for values, value in family.samples:
            if all(dict(zip(family.labels, values, strict=True)).get(k) == v for k, v in labels.items()):
                return value
        return None


_le: Callable[[float], str] = _client_utils.floatToGoString
"""A bucket bound as prometheus_client writes `le` (`0.005`, `1.0`, `+Inf`)."""
_NEEDS_ESCAPE = re.compile(r'[\\"\n]').search


_Samples = list[tuple[tuple[str, ...], float]]


def _whole_series(samples: _Samples, room: int) -> _Samples:
    """A histogram's first samples that fit in `room`, cut after a series' last sample (its `_count`)."""
    ends = [i for i, (values, _) in enumerate(samples[: max(room, 0)]) if values[-2] == "_count"]
    return samples[: ends[-1] + 1] if ends else []


def _histogram_lines(name: str, family: _Family) -> list[str]:
    """A histogram family's sample lines: label values, then `le` on the buckets."""
    out = []
    for values, value in family.samples:
        *labels, suffix, le = values
        pairs = [*zip(family.labels, labels, strict=True), *([("le", le)] if le else [])]
        inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in pairs)
        head = f"{name}{suffix}{{{inner}}}" if inner else f"{name}{suffix}"
        out.append(f"{head} {_format(value)}")
    return out


def _histogram_family(name: str, family: _Family) -> HistogramMetricFamily:
    """prometheus_client's family for a histogram held as samples (`_histogram_lines` has the layout)."""
    metric = HistogramMetricFamily(name, family.help, labels=family.labels, unit=family.unit)
    buckets: list[tuple[str, float]] = []
    for values, value in family.samples:
        *labels, suffix, le = values
        if suffix == "_bucket":
            buckets.append((le, value))
        elif suffix == "_sum":
            metric.add_metric(labels, buckets, value)
            buckets = []
    return metric


def _escape_label(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return value


def _escape_help(text: str, openmetrics: bool) -> str:
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
    return escaped.replace('"', '\\"') if openmetrics else escaped


def _format(value: float) -> str:
    if math.isfinite(value):
        return repr(value)
    if math.isnan(value):
        return "NaN"
    return "+Inf" if value > 0 else "-Inf"


def number(value: object) -> float | None:
    """A JMX/REST field as a float: None for missing, null, non-numeric or NaN text."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if not math.isnan(float(value)) else None
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return None if math.isnan(parsed) else parsed
    return None
