"""The 5-minute error and total event rates of each SLI kind, as PromQL."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.durations import Duration
from catalog.model.slos import SLO
from exporters.names import KAFKA_GROUP_MAX_LAG_SECONDS
from rules.components.freshness import freshness_age
from rules.promql import fill, go_float, le_regex, matchers, number, quote

FIVE_MINUTES = Duration.parse("5m")


@dataclass(frozen=True)
class SLIExpressions:
    """Bad and total events per second over 5m. Time-based SLIs count one event per evaluation."""

    errors: str
    total: str
    time_based: bool
    note: str = ""
    """A PromQL comment explaining the expressions, written above both recordings."""


def _with_matcher(selector: str, extra: str) -> str:
    """Add one matcher to a `{...}` selector."""
    inner = selector.strip()[1:-1].strip().rstrip(",")
    return "{" + (f"{inner}, {extra}" if inner else extra) + "}"


def sli_expressions(slo: SLO) -> SLIExpressions:
    """Translate an SLO's SLI into 5m error and total rates."""
    sli, w = slo.sli, FIVE_MINUTES
    if sli.events is not None:
        total = fill(sli.events.total, w)
        if sli.events.errors is not None:
            errors = fill(sli.events.errors, w)
        else:
            errors = f"({total})\n-\n({fill(sli.events.good or '', w)})"
        return SLIExpressions(errors, total, time_based=False)
    if sli.latency is not None:
        lat = sli.latency
        count = f"sum(rate({lat.histogram}_count{lat.selector}[{w}]))"
        bucket = _with_matcher(lat.selector, f"le=~{quote(le_regex(lat.le))}")
        good = f"sum(rate({lat.histogram}_bucket{bucket}[{w}]))"
        # Without the `le` bucket, `count - good` is empty and the total too (`and on()`), so the SLO has
        # no data and WatchkeeperSLONoData fires: it must never read as 0% errors.
        note = (
            f'# Requests over le="{go_float(lat.le)}" s are errors. The total exists only while the bucket does:\n'
            "# a histogram without it gives no SLI data (WatchkeeperSLONoData), never 0% errors."
        )
        return SLIExpressions(f"{count}\n-\n{good}", f"{count}\nand on()\n{good}", False, note)
    if sli.raw is not None:
        return _raw(fill(sli.raw.error_ratio, w))
    if sli.freshness is not None:
        series = f"max({freshness_age(sli.freshness.dataset)})"  # scraped or pushed alike
        return _time_based(series, sli.freshness.max_age.seconds)
    if sli.kafka_lag is not None:
        lag = sli.kafka_lag
        series = f"max({KAFKA_GROUP_MAX_LAG_SECONDS}{matchers({'cluster': lag.cluster, 'group': lag.group})})"
        return _time_based(series, lag.max_lag_seconds)
    raise ValueError(f"SLO {slo.name}: unsupported SLI kind {sli.kind}")


def _time_based(series: str, limit: float) -> SLIExpressions:
    """A gauge that must stay at or under a limit: 1 bad event per evaluation while it is over."""
    return SLIExpressions(f"{series} > bool {number(limit)}", f"{series} >= bool 0", time_based=True)


def _raw(ratio: str) -> SLIExpressions:
    """A raw error ratio: one event per evaluation, but only while its input series exist.

    For `errors / total` the event exists while the denominator does, so a missing errors series (no
    failure yet) reads 0% errors, and a missing denominator no data; for any other shape, while the ratio
    itself has a value. Never a constant total, which over missing series would read as 100% good."""
    denominator = _denominator(ratio)
    while_ = denominator if denominator is not None else ratio
    what = "its denominator" if denominator is not None else "the ratio"
    note = (
        f"# A raw error ratio: one event per evaluation while {what} exists. With its input series missing\n"
        "# the total is empty too, so the SLO has no data (WatchkeeperSLONoData), never 0% errors."
    )
    return SLIExpressions(ratio, f"vector(1)\nand on()\n({while_})", time_based=True, note=note)


def _denominator(expr: str) -> str | None:
    """The text right of a top-level `/` without modifiers (`a / b`, `(a) / (b)`), else None.

    promql_parser decides the shape; the text is cut from the original at the last `/` outside brackets,
    strings and comments (the parser's own rendering drops string escapes)."""
    import promql_parser as pp

    try:
        tree = pp.parse(expr)
    except ValueError:
        return None
    text = expr.strip()
    while isinstance(tree, pp.ParenExpr) and text.startswith("(") and _closing(text, 0) == len(text) - 1:
        tree, text = tree.expr, text[1:-1].strip()
    if not (isinstance(tree, pp.BinaryExpr) and str(tree.op) == "/" and tree.modifier is None):
        return None
    cut = _top_level_slashes(text)
    if not cut:
        return None
    right = text[cut[-1] + 1 :].strip()
    return right or None


def _scan(text: str) -> list[tuple[int, str, int]]:
    """(index, character, bracket depth) of every character outside strings and `#` comments."""
    out: list[tuple[int, str, int]] = []
    depth, i, quote_char = 0, 0, ""
    while i < len(text):
        char = text[i]
        if quote_char:
            if char == "\\" and quote_char != "`":
                i += 2
                continue
            if char == quote_char:
                quote_char = ""
        elif char in "\"'`":
            quote_char = char
        elif char == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        else:
            if char in ")]}":
                depth -= 1
            out.append((i, char, depth))
            if char in "([{":
                depth += 1
        i += 1
    return out


def _closing(text: str, start: int) -> int:
    """The index of the bracket closing the one at `start`, or -1."""
    for index, char, depth in _scan(text):
        if index > start and depth == 0 and char in ")]}":
            return index
    return -1


def _top_level_slashes(text: str) -> list[int]:
    return [index for index, char, depth in _scan(text) if char == "/" and depth == 0]
