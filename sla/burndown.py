"""The error budget's burn-down over a report window, for the HTML page: one range query per series
(errors and all events per SLO, summed per fixed step), so two queries whatever the window.

Per step and SLO, bad minutes = (errors / events) x the step's minutes (steps without events add none),
summed over the report's SLOs and accumulated. The curve's SHAPE comes from these uncorrected series; it
is scaled so it ends on the report's own consumed minutes (which leave corrections out), and drawn as the
share of the report's budget left: 1 - consumed(t) / budget total."""

from __future__ import annotations

from collections.abc import Collection
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


def raw_bad_minutes(
    errors: dict[tuple[str, str], dict[float, float]],
    total: dict[tuple[str, str], dict[float, float]],
    stamps: list[float],
    step: timedelta,
) -> list[float]:
    """Cumulative uncorrected bad minutes at each of `stamps`, over every SLO of the answer."""
    minutes = step.total_seconds() / 60
    out, running = [], 0.0
    for t in stamps:
        for key, series in total.items():
            events = series.get(t, 0.0)
            if events > 0:
                running += min(errors.get(key, {}).get(t, 0.0) / events, 1.0) * minutes
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
    client: Any, slos: Collection[str], start: datetime, end: datetime, consumed: float, budget: float
) -> list[Point]:
    """The burn-down from Prometheus (two range queries); QueryError if it cannot answer."""
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
    return curve(stamps, raw_bad_minutes(got["errors"], got["total"], stamps, step), consumed, budget)
