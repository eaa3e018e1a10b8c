"""The 5-minute error and total event rates of each SLI kind, as PromQL."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.durations import Duration
from catalog.model import SLO
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
        return SLIExpressions(fill(sli.raw.error_ratio, w), "vector(1)", time_based=True)
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
