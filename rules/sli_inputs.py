"""Raw SLI series for the generated promtool tests: counters as an application exposes them.

The tests feed these instead of the recorded 5m rates, so the SLI translation (rules/sli.py) is tested
too. A latency SLI gets its histogram's `_bucket{le=...}` and `_count` counters. An events SLI's PromQL
is parsed with promql_parser: each query must be a sum (or `+`/`-` of sums) of `rate(selector[window])`;
one concrete series is built per selector from its matchers, and bad and good events are spread over
them so that the user's own queries read the intended error and total rates. Decoys (a selector with
one matcher violated) carry traffic the SLI must not count, so a dropped matcher changes the ratio.
Where that is impossible, `raw_feed` returns the reason instead.
"""

from __future__ import annotations

import itertools
import re
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from typing import Any

import promql_parser as pp

from catalog.model import SLO, LatencySLI
from rules.promql import fill, go_float, matchers
from rules.regex_example import matching, refused
from rules.sli import FIVE_MINUTES

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


def raw_feed(slo: SLO) -> RawFeed:
    """The raw series for an events, latency or raw SLI; raises UnsupportedSLIError with the reason."""
    sli = slo.sli
    if sli.latency is not None:
        return RawFeed(_histogram(sli.latency))
    if sli.events is not None:
        total = _query(sli.events.total)
        if sli.events.errors is not None:
            return RawFeed(_events(_query(sli.events.errors, zero_ok=True), total, errors_form=True))
        return RawFeed(_events(_query(sli.events.good or "", zero_ok=True), total, errors_form=False))
    if sli.raw is not None:
        expr = _parse(sli.raw.error_ratio)
        while isinstance(expr, pp.ParenExpr):
            expr = expr.expr
        if not (isinstance(expr, pp.BinaryExpr) and str(expr.op) == "/" and expr.modifier is None):
            raise UnsupportedSLIError(
                "a raw error_ratio is synthesised only as `errors / total` of summed rates"
            )
        errors = _linear(expr.lhs, zero_ok=True)
        return RawFeed(_events(errors, _linear(expr.rhs), errors_form=True), ratio_sli=True)
    raise UnsupportedSLIError(f"a {sli.kind} SLI is fed its exporter series")


def raw_sli_untestable(slo: SLO) -> str | None:
    """Why a raw SLI gets no generated test, or None if it is fed raw series."""
    try:
        raw_feed(slo)
    except UnsupportedSLIError as exc:
        return str(exc)
    return None


# --- latency ---------------------------------------------------------------------------------------


def _histogram(lat: LatencySLI) -> list[RawSeries]:
    """Buckets and count of the histogram. Good events: half at the bound below `le` (if any), half just
    under `le`; bad ones: a quarter under the next bound, the rest only in +Inf. So a wrong `le` reads
    another ratio. Decoy histograms (a selector matcher violated) hold half fast, half slow requests."""
    bounds = list(lat.buckets or [lat.le / 2, lat.le, lat.le * 2])
    if not any(abs(b - lat.le) <= 1e-9 * lat.le for b in bounds):
        bounds = sorted([*bounds, lat.le])
    below = [b for b in bounds if b < lat.le]
    above = [b for b in bounds if b > lat.le]
    selector = _selector_of(f"{lat.histogram}_count{lat.selector}")
    base = _concrete(selector)
    if base is None:
        raise UnsupportedSLIError(f"no label values satisfy the selector {lat.selector}")

    def good(bound: float) -> float:
        return 1.0 if bound >= lat.le * (1 - 1e-9) else 0.5 if below and bound >= below[-1] else 0.0

    def bad(bound: float) -> float:
        return 0.25 if above and bound >= above[0] else 0.0

    def histogram(labels: dict[str, str], decoy: float = 0.0) -> list[RawSeries]:
        out = [
            RawSeries(
                f"{lat.histogram}_bucket",
                {**labels, "le": go_float(b)},
                0.0 if decoy else bad(b),
                0.0 if decoy else good(b),
                decoy / 2,
            )
            for b in bounds
        ]
        inf = (0.0, 0.0, decoy) if decoy else (1.0, 1.0, 0.0)
        out.append(RawSeries(f"{lat.histogram}_bucket", {**labels, "le": "+Inf"}, *inf))
        out.append(RawSeries(f"{lat.histogram}_count", labels, *inf))
        return out

    series = histogram(dict(base[1]))
    for variant in _variants(selector, base)[:MAX_DECOYS]:
        series += histogram(dict(variant[1]), decoy=1.0)
    return series


# --- events ----------------------------------------------------------------------------------------


