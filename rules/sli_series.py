"""The raw series of an SLI's generated tests, and concrete series from a PromQL selector's matchers:
one that satisfies them all, and variants that violate one matcher each (decoys).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import promql_parser as pp

from rules.promql import matchers
from rules.regex_example import matching, refused

Matcher = tuple[str, str, str]  # label, op (= != =~ !~), value
Selector = tuple[Matcher, ...]  # the metric name is a `__name__` matcher
Query = dict[Selector, int]  # the sum of every matched series' rate, per selector, times a coefficient
SeriesKey = tuple[str, tuple[tuple[str, str], ...]]
MAX_DECOYS = 8


@dataclass(frozen=True)
class RawSeries:
    """One counter: its per-minute increase is `bad` x bad events + `good` x good events + `other`."""

    name: str
    labels: dict[str, str]
    bad: float = 0.0
    good: float = 0.0
    other: float = 0.0
    """Events per minute of something else (a decoy): the SLI must not count them."""

    def text(self) -> str:
        return self.name + (matchers(self.labels) if self.labels else "")


@dataclass(frozen=True)
class RawFeed:
    """The raw series of one SLI; `ratio_sli` for a raw SLI, whose 5m errors are the ratio itself."""

    series: list[RawSeries] = field(default_factory=list)
    ratio_sli: bool = False


class UnsupportedSLIError(Exception):
    """The SLI's queries cannot be fed raw series safely; the message says why."""


def selector_of(text: str) -> Selector:
    """A vector selector's matchers, the metric name as `__name__`; UnsupportedSLIError for values the
    series notation cannot carry."""
    try:
        vs = pp.parse(text)
    except ValueError:  # the parser prints quotes and backslashes in values unescaped
        raise UnsupportedSLIError("label values with quotes or backslashes are not synthesised") from None
    assert isinstance(vs, pp.VectorSelector)
    if any('"' in m.value or "\\" in m.value or "`" in m.value for m in vs.matchers.matchers):
        raise UnsupportedSLIError("label values with quotes or backslashes are not synthesised")
    if vs.matchers.or_matchers:
        raise UnsupportedSLIError("`or` inside a selector is not synthesised")
    ops = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}
    found = [(m.name, ops[str(m.op)], m.value) for m in vs.matchers.matchers]
    if vs.name:
        found.append(("__name__", "=", vs.name))
    return tuple(sorted(found))


def _accepts(op: str, value: str, text: str) -> bool:
    if op == "=":
        return text == value
    if op == "!=":
        return text != value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matched = re.fullmatch(value, text) is not None
    return matched if op == "=~" else not matched


def series_matches(selector: Selector, key: SeriesKey) -> bool:
    """Whether the selector selects the series."""
    labels = {"__name__": key[0], **dict(key[1])}
    return all(_accepts(op, value, labels.get(label, "")) for label, op, value in selector)


def _satisfy(rules: list[tuple[str, str]]) -> str | None:
    """A label value every (op, value) accepts; "" means the label is absent."""
    candidates = [v for op, v in rules if op == "="] + [matching(v) for op, v in rules if op == "=~"]
    for candidate in [*candidates, "200", "0", "x", "other", ""]:
        if candidate is not None and all(_accepts(op, v, candidate) for op, v in rules):
            return candidate
    return None


_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def _key(labels: dict[str, str]) -> SeriesKey | None:
    """The series of these labels; None without a metric name promtool's series notation can write."""
    name = labels.pop("__name__", "")
    if not _METRIC_NAME.fullmatch(name):
        return None
    return name, tuple(sorted((k, v) for k, v in labels.items() if v))


def concrete(selector: Selector) -> SeriesKey | None:
    """One series the selector matches, from its matchers."""
    by_label: dict[str, list[tuple[str, str]]] = {}
    for label, op, value in selector:
        by_label.setdefault(label, []).append((op, value))
    labels = {}
    for label, rules in by_label.items():
        chosen = _satisfy(rules)
        if chosen is None:
            return None
        labels[label] = chosen
    return _key(labels)


def variants(selector: Selector, base: SeriesKey) -> list[SeriesKey]:
    """The base series with one label matcher violated at a time (the metric name kept)."""
    out = []
    for label, op, value in selector:
        if label == "__name__":
            continue
        other = {"=": f"{value}-other" if value else "other", "!=": value}.get(op)
        if op == "=~":
            other = refused(value)
        elif op == "!~":
            other = matching(value)
        if other is None:
            continue
        key = _key({"__name__": base[0], **dict(base[1]), label: other})
        if key is not None and key != base and not series_matches(selector, key):
            out.append(key)
    return out
