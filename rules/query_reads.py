"""What an SLI query reads, from its promql_parser tree: the metric names it selects, and whether it
may give samples with no input series at all.
"""

from __future__ import annotations

from typing import Any

import promql_parser as pp

from rules.promql import fill
from rules.sli import FIVE_MINUTES


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
