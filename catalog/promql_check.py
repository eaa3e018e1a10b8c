"""Check catalog PromQL with a real parser at validate time, and turn its terse errors into fixes.

The parser is `promql_parser` (a port of Prometheus's own grammar). It follows Prometheus 3: it also
accepts functions Prometheus 2.x lacks (`limitk`, `info`, ...), which promtool still rejects when
`generate rules` checks the output; `holt_winters` (2.x, renamed in 3.0) is registered so that 2.x
queries pass. tests/test_catalog_errors.py compares the verdicts with the real promtool.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

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
_NUMBER = re.compile(r"(?<![\w.])(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+")
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


def sli_query_error(query: str) -> str | None:
    """None if `query` can be an SLI query: valid PromQL, no `# comment` (it would swallow what follows when
    the query is inlined into a longer expression), and an instant vector (scalars and ranges cannot be
    combined with `or` and divided as the SLI rules do). Otherwise what is wrong and how to fix it."""
    try:
        tree = _parser()(query)
    except ValueError as exc:
        reason = str(exc)
        return f"{reason}{_fix(query, reason)}"
    quoted = quoted_name(query)
    if quoted is not None:
        return (
            f"it quotes the name {quoted}, the Prometheus 3 syntax for UTF-8 metric and label names, which "
            "Prometheus 2 (and its promtool) cannot parse; use a name of letters, digits, _ and : "
            '(write {__name__="x"} for a metric name in braces)'
        )
    masked = _STRING.sub('""', query)
    huge = next((m.group() for m in _NUMBER.finditer(masked) if math.isinf(float(m.group()))), None)
    if huge is not None:
        return f"the number {huge} is too large for a float64, which promtool refuses; write a smaller one"
    if "#" in masked:
        return (
            "it holds a # comment, which runs to the end of the line and would swallow the rest of the "
            "expression Watchkeeper builds around the query; remove it (describe the SLO in description)"
        )
    newer = _experimental(tree)
    if newer is not None and newer.startswith(REGEX):
        return newer.removeprefix(REGEX)
    if newer == TOO_LONG:
        return "a range or offset is longer than Prometheus' limit of 292y; shorten it"
    if newer == OR_MATCHERS:
        return (
            "it uses `or` between label matchers, which Prometheus 2 (and its promtool) cannot parse; "
            "write two selectors joined by the or operator instead"
        )
    if newer is not None:
        return (
            f"it uses {newer}, which is experimental in Prometheus 3 (it needs "
            "--enable-feature=promql-experimental-functions) and unknown to Prometheus 2, so promtool "
            "refuses it; write the query without it"
        )
    kind = _value_type(tree)
    if kind != "instant vector":
        return (
            f"it returns {kind}, but an SLI query must return an instant vector, as sum(rate(x[{{{{window}}}}])) "
            "does; wrap a scalar in vector(...) or drop the outer range"
        )
    return None


_GROUPING_WORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})


def quoted_name(query: str) -> str | None:
    """The first quoted metric or label name (`{"ünï"}`, `x{"a.b"="1"}`, `by ("a.b")`: Prometheus 3 syntax)
    in a query, or None: a string right after `{`, `(` or `,` inside a selector's braces or a grouping's
    parentheses. promql_parser reads them; promtool 2.x does not (checked against promtool 2.42)."""
    stack: list[str] = []
    previous = ""
    index = 0
    while index < len(query):
        char = query[index]
        if char in "\"'`":
            match = _STRING.match(query, index)
            end = match.end() if match else len(query)
            if stack and stack[-1] in {"{", "by"} and previous in {"{", "(", ","}:
                return query[index:end]
            previous, index = '"', end
            continue
        if char == "{":
            stack.append("{")
        elif char == "(":
            word = _IDENT_BEFORE.search(query[:index])
            stack.append("by" if word and word.group(1).lower() in _GROUPING_WORDS else "(")
        elif char in ")}" and stack:
            stack.pop()
        if not char.isspace():
            previous = char
        index += 1
    return None


_EXPERIMENTAL_AGGREGATIONS = frozenset({"limitk", "limit_ratio"})
OR_MATCHERS = "or-matchers"
TOO_LONG = "too-long"
_MAX_SECONDS = (2**63 - 1) // 10**9
"""Prometheus holds durations as int64 nanoseconds (about 292 years): promtool refuses longer ones."""


def _too_long(duration: Any) -> bool:
    return duration is not None and abs(duration.total_seconds()) > _MAX_SECONDS


REGEX = "regex:"
_REPEAT = re.compile(r"(?<!\\)\{(\d+)(?:,(\d*))?\}")
_FLAGS = re.compile(r"\(\?([a-zA-Z]+)[:)]")


def go_regex_problem(regex: str) -> str | None:
    """Why Go's regexp (RE2, as in promtool 2.x) refuses a regex that promql_parser's Rust regex accepts,
    or None. Each difference was checked with the real promtool (tests/test_validate_promises_generate.py)."""
    if "(?<" in regex and "(?<=" not in regex and "(?<!" not in regex:
        return f"the regex {regex!r} uses (?<name>...), which Prometheus 2's Go regexp lacks; write (?P<name>...)"
    for flags in _FLAGS.findall(regex):
        extra = set(flags) - set("imsU")
        if extra:
            return f"the regex {regex!r} uses the flag {''.join(sorted(extra))}, which Go's regexp lacks (it has i, m, s and U)"
    for low, high in _REPEAT.findall(regex):
        if int(low) > 1000 or (high and int(high) > 1000):
            return f"the regex {regex!r} repeats more than 1000 times, which Go's regexp refuses; use + or *"
    if re.search(r"\[[^\]]*--", regex):
        return f"the regex {regex!r} has '--' in a character class, which Go's regexp refuses; write it as \\-\\-"
    return None


def _experimental(node: Any) -> str | None:
    """The first Prometheus 3 experimental feature in a parsed query (a function, `limitk`, or `or` between
    label matchers), or None. promql_parser accepts them; promtool does not without a feature flag."""
    kind = type(node).__name__
    children: list[Any] = []
    if kind == "Call":
        if node.func.experimental:
            return f"{node.func.name}()"
        children = list(node.args)
    elif kind == "AggregateExpr":
        if str(node.op) in _EXPERIMENTAL_AGGREGATIONS:
            return f"{node.op}()"
        children = [node.expr, node.param]
    elif kind == "VectorSelector":
        if node.matchers.or_matchers:
            return OR_MATCHERS
        if _too_long(node.offset):
            return TOO_LONG
        return next(
            (
                f"{REGEX}{problem}"
                for matcher in node.matchers.matchers
                if str(matcher.op).endswith("Re") and (problem := go_regex_problem(matcher.value))
            ),
            None,
        )
    elif kind == "MatrixSelector":
        children = [node.vector_selector]
        if _too_long(node.range):
            return TOO_LONG
    elif kind in {"ParenExpr", "UnaryExpr", "SubqueryExpr"}:
        children = [node.expr]
        if kind == "SubqueryExpr" and any(map(_too_long, (node.range, node.step, node.offset))):
            return TOO_LONG
    elif kind == "BinaryExpr":
        children = [node.lhs, node.rhs]
    return next((found for child in children if child is not None and (found := _experimental(child))), None)


_RETURN_TYPES = {
    "Scalar": "a scalar",
    "String": "a string",
    "Matrix": "a range vector",
    "Vector": "instant vector",
}


def _value_type(node: Any) -> str:
    """What a parsed PromQL expression returns: "instant vector", "a scalar", "a range vector" or "a string"."""
    kind = type(node).__name__
    if kind in {"MatrixSelector", "SubqueryExpr"}:
        return "a range vector"
    if kind == "NumberLiteral":
        return "a scalar"
    if kind == "StringLiteral":
        return "a string"
    if kind in {"ParenExpr", "UnaryExpr"}:
        return _value_type(node.expr)
    if kind == "BinaryExpr":
        sides = {_value_type(node.lhs), _value_type(node.rhs)}
        return "a scalar" if sides == {"a scalar"} else "instant vector"
    if kind == "Call":
        returned = str(node.func.return_type).rsplit(".", 1)[-1]
        return _RETURN_TYPES.get(returned, "instant vector")
    return "instant vector"


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
