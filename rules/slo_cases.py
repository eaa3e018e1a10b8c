"""The synthetic inputs of the generated SLO tests: cases of error ratios and traffic, and the series
that feed them (raw counters from rules/sli_inputs.py, exporter gauges, or, when an SLI cannot be
synthesised, the recorded 5m rates), with the 5m error and total rates the recordings should read."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from catalog.model.slos import SLO
from exporters.names import FRESHNESS_AGE_SECONDS, KAFKA_GROUP_MAX_LAG_SECONDS
from rules import names
from rules.components import Series
from rules.promql import number
from rules.sli_inputs import raw_feed
from rules.sli_series import RawFeed, RawSeries, UnsupportedSLIError
from rules.slo_recordings import slo_labels
from rules.windows import alert_windows

BUSY_PER_MINUTE = 10**6
"""Events a minute in the busy cases: integer counts keep Prometheus' arithmetic exact."""


@dataclass(frozen=True)
class SLOCase:
    """Error ratios per minute (segments of constant ratio) at a constant number of events a minute."""

    name: str
    segments: list[tuple[int, float]]
    """(minutes, error ratio) in order; the last segment's ratio continues to the end of the test."""
    per_minute: float
    check_after_start: list[int]
    """Check times, in minutes after the last segment began."""

    def ratios(self, minutes: int) -> list[float]:
        """The error ratio of each minute 0..minutes (a counter's increase up to minute k uses ratio k)."""
        out: list[float] = []
        for length, ratio in self.segments:
            out += [ratio] * length
        return (out + [self.segments[-1][1]] * (minutes + 1))[: minutes + 1]

    def runs(self, minutes: int) -> list[tuple[int, float]]:
        """The increments of minutes 1..minutes as (count, error ratio) runs."""
        out: list[tuple[int, float]] = []
        left, first = minutes, True
        for index, (length, ratio) in enumerate(self.segments):
            count = left if index == len(self.segments) - 1 else min(left, length - (1 if first else 0))
            if count > 0:
                out.append((count, ratio))
            left -= max(count, 0)
            first = False
        return out

    @property
    def last_start(self) -> int:
        return sum(length for length, _ in self.segments[:-1])

    def bad(self, ratio: float) -> float:
        """Bad events in a minute: whole events at busy traffic (exact in Prometheus' arithmetic, and a
        million a minute keep 6 digits of the ratio); the exact share on a trickle."""
        count = ratio * self.per_minute
        return float(round(count)) if self.per_minute >= BUSY_PER_MINUTE else count


def values_text(samples: list[float], scale: float = 1.0) -> str:
    """promtool's expanding notation for a piecewise-constant series: `0x299 0.02x61`."""
    runs: list[tuple[float, int]] = []
    for value in samples:
        if runs and runs[-1][0] == value:
            runs[-1] = (value, runs[-1][1] + 1)
        else:
            runs.append((value, 1))
    return " ".join(f"{number(v * scale)}x{n - 1}" for v, n in runs)


def _counter(runs: list[tuple[int, float]]) -> str:
    """A counter starting at 0 at minute 0, then growing by `increase` for `count` minutes, run by run."""
    merged: list[tuple[int, float]] = []
    for count, inc in runs:
        if merged and merged[-1][1] == inc:
            merged[-1] = (merged[-1][0] + count, inc)
        else:
            merged.append((count, inc))
    parts, value = [], 0.0
    for index, (count, inc) in enumerate(merged):
        if index == 0:
            parts.append(f"0+{number(inc)}x{count}")
        else:
            start = value + inc
            parts.append(f"{number(start)}+{number(inc)}x{count - 1}" if count > 1 else number(start))
        value += inc * count
    return " ".join(parts) or "0"


