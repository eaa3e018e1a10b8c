"""The error budget's burn-down over a report window, for the HTML page: two range queries (errors and all
events per SLO, summed per fixed step), plus two finer ones around corrections, whatever the window.

Steps end at whole seconds, floor(start) + k x step (Prometheus answers at the range start plus whole
steps, and prometheus_api_client sends whole seconds). Per step and SLO, bad minutes = (errors / events) x
the step's minutes not covered by that SLO's corrections (steps without events add none; errors are taken
as even within a step). A step that a correction touches is instead summed over sub-steps of at least
5 minutes (and of the window / 11,000, Prometheus' points limit), each counted the same way, so the
sub-steps inside a correction add nothing: two more range queries for all corrected SLOs (a regex
selector), filtered to the touched steps. The bad minutes are summed over the report's SLOs and
accumulated; the steps are coarser than the report's own sums, so the curve is scaled to end on the
report's consumed minutes, and drawn as the share of the report's budget left: 1 - consumed(t) / total."""

from __future__ import annotations

import math
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
FINE_MIN_SECONDS = 300
"""Sub-steps around corrections: never under 5 minutes (the recorded rates' own window)."""
MAX_POINTS = 11_000
"""Prometheus refuses a range query of more than 11,000 steps."""

Matrix = dict[tuple[str, str], dict[float, float]]
"""{(service, slo): {step end (whole seconds): value}}."""
Spans = Mapping[str, Sequence[tuple[float, float]]]
"""Corrected [start, end) Unix-time spans per SLO name."""


@dataclass(frozen=True)
class Point:
    at: datetime
    remaining_ratio: float


@dataclass(frozen=True)
class Fine:
    """Sums per sub-step of `step` seconds, used for the (SLO name, step end) pairs in `steps`."""

    step: int
    errors: Matrix
    total: Matrix
    steps: frozenset[tuple[str, float]]


