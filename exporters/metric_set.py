"""Samples collected from one scrape, grouped into fresh prometheus_client metric families."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

Kind = Literal["gauge", "counter"]


@dataclass
class _Family:
    kind: Kind
    help: str
    labels: tuple[str, ...]
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)


class MetricSet:
    """A builder: `gauge(name, help, labels, value)`; every sample of a name must use the same label names."""

    def __init__(self) -> None:
        self._families: dict[str, _Family] = {}

    def _add(self, kind: Kind, name: str, help: str, labels: dict[str, str], value: float | None) -> None:
        if value is None:
            return
        family = self._families.get(name)
        if family is None:
            family = self._families[name] = _Family(kind, help, tuple(labels))
        elif tuple(labels) != family.labels:
            raise ValueError(f"{name}: labels {tuple(labels)} differ from {family.labels}")
        family.samples.append((tuple(labels.values()), float(value)))

    def gauge(self, name: str, help: str, labels: dict[str, str], value: float | None) -> None:
        self._add("gauge", name, help, labels, value)

    def counter(self, name: str, help: str, labels: dict[str, str], value: float | None) -> None:
        """`name` without `_total`; prometheus_client adds it."""
        self._add("counter", name, help, labels, value)

    def merge(self, other: MetricSet) -> None:
        for name, family in other._families.items():
            for labels, value in family.samples:
                self._add(
                    family.kind, name, family.help, dict(zip(family.labels, labels, strict=True)), value
                )

    def families(self) -> Iterable[Metric]:
        for name, family in self._families.items():
            metric: GaugeMetricFamily | CounterMetricFamily
            if family.kind == "counter":
                metric = CounterMetricFamily(name, family.help, labels=family.labels)
            else:
                metric = GaugeMetricFamily(name, family.help, labels=family.labels)
            for labels, value in family.samples:
                metric.add_metric(list(labels), value)
            yield metric

    def value(self, name: str, **labels: str) -> float | None:
        """The value of one sample, for tests and logs; None if absent."""
        family = self._families.get(name)
        if family is None:
            return None
        for values, value in family.samples:
            if all(dict(zip(family.labels, values, strict=True)).get(k) == v for k, v in labels.items()):
                return value
        return None


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