def _parse(template: str) -> pp.Expr:
    try:
        return pp.parse(fill(template, FIVE_MINUTES))
    except (ValueError, RuntimeError) as exc:
        raise UnsupportedSLIError(f"promql_parser cannot parse the query: {exc}") from None


def _query(template: str, zero_ok: bool = False) -> Query:
    return _linear(_parse(template), zero_ok)


def _is_zero_vector(expr: pp.Expr) -> bool:
    while isinstance(expr, pp.ParenExpr):
        expr = expr.expr
    if not (isinstance(expr, pp.Call) and expr.func.name == "vector" and len(expr.args) == 1):
        return False
    arg = expr.args[0]
    return type(arg).__name__ == "NumberLiteral" and arg.val == 0


def _linear(expr: pp.Expr, zero_ok: bool = False) -> Query:
    """A query as a sum of per-selector rates: `sum(rate(s[5m]))`, `(...)`, and `+`/`-` of those; with
    `zero_ok` also `... or vector(0)` (an errors or good query: the raw series keep the sum present from
    the first rate on, so the 0 shows only at minute 0, where the total is absent and the SLI reads no
    ratio; the recordings and the simulation agree there)."""
    if isinstance(expr, pp.ParenExpr):
        return _linear(expr.expr, zero_ok)
    if (
        zero_ok
        and isinstance(expr, pp.BinaryExpr)
        and str(expr.op) == "or"
        and _is_zero_vector(expr.rhs)  # the left side is a sum without labels: any on()/ignoring() matches
    ):
        return _linear(expr.lhs)
    if isinstance(expr, pp.AggregateExpr):
        modifier = expr.modifier
        grouped = modifier is not None and (modifier.type != pp.AggModifierType.By or modifier.labels)
        if str(expr.op) != "sum" or expr.param is not None or grouped:
            raise UnsupportedSLIError(f"only a plain sum(...) of rates is synthesised, not {expr}")
        inner = expr.expr
        while isinstance(inner, pp.ParenExpr):
            inner = inner.expr
        return _linear(inner) if isinstance(inner, pp.AggregateExpr) else _rates(inner)
    if isinstance(expr, pp.BinaryExpr) and str(expr.op) in {"+", "-"} and expr.modifier is None:
        sign = 1 if str(expr.op) == "+" else -1
        out = dict(_linear(expr.lhs))
        for key, coefficient in _linear(expr.rhs).items():
            out[key] = out.get(key, 0) + sign * coefficient
        return out
    raise UnsupportedSLIError(f"only sums of rate(...) are synthesised, not {expr}")


def _rates(expr: pp.Expr) -> Query:
    if isinstance(expr, pp.Call) and expr.func.name == "rate" and isinstance(expr.args[0], pp.MatrixSelector):
        matrix = expr.args[0]
        vs = matrix.vector_selector
        if matrix.range != timedelta(minutes=5) or vs.offset is not None or vs.at is not None:
            raise UnsupportedSLIError(
                "a rate over a fixed range, offset or @ differs from the 5m rate simulated"
            )
        return {_selector_of(str(vs)): 1}
    raise UnsupportedSLIError(f"only rate(selector[{{{{window}}}}]) is synthesised inside sum(), not {expr}")


def _selector_of(text: str) -> Selector:
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


def _matches(selector: Selector, key: SeriesKey) -> bool:
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


def _concrete(selector: Selector) -> SeriesKey | None:
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


def _variants(selector: Selector, base: SeriesKey) -> list[SeriesKey]:
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
        if key is not None and key != base and not _matches(selector, key):
            out.append(key)
    return out


def _events(first: Query, total: Query, errors_form: bool) -> list[RawSeries]:
    """Bad and good weights per series so that `first` reads the errors (or the good events) and
    `total` all events; decoys that no query matches carry other traffic."""
    selectors = list(dict.fromkeys([*first, *total]))
    bases = {s: _concrete(s) for s in selectors}
    if any(b is None for b in bases.values()):
        raise UnsupportedSLIError("no label values satisfy one of the selectors")
    found = {s: b for s, b in bases.items() if b is not None}
    # Order matters to `_solve`: the first query's series, then their variants (the good series look like
    # the bad ones with another code), then the total's own series.
    pool = list(
        dict.fromkeys(
            [found[s] for s in first]
            + [v for s in selectors for v in _variants(s, found[s])]
            + [found[s] for s in total]
        )
    )

    def reads(query: Query, key: SeriesKey) -> int:
        return sum(c for s, c in query.items() if _matches(s, key))

    memberships = {k: (reads(first, k), reads(total, k)) for k in pool}
    bad_target, good_target = ((1, 1), (0, 1)) if errors_form else ((0, 1), (1, 1))
    bad = _solve(pool, memberships, bad_target)
    good = _solve(pool, memberships, good_target)
    if bad is None or good is None:
        raise UnsupportedSLIError("no series make the queries read the errors and the total apart")
    used = set(bad) | set(good)
    # A sum over no series is empty, not 0, and `a - b` with an empty side is empty: every selector gets
    # a series, at rate 0 if no events are assigned to it.
    used |= {found[s] for s in selectors if not any(_matches(s, k) for k in used)}
    decoys = [k for k in pool if memberships[k] == (0, 0) and k not in used][:MAX_DECOYS]
    out = [
        RawSeries(k[0], dict(k[1]), float(bad.get(k, 0)), float(good.get(k, 0))) for k in pool if k in used
    ]
    return out + [RawSeries(k[0], dict(k[1]), other=1.0) for k in decoys]


