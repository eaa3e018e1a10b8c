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

from catalog.model.slos import SLO, LatencySLI
from rules.promql import go_float
from rules.sli_events import events_feed, ratio_feed
from rules.sli_series import (
    MAX_DECOYS,
    RawFeed,
    RawSeries,
    UnsupportedSLIError,
    concrete,
    selector_of,
    variants,
)


def raw_feed(slo: SLO) -> RawFeed:
    """The raw series for an events, latency or raw SLI; raises UnsupportedSLIError with the reason."""
    sli = slo.sli
    if sli.latency is not None:
        return RawFeed(_histogram(sli.latency))
    if sli.events is not None:
        return events_feed(sli.events)
    if sli.raw is not None:
        return ratio_feed(sli.raw.error_ratio)
    raise UnsupportedSLIError(f"a {sli.kind} SLI is fed its exporter series")


def raw_sli_untestable(slo: SLO) -> str | None:
    """Why a raw SLI gets no generated test, or None if it is fed raw series."""
    try:
        raw_feed(slo)
    except UnsupportedSLIError as exc:
        return str(exc)
    return None


def _histogram(lat: LatencySLI) -> list[RawSeries]:
    """Buckets and count of the histogram. Good events: half at the bound below `le` (if any), half just
    under `le`; bad ones: a quarter under the next bound, the rest only in +Inf. So a wrong `le` reads
    another ratio. Decoy histograms (a selector matcher violated) hold half fast, half slow requests."""
    bounds = list(lat.buckets or [lat.le / 2, lat.le, lat.le * 2])
    if not any(abs(b - lat.le) <= 1e-9 * lat.le for b in bounds):
        bounds = sorted([*bounds, lat.le])
    below = [b for b in bounds if b < lat.le]
    above = [b for b in bounds if b > lat.le]
    selector = selector_of(f"{lat.histogram}_count{lat.selector}")
    base = concrete(selector)
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
    for variant in variants(selector, base)[:MAX_DECOYS]:
        series += histogram(dict(variant[1]), decoy=1.0)
    return series
