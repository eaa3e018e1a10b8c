"""Raw series for an events SLI (and a raw SLI's `errors / total`): each query, parsed with
promql_parser, must be a sum (or `+`/`-` of sums) of `rate(selector[window])`; bad and good events are
spread over one concrete series per selector so that the user's own queries read the intended error and
total rates, and decoys carry traffic the SLI must not count.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from fractions import Fraction

import promql_parser as pp

from catalog.model.slos import EventsSLI
from rules.promql import fill
from rules.sli import FIVE_MINUTES
from rules.sli_series import (
    MAX_DECOYS,
    Query,
    RawFeed,
    RawSeries,
    SeriesKey,
    UnsupportedSLIError,
    concrete,
    selector_of,
    series_matches,
    variants,
)


def events_feed(events: EventsSLI) -> RawFeed:
    """The raw series that make an events SLI's queries read the intended error (or good) and total rates."""
    total = _query(events.total)
    if events.errors is not None:
        return RawFeed(_events(_query(events.errors, zero_ok=True), total, errors_form=True))
    return RawFeed(_events(_query(events.good or "", zero_ok=True), total, errors_form=False))


def ratio_feed(error_ratio: str) -> RawFeed:
    """The raw series for a raw SLI's `errors / total` of summed rates (its 5m errors are the ratio)."""
    expr = _parse(error_ratio)
    while isinstance(expr, pp.ParenExpr):
        expr = expr.expr
    if not (isinstance(expr, pp.BinaryExpr) and str(expr.op) == "/" and expr.modifier is None):
        raise UnsupportedSLIError("a raw error_ratio is synthesised only as `errors / total` of summed rates")
    errors = _linear(expr.lhs, zero_ok=True)
    return RawFeed(_events(errors, _linear(expr.rhs), errors_form=True), ratio_sli=True)


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
        return {selector_of(str(vs)): 1}
    raise UnsupportedSLIError(f"only rate(selector[{{{{window}}}}]) is synthesised inside sum(), not {expr}")


def _events(first: Query, total: Query, errors_form: bool) -> list[RawSeries]:
    """Bad and good weights per series so that `first` reads the errors (or the good events) and
    `total` all events; decoys that no query matches carry other traffic."""
    selectors = list(dict.fromkeys([*first, *total]))
    bases = {s: concrete(s) for s in selectors}
    if any(b is None for b in bases.values()):
        raise UnsupportedSLIError("no label values satisfy one of the selectors")
    found = {s: b for s, b in bases.items() if b is not None}
    # Order matters to `_solve`: the first query's series, then their variants (the good series look like
    # the bad ones with another code), then the total's own series.
    pool = list(
        dict.fromkeys(
            [found[s] for s in first]
            + [v for s in selectors for v in variants(s, found[s])]
            + [found[s] for s in total]
        )
    )

    def reads(query: Query, key: SeriesKey) -> int:
        return sum(c for s, c in query.items() if series_matches(s, key))

    memberships = {k: (reads(first, k), reads(total, k)) for k in pool}
    bad_target, good_target = ((1, 1), (0, 1)) if errors_form else ((0, 1), (1, 1))
    bad = _solve(pool, memberships, bad_target)
    good = _solve(pool, memberships, good_target)
    if bad is None or good is None:
        raise UnsupportedSLIError("no series make the queries read the errors and the total apart")
    used = set(bad) | set(good)
    # A sum over no series is empty, not 0, and `a - b` with an empty side is empty: every selector gets
    # a series, at rate 0 if no events are assigned to it.
    used |= {found[s] for s in selectors if not any(series_matches(s, k) for k in used)}
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