def _solve(
    pool: list[SeriesKey], memberships: dict[SeriesKey, tuple[int, int]], target: tuple[int, int]
) -> dict[SeriesKey, Fraction] | None:
    """Non-negative weights on one or two series whose query readings add up to `target`."""
    for key in pool:
        a, b = memberships[key]
        for scale in (a, b):
            if scale > 0 and (a, b) == (target[0] * scale, target[1] * scale):
                return {key: Fraction(1, scale)}
    for k1, k2 in itertools.combinations(pool, 2):
        (a1, b1), (a2, b2) = memberships[k1], memberships[k2]
        det = a1 * b2 - a2 * b1
        if det == 0:
            continue
        w1 = Fraction(target[0] * b2 - target[1] * a2, det)
        w2 = Fraction(a1 * target[1] - b1 * target[0], det)
        if w1 > 0 and w2 > 0:
            return {k1: w1, k2: w2}
    return None


# --- what a query reads ----------------------------------------------------------------------------


def _children(node: Any) -> list[Any]:
    kind = type(node).__name__
    if kind == "Call":
        return list(node.args)
    if kind == "AggregateExpr":
        return [node.expr, node.param]
    if kind == "MatrixSelector":
        return [node.vector_selector]
    if kind in {"ParenExpr", "UnaryExpr", "SubqueryExpr"}:
        return [node.expr]
    if kind == "BinaryExpr":
        return [node.lhs, node.rhs]
    return []


def _names(node: Any, out: set[str]) -> bool:
    """Add the metric names the expression selects to `out`; False if a selector names none exactly."""
    if type(node).__name__ == "VectorSelector":
        named = [
            m.value for m in node.matchers.matchers if m.name == "__name__" and str(m.op) == "MatchOp.Equal"
        ]
        if node.name:
            named.append(node.name)
        out.update(named)
        return bool(named)
    return all(_names(child, out) for child in _children(node) if child is not None)


def read_names(queries: list[str]) -> set[str] | None:
    """Every metric name the queries select, or None if one selects by other labels only (or a regex)."""
    out: set[str] = set()
    for query in queries:
        try:
            tree = pp.parse(fill(query, FIVE_MINUTES))
        except (ValueError, RuntimeError):
            return None
        if not _names(tree, out):
            return None
    return out


def _yields(node: Any) -> bool:
    """Whether the expression may return samples when no series exist at all (conservative: True when
    unsure). `vector(0)`, `absent(x)`, a number, `time()` do; a selector, `rate(x[5m])`, `sum(x)` do not."""
    kind = type(node).__name__
    if kind in {"VectorSelector", "MatrixSelector"}:
        return False
    if kind in {"NumberLiteral", "StringLiteral"}:
        return True
    if kind in {"ParenExpr", "UnaryExpr", "SubqueryExpr"}:
        return _yields(node.expr)
    if kind == "AggregateExpr":
        return _yields(node.expr)
    if kind == "BinaryExpr":
        op = str(node.op)
        left, right = _yields(node.lhs), _yields(node.rhs)
        if op == "or":
            return left or right
        if op == "unless":
            return left
        return left and right
    if kind == "Call":
        name = node.func.name
        if name in {"vector", "time", "absent", "absent_over_time", "pi", "scalar"}:
            return True
        vectors = [a for a in node.args if type(a).__name__ not in {"NumberLiteral", "StringLiteral"}]
        return not vectors or any(_yields(a) for a in vectors)
    return True


def yields_without_input(query: str) -> bool:
    """Whether an SLI query may give samples with no input series at all (e.g. `... or vector(0)`)."""
    try:
        return _yields(pp.parse(fill(query, FIVE_MINUTES)))
    except (ValueError, RuntimeError):
        return True
