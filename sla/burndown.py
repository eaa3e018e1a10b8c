"""The error budget's burn-down over a report window, for the HTML page: one range query per series
(errors and all events per SLO, summed per fixed step), so two queries whatever the window.

Per step and SLO, bad minutes = (errors / events) x the step's minutes not covered by that SLO's
corrections (steps without events add none; errors are taken as even within a step), summed over the
report's SLOs and accumulated. The steps are coarser than the report's own sums, so the curve is scaled to
end on the report's consumed minutes, and drawn as the share of the report's budget left:
1 - consumed(t) / budget total."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from catalog.claim_patterns import quote_meta
from rules import names
from rules.promql import quote
from sla.queries import QueryError, _why

STEPS = 48
MIN_STEP = timedelta(minutes=5)


@dataclass(frozen=True)
class Point:
    at: datetime
    remaining_ratio: float


def step_of(start: datetime, end: datetime) -> timedelta:
    """The window cut into `STEPS` steps, never under 5 minutes, a whole number of seconds."""
    return max(timedelta(seconds=int((end - start).total_seconds() // STEPS)), MIN_STEP)


def burn_queries(slos: Collection[str], step: timedelta) -> dict[str, str]:
    selector = "{slo=~" + quote("|".join(quote_meta(s) for s in sorted(set(slos)))) + "}"
    rng = f"{int(step.total_seconds())}s"
    return {
        "errors": f"sum by (service, slo) (sum_over_time({names.SLI_ERRORS_RATE5M}{selector}[{rng}]))",
        "total": f"sum by (service, slo) (sum_over_time({names.SLI_TOTAL_RATE5M}{selector}[{rng}]))",
    }


def _matrix(answer: Any) -> dict[tuple[str, str], dict[float, float]]:
    if not isinstance(answer, list):
        raise QueryError(f"Prometheus answered {type(answer).__name__}, not a range vector")
    out: dict[tuple[str, str], dict[float, float]] = {}
    for series in answer:
        metric = series.get("metric", {})
        key = (str(metric.get("service", "")), str(metric.get("slo", "")))
        out[key] = {float(t): float(v) for t, v in series.get("values", [])}
    return out


Spans = Mapping[str, Sequence[tuple[float, float]]]
"""Corrected [start, end) Unix-time spans per SLO name."""


def uncovered_seconds(start: float, end: float, spans: Sequence[tuple[float, float]]) -> float:
    """Seconds of [start, end) outside every span (spans may overlap)."""
    covered, reach = 0.0, start
    for span_start, span_end in sorted(spans):
        a, b = max(span_start, reach), min(span_end, end)
        if b > a:
            covered += b - a
            reach = b
    return (end - start) - covered


def raw_bad_minutes(
    errors: dict[tuple[str, str], dict[float, float]],
    total: dict[tuple[str, str], dict[float, float]],
    stamps: list[float],
    step: timedelta,
    corrected: Spans | None = None,
) -> list[float]:
    """Cumulative bad minutes at each of `stamps` (each the end of a step), over every SLO of the answer,
    outside each SLO's `corrected` spans."""
    seconds = step.total_seconds()
    out, running = [], 0.0
    for t in stamps:
        for key, series in total.items():
            events = series.get(t, 0.0)
            if events > 0:
                spans = (corrected or {}).get(key[1], ())
                open_seconds = uncovered_seconds(t - seconds, t, spans) if spans else seconds
                running += min(errors.get(key, {}).get(t, 0.0) / events, 1.0) * open_seconds / 60
        out.append(running)
    return out


def curve(stamps: list[float], raw: list[float], consumed: float, budget: float) -> list[Point]:
    """The share of `budget` left at each stamp, scaled so the last point spends `consumed`."""
    last = raw[-1] if raw else 0.0
    points = []
    for t, r in zip(stamps, raw, strict=True):
        spent = consumed * (r / last) if last > 0 else (consumed if t == stamps[-1] else 0.0)
        left = 1 - spent / budget if budget > 0 else 1.0
        points.append(Point(datetime.fromtimestamp(t, UTC), left))
    return points


def fetch(
    client: Any,
    slos: Collection[str],
    start: datetime,
    end: datetime,
    consumed: float,
    budget: float,
    corrected: Spans | None = None,
) -> list[Point]:
    """The burn-down from Prometheus (two range queries), leaving out each SLO's `corrected` spans;
    QueryError if it cannot answer."""
    if not slos or end <= start:
        return []
    step = step_of(start, end)
    first = start + step
    if first > end:
        return []
    stamps = []
    t = first
    while t <= end:
        stamps.append(round(t.timestamp(), 3))
        t += step
    got = {}
    for kind, query in burn_queries(slos, step).items():
        try:
            answer = client.custom_query_range(
                query,
                start_time=first,
                end_time=datetime.fromtimestamp(stamps[-1], UTC),
                step=f"{int(step.total_seconds())}",
            )
        except Exception as exc:  # prometheus_api_client raises requests' and its own errors
            raise QueryError(f"Prometheus range query failed: {_why(exc)}") from None
        got[kind] = _matrix(answer)
    raw = raw_bad_minutes(got["errors"], got["total"], stamps, step, corrected)
    return curve(stamps, raw, consumed, budget)
