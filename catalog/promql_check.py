"""Check catalog PromQL with a real parser at validate time, and turn its terse errors into fixes.

The parser is `promql_parser` (a port of Prometheus's own grammar). It follows Prometheus 3: it also
accepts functions Prometheus 2.x lacks (`limitk`, `info`, ...), which promtool still rejects when
`generate rules` checks the output; `holt_winters` (2.x, renamed in 3.0) is registered so that 2.x
queries pass. tests/test_catalog_errors.py compares the verdicts with the real promtool.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from catalog.errors import did_you_mean

AGGREGATIONS = frozenset(
    {
        "sum",
        "avg",
        "min",
        "max",
        "count",
        "stddev",
        "stdvar",
        "group",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "limitk",
        "limit_ratio",
    }
)
# Prometheus 2.x functions, for "did you mean" hints only (the parser decides what is valid).
# fmt: off
FUNCTIONS = (
    "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh",
    "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh",
    "count_over_time", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg", "delta",
    "deriv", "exp", "floor", "histogram_count", "histogram_fraction", "histogram_quantile",
    "histogram_stddev", "histogram_stdvar", "histogram_sum", "holt_winters", "hour", "idelta",
    "increase", "irate", "label_join", "label_replace", "last_over_time", "ln", "log10", "log2",
    "max_over_time", "min_over_time", "minute", "month", "pi", "predict_linear", "present_over_time",
    "quantile_over_time", "rad", "rate", "resets", "round", "scalar", "sgn", "sin", "sinh", "sort",
    "sort_desc", "sqrt", "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh",
    "time", "timestamp", "vector", "year",
)
# fmt: on
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GROUPING = re.compile(r"\)\s*(by|without)\s*\(([^()]*)\)")
_IDENT_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*$")


@lru_cache(maxsize=1)
def _parser() -> Callable[[str], object]:
    """promql_parser.parse, imported on first use (the CLI's --help never loads it)."""
    import promql_parser

    types = promql_parser.ValueType
    promql_parser.register_extra_functions(
        [promql_parser.Function("holt_winters", [types.Matrix, types.Scalar, types.Scalar], types.Vector)]
    )
    parse: Callable[[str], object] = promql_parser.parse
    return parse


def promql_error(query: str) -> str | None:
    """None if `query` is valid PromQL; otherwise what is wrong and how to fix it."""
    try:
        _parser()(query)
    except ValueError as exc:
        reason = str(exc)
        return f"{reason}{_fix(query, reason)}"
    return None


def _fix(query: str, reason: str) -> str:
    unknown = re.match(r"unknown function with name '([^']*)'", reason)
    if unknown:
        name = unknown.group(1)
        hint = did_you_mean(name, [*FUNCTIONS, *AGGREGATIONS]).removeprefix(";")
        return f"; {name} is not a PromQL function (MetricsQL functions are not PromQL){hint}"
    if reason.startswith("ranges only allowed for vector selectors"):
        return (
            "; a [range] applies to a metric selector, not to an expression: write sum(rate(x[{{window}}])) "
            "rather than rate(sum(x)[{{window}}]), or make it a subquery: (expr)[{{window}}:1m]"
        )
    if reason.startswith("expected type matrix in call to function"):
        return "; this function takes a range: add [{{window}}] to its selector, e.g. rate(x[{{window}}])"
    misplaced = _misplaced_grouping(query)
    if misplaced:
        return misplaced
    return "; check the brackets, operators and the position of by/without around this query"


def _misplaced_grouping(query: str) -> str | None:
    """The fix for `f(...) by (labels)`, where `by`/`without` follows a call that is not an aggregation."""
    masked = _STRING.sub(lambda m: "_" * len(m.group()), query)
    for match in _GROUPING.finditer(masked):
        close = match.start()
        depth, open_at = 0, -1
        for index in range(close, -1, -1):
            depth += {")": 1, "(": -1}.get(masked[index], 0)
            if depth == 0:
                open_at = index
                break
        name = _IDENT_BEFORE.search(masked[:open_at]) if open_at > 0 else None
        if name is not None and name.group(1).lower() in AGGREGATIONS:
            continue
        keyword, labels = match.group(1), " ".join(match.group(2).split())
        inner = f"{name.group(1)}(...)" if name else "..."
        return f"; {keyword} (...) belongs to an aggregation: sum {keyword} ({labels}) ({inner})"
    return None