def step_of(start: datetime, end: datetime) -> timedelta:
    """The window cut into `STEPS` steps, never under 5 minutes, a whole number of seconds."""
    return max(timedelta(seconds=int((end - start).total_seconds() // STEPS)), MIN_STEP)


def stamps_of(start: datetime, end: datetime, step: timedelta) -> list[int]:
    """The steps' ends: floor(start) + k x step (k >= 1) up to `end`, whole seconds."""
    seconds = int(step.total_seconds())
    return list(range(math.floor(start.timestamp()) + seconds, math.floor(end.timestamp()) + 1, seconds))


def fine_step_of(span_seconds: float, step_seconds: int) -> int:
    """The sub-step: the shortest whole-second divisor of `step_seconds` of at least 5 minutes and of
    `span_seconds` / 11,000; `step_seconds` itself if it is that short already."""
    shortest = max(FINE_MIN_SECONDS, math.ceil(span_seconds / MAX_POINTS))
    for parts in range(step_seconds // shortest, 1, -1):
        if step_seconds % parts == 0:
            return step_seconds // parts
    return step_seconds


def _selector(slos: Collection[str]) -> str:
    return "{slo=~" + quote("|".join(quote_meta(s) for s in sorted(set(slos)))) + "}"


def burn_queries(slos: Collection[str], step: timedelta, only_when: str = "") -> dict[str, str]:
    """errors and total summed per step of `step` for `slos`; `only_when` (a PromQL condition on time())
    keeps the steps where it holds."""
    selector, rng = _selector(slos), f"{int(step.total_seconds())}s"
    tail = f" and on() ({only_when})" if only_when else ""
    return {
        "errors": f"sum by (service, slo) (sum_over_time({names.SLI_ERRORS_RATE5M}{selector}[{rng}])){tail}",
        "total": f"sum by (service, slo) (sum_over_time({names.SLI_TOTAL_RATE5M}{selector}[{rng}])){tail}",
    }


def _matrix(answer: Any) -> Matrix:
    if not isinstance(answer, list):
        raise QueryError(f"Prometheus answered {type(answer).__name__}, not a range vector")
    out: Matrix = {}
    for series in answer:
        metric = series.get("metric", {})
        key = (str(metric.get("service", "")), str(metric.get("slo", "")))
        out[key] = {float(round(float(t))): float(v) for t, v in series.get("values", [])}
    return out


def uncovered_seconds(start: float, end: float, spans: Sequence[tuple[float, float]]) -> float:
    """Seconds of [start, end) outside every span (spans may overlap)."""
    covered, reach = 0.0, start
    for span_start, span_end in sorted(spans):
        a, b = max(span_start, reach), min(span_end, end)
        if b > a:
            covered += b - a
            reach = b
    return (end - start) - covered


def _bad(
    errors: Matrix, total: Matrix, key: tuple[str, str], start: float, end: float, spans: Sequence[Any]
) -> float:
    """Bad minutes of `key` in the step (start, end], outside `spans`."""
    events = total.get(key, {}).get(end, 0.0)
    if events <= 0:
        return 0.0
    open_seconds = uncovered_seconds(start, end, spans) if spans else end - start
    return min(errors.get(key, {}).get(end, 0.0) / events, 1.0) * open_seconds / 60


def raw_bad_minutes(
    errors: Matrix,
    total: Matrix,
    stamps: Sequence[float],
    step: timedelta,
    corrected: Spans | None = None,
    fine: Fine | None = None,
) -> list[float]:
    """Cumulative bad minutes at each of `stamps` (each the end of a step), over every SLO of the answer,
    outside each SLO's `corrected` spans; the steps in `fine.steps` summed over its sub-steps."""
    seconds = step.total_seconds()
    out, running = [], 0.0
    for t in stamps:
        for key in total:
            spans = (corrected or {}).get(key[1], ())
            if fine is not None and (key[1], t) in fine.steps:
                ends = (t - seconds + k * fine.step for k in range(1, int(seconds) // fine.step + 1))
                running += sum(_bad(fine.errors, fine.total, key, e - fine.step, e, spans) for e in ends)
            else:
                running += _bad(errors, total, key, t - seconds, t, spans)
        out.append(running)
    return out


def touched(stamps: Sequence[int], step: int, corrected: Spans) -> frozenset[tuple[str, float]]:
    """(SLO name, step end) of every step (t - step, t] that a correction of that SLO overlaps."""
    return frozenset(
        (slo, float(t))
        for slo, spans in corrected.items()
        if spans
        for t in stamps
        if uncovered_seconds(t - step, t, spans) < step
    )


def time_filter(ends: Collection[float], step: int) -> str:
    """A PromQL condition true at the times inside the steps ending at `ends` (consecutive ones merged)."""
    runs: list[list[int]] = []
    for t in sorted(int(e) for e in ends):
        if runs and runs[-1][1] == t - step:
            runs[-1][1] = t
        else:
            runs.append([t - step, t])
    return " or ".join(f"((vector(time()) > {a}) <= {b})" for a, b in runs)


def _range(client: Any, query: str, first: int, last: int, step: int) -> Matrix:
    try:
        answer = client.custom_query_range(
            query,
            start_time=datetime.fromtimestamp(first, UTC),
            end_time=datetime.fromtimestamp(last, UTC),
            step=str(step),
        )
    except Exception as exc:  # prometheus_api_client raises requests' and its own errors
        raise QueryError(f"Prometheus range query failed: {_why(exc)}") from None
    return _matrix(answer)


def _run(client: Any, jobs: Mapping[str, tuple[str, int, int, int]]) -> dict[str, Matrix]:
    """The range queries at once (the page waits for the slowest, not the sum); the first failure raised."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="burndown") as pool:
        futures = {kind: pool.submit(_range, client, *job) for kind, job in jobs.items()}
        return {kind: future.result() for kind, future in futures.items()}


def curve(stamps: Sequence[float], raw: list[float], consumed: float, budget: float) -> list[Point]:
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
    """The burn-down from Prometheus (two range queries, two more when corrections touch some steps),
    leaving out each SLO's `corrected` spans; QueryError if it cannot answer."""
    if not slos or end <= start:
        return []
    step = step_of(start, end)
    seconds = int(step.total_seconds())
    stamps = stamps_of(start, end, step)
    if not stamps:
        return []
    jobs = {kind: (q, stamps[0], stamps[-1], seconds) for kind, q in burn_queries(slos, step).items()}
    wanted = set(slos)
    refined = touched(stamps, seconds, {s: v for s, v in (corrected or {}).items() if s in wanted})
    sub = fine_step_of((end - start).total_seconds(), seconds)
    if refined and sub < seconds:
        ends = sorted({t for _, t in refined})
        fine = burn_queries({s for s, _ in refined}, timedelta(seconds=sub), time_filter(ends, seconds))
        first = int(ends[0]) - seconds + sub
        jobs |= {f"fine_{kind}": (q, first, int(ends[-1]), sub) for kind, q in fine.items()}
    got = _run(client, jobs)
    detail = Fine(sub, got["fine_errors"], got["fine_total"], refined) if "fine_total" in got else None
    raw = raw_bad_minutes(got["errors"], got["total"], stamps, step, corrected, detail)
    return curve(stamps, raw, consumed, budget)
