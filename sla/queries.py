"""The few vector PromQL queries a report needs, over ALL SLOs at once, read from the generated recording
rules (names from rules/names.py), and their execution through prometheus-api-client with a timeout.

Per window: the bad and all events summed over [start, end] from the recorded 5m rates (the same chain
the period ratio rule uses, `sum_over_time(errors) / sum_over_time(total)`), and the minutes with data;
pinned with the `@` modifier, so calendar windows (also a closed previous month) are exact for every SLO.
Once per report: the recorded 1h and 6h error ratios at the report time (burn rates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from catalog.durations import Duration
from rules import names
from sla.report_windows import COVERAGE_STEP_SECONDS, ReportWindow

SloKey = tuple[str, str]
"""(service, slo): the identity of every SLO series."""
_BY = "by (service, slo)"


class QueryError(RuntimeError):
    """Prometheus could not answer (unreachable, timeout, or a bad answer)."""


class Client(Protocol):
    """The part of prometheus_api_client.PrometheusConnect the report uses."""

    def custom_query(self, query: str, params: dict[str, Any] | None = None) -> Any: ...


def window_queries(window: ReportWindow) -> dict[str, str]:
    """errors, total (events summed over the window) and covered steps, each one vector for all SLOs."""
    end = f"@ {window.end.timestamp():.3f}"
    rng = f"{window.seconds}s"
    step = f"{COVERAGE_STEP_SECONDS}s"
    return {
        "errors": f"sum {_BY} (sum_over_time({names.SLI_ERRORS_RATE5M}[{rng}] {end}))",
        "total": f"sum {_BY} (sum_over_time({names.SLI_TOTAL_RATE5M}[{rng}] {end}))",
        "covered": f"max {_BY} (count_over_time({names.SLI_TOTAL_RATE5M}[{rng}:{step}] {end}))",
    }


def burn_queries() -> dict[str, str]:
    """The recorded 1h and 6h error ratios (divided by each SLO's budget in the maths)."""
    return {
        "ratio_1h": f"max {_BY} ({names.sli_error_ratio(Duration.parse('1h'))})",
        "ratio_6h": f"max {_BY} ({names.sli_error_ratio(Duration.parse('6h'))})",
    }


def _vector(answer: Any) -> dict[SloKey, float]:
    out: dict[SloKey, float] = {}
    if not isinstance(answer, list):
        raise QueryError(f"Prometheus answered {type(answer).__name__}, not an instant vector")
    for sample in answer:
        metric, value = sample.get("metric", {}), sample.get("value", [None, "NaN"])
        key = (str(metric.get("service", "")), str(metric.get("slo", "")))
        out[key] = float(value[1])
    return out


@dataclass(frozen=True)
class WindowData:
    """Raw per-SLO sums for one window, and the burn ratios at the report time."""

    errors: Mapping[SloKey, float]
    total: Mapping[SloKey, float]
    covered_steps: Mapping[SloKey, float]
    ratio_1h: Mapping[SloKey, float]
    ratio_6h: Mapping[SloKey, float]


def run(client: Client, query: str, at: datetime) -> dict[SloKey, float]:
    """One instant vector query at `at`, as {(service, slo): value}."""
    try:
        answer = client.custom_query(query, params={"time": f"{at.timestamp():.3f}"})
    except Exception as exc:  # prometheus_api_client raises requests' and its own errors
        raise QueryError(f"Prometheus query failed: {type(exc).__name__}: {exc}") from None
    return _vector(answer)


def fetch(client: Client, window: ReportWindow, at: datetime) -> WindowData:
    """Five vector queries, whatever the number of SLOs."""
    got = {key: run(client, q, at) for key, q in {**window_queries(window), **burn_queries()}.items()}
    return WindowData(got["errors"], got["total"], got["covered"], got["ratio_1h"], got["ratio_6h"])


def connect(url: str, timeout_seconds: float = 10) -> Client:
    """A prometheus-api-client connection with a timeout on every request."""
    from prometheus_api_client import PrometheusConnect

    client: Client = PrometheusConnect(url=url, disable_ssl=True, timeout=timeout_seconds)
    return client