def slo_cases(slo: SLO, after_for: list[int]) -> list[SLOCase]:
    """The cases of one SLO: gauges bad then good for time-based SLIs; else the five burn cases."""
    if slo.sli.kind in {"freshness", "kafka_lag"}:
        return [SLOCase("bad", [(1, 1.0)], 1.0, after_for), SLOCase("good", [(1, 0.0)], 1.0, after_for)]
    budget = slo.error_budget_ratio
    windows = alert_windows(slo.window.period)
    page = [w for w in windows if w.severity == "page"]
    ticket = [w.factor for w in windows if w.severity == "ticket"]
    minimum = slo.alerting.min_events_per_hour
    busy = float(max(BUSY_PER_MINUTE, 10 ** math.ceil(math.log10(max(minimum, 1)))))
    # A power of two keeps the counters exact; an hour of it is at most a quarter of the minimum.
    quiet = 2.0 ** math.floor(math.log2(minimum / 240)) if minimum else 2.0**-5
    fastest = page[0]
    spike_minutes = int(fastest.long.seconds // 60) + 2
    calm_minutes = int(max(w.long.seconds for w in page) // 60)

    def clamp(ratio: float) -> float:
        return min(1.0, round(ratio, 9))

    page_factors = [w.factor for w in page]
    low = (
        "burning fast on too little traffic to page"
        if minimum
        else "burning fast on a trickle of traffic: no low-traffic guard, so it pages"
    )
    return [
        SLOCase("burning fast", [(1, clamp(2 * max(page_factors) * budget))], busy, after_for),
        SLOCase(
            "burning just under the page thresholds",
            [(1, clamp(0.9 * min(page_factors) * budget))],
            busy,
            after_for,
        ),
        SLOCase(
            "burning just under the ticket thresholds",
            [(1, clamp(0.9 * min(ticket) * budget))],
            busy,
            after_for,
        ),
        SLOCase(low, [(1, clamp(2 * max(page_factors) * budget))], quiet, after_for),
        # Quiet for the slowest page window, then a spike over the fastest one only: proves that window's
        # own threshold (its long window is over it; the slower page windows are not).
        SLOCase(
            f"a spike over the last {fastest.long} only",
            [(calm_minutes, 0.0), (spike_minutes, clamp(1.4 * fastest.factor * budget))],
            busy,
            [spike_minutes],
        ),
    ]


def _rates(case: SLOCase, minutes: int) -> tuple[list[float], list[float]]:
    """(bad, all) events of each minute 0..minutes; minute 0 has none (the counters start there)."""
    bad = [0.0]
    for count, ratio in case.runs(minutes):
        bad += [case.bad(ratio)] * count
    return bad, [0.0] + [case.per_minute] * minutes


def _five_minute_rates(events: list[float]) -> list[float | None]:
    """`rate(counter[5m])` at each minute of a counter starting at 0 (absent at minute 0)."""
    cumulative = list(itertools.accumulate(events))
    out: list[float | None] = [None]
    out += [(cumulative[t] - cumulative[max(0, t - 5)]) / 300 for t in range(1, len(events))]
    return out


def feed_of(slo: SLO) -> RawFeed | str:
    """The SLO's raw series, or why it has none."""
    try:
        return raw_feed(slo)
    except UnsupportedSLIError as exc:
        return str(exc)


def inputs(
    slo: SLO, feed: RawFeed | str, case: SLOCase, minutes: int
) -> tuple[list[Series], list[float | None], list[float | None]]:
    """Input series, and the 5m error and total rates the SLO's recordings should read from them."""
    ratios = case.ratios(minutes)
    sli = slo.sli
    if sli.freshness is not None or sli.kafka_lag is not None:
        if sli.freshness is not None:
            metric, labels, limit = (
                FRESHNESS_AGE_SECONDS,
                {"dataset": sli.freshness.dataset},
                sli.freshness.max_age.seconds,
            )
        else:
            lag = sli.kafka_lag
            assert lag is not None
            metric, labels, limit = (
                KAFKA_GROUP_MAX_LAG_SECONDS,
                {"cluster": lag.cluster, "group": lag.group},
                lag.max_lag_seconds,
            )
        values = [limit * 2 if bad else limit / 2 for bad in ratios]  # bad: twice the limit, good: half
        return [Series(metric, labels, values_text(values))], list(ratios), [1.0] * len(ratios)
    bad, events = _rates(case, minutes)
    if isinstance(feed, str):  # the recorded 5m rates, present from minute 0
        labels = slo_labels(slo)
        errors = [b / 60 for b in bad[1:2] + bad[1:]]
        total = [case.per_minute / 60] * len(errors)
        recorded = [
            Series(names.SLI_ERRORS_RATE5M, labels, values_text(errors)),
            Series(names.SLI_TOTAL_RATE5M, labels, values_text(total)),
        ]
        return recorded, list(errors), list(total)
    runs = [(count, case.bad(ratio)) for count, ratio in case.runs(minutes)]
    series = [_raw_counter(s, runs, case.per_minute) for s in feed.series]
    errors5m, total5m = _five_minute_rates(bad), _five_minute_rates(events)
    # A raw SLI records the ratio itself over a total of 1, both absent before the first rate.
    if feed.ratio_sli:
        ratio: list[float | None] = [None]
        ratio += [
            e / t if e is not None and t else None for e, t in zip(errors5m[1:], total5m[1:], strict=True)
        ]
        return series, ratio, [None] + [1.0] * (len(ratio) - 1)
    return series, errors5m, total5m


def _raw_counter(raw: RawSeries, runs: list[tuple[int, float]], per_minute: float) -> Series:
    """A raw counter: its share of each run's bad and good events, plus its own decoy traffic."""
    increments = [
        (count, raw.bad * bad + raw.good * (per_minute - bad) + raw.other * BUSY_PER_MINUTE)
        for count, bad in runs
    ]
    return Series(raw.name, raw.labels, _counter(increments))
