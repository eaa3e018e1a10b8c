"""The few vector PromQL queries a report needs, over ALL SLOs at once, read from the generated recording
rules (names from rules/names.py), and their execution through prometheus-api-client with a timeout.

Per window: the bad and all events summed over [start, end] from the recorded 5m rates (the same chain
the period ratio rule uses, `sum_over_time(errors) / sum_over_time(total)`), and the minutes with data;
pinned with the `@` modifier, so calendar windows (also a closed previous month) are exact for every SLO.
Once per report: the recorded 1h and 6h error ratios at the report time (burn rates).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote as quote_url
from urllib.parse import unquote, urlsplit, urlunsplit

from catalog.claim_patterns import quote_meta
from catalog.durations import Duration
from rules import names
from rules.promql import quote
from sla.report_windows import COVERAGE_STEP_SECONDS, ReportWindow

SloKey = tuple[str, str]
"""(service, slo): the identity of every SLO series."""
_BY = "by (service, slo)"


class QueryError(RuntimeError):
    """Prometheus could not answer (unreachable, timeout, or a bad answer)."""


class Client(Protocol):
    """The part of prometheus_api_client.PrometheusConnect the report uses."""

    def custom_query(self, query: str, params: dict[str, Any] | None = None) -> Any: ...


def _range(start: datetime, end: datetime, open_start: bool) -> tuple[str, str]:
    """(the range, the `@` modifier) selecting [start, end], or (start, end] if `open_start`."""
    millis = max(round((end - start).total_seconds() * 1000) - (1 if open_start else 0), 1)
    rng = f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"
    return rng, f"@ {end.timestamp():.3f}"


def _range_terms(start: datetime, end: datetime, open_start: bool, selector: str = "") -> dict[str, str]:
    rng, at = _range(start, end, open_start)
    step = f"{COVERAGE_STEP_SECONDS}s"
    return {
        "errors": f"sum {_BY} (sum_over_time({names.SLI_ERRORS_RATE5M}{selector}[{rng}] {at}))",
        "total": f"sum {_BY} (sum_over_time({names.SLI_TOTAL_RATE5M}{selector}[{rng}] {at}))",
        "covered": f"max {_BY} (count_over_time({names.SLI_TOTAL_RATE5M}{selector}[{rng}:{step}] {at}))",
    }


def range_queries(start: datetime, end: datetime, open_start: bool = False) -> dict[str, str]:
    """errors, total (events summed over [start, end]) and covered 5m steps, each one vector for all SLOs.
    `open_start`: (start, end] instead (a correction's interval, so a sample or step on its start is
    counted once, in the window, and nothing twice)."""
    return _range_terms(start, end, open_start)


PART_LABEL = "wk_part"
"""A label told apart per interval inside one batched query (so `or` keeps every interval's sums)."""
INTERVALS_PER_QUERY = 50
"""Corrected intervals summed in one query (three per batch): bounds a query's length (~10 kB)."""


def batched_range_queries(
    intervals: Sequence[tuple[datetime, datetime]], slos: Iterable[str]
) -> dict[str, str]:
    """errors, total and covered steps summed over the disjoint (start, end] `intervals`, for the SLOs
    named `slos`: each interval's vector is told apart by a `wk_part` label, joined with `or`, then
    summed per SLO, so one query stands for as many `range_queries(..., open_start=True)`."""
    pattern = "|".join(quote_meta(s) for s in sorted(set(slos)))
    selector = "{slo=~" + quote(pattern) + "}"
    parts: dict[str, list[str]] = {"errors": [], "total": [], "covered": []}
    for index, (start, end) in enumerate(intervals):
        for kind, term in _range_terms(start, end, True, selector).items():
            parts[kind].append(f'label_replace({term}, "{PART_LABEL}", "{index}", "", "")')
    return {kind: f"sum {_BY} ({' or '.join(terms)})" for kind, terms in parts.items()}


def window_queries(window: ReportWindow) -> dict[str, str]:
    """The range queries over the whole report window."""
    return range_queries(window.start, window.end)


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


@dataclass(frozen=True)
class RangeData:
    """Per-SLO sums over one interval (a correction's part of the window)."""

    errors: Mapping[SloKey, float]
    total: Mapping[SloKey, float]
    covered_steps: Mapping[SloKey, float]


def redact_url(url: str) -> str:
    """`url` for messages and logs: a user and password masked as `***` (either may be a token), like
    the store's `safe_url` does for the database."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    masked = "***:***" if ":" in userinfo else "***"
    return urlunsplit(parts._replace(netloc=f"{masked}@{host}"))


def _why(exc: Exception) -> str:
    """A short, clear reason (no retry chatter, no tracebacks, no URL)."""
    text = str(exc)
    if "HTTP Status Code" in text:
        return f"Prometheus answered {text.replace('HTTP Status Code ', 'HTTP ')[:300]}"
    if isinstance(exc, TimeoutError) or "timed out" in text.lower():
        return "Prometheus did not answer in time"
    if "Connection refused" in text or "NewConnectionError" in text or "Failed to resolve" in text:
        return "Prometheus is unreachable (connection refused or unknown host)"
    if any(s in text for s in ("Connection aborted", "RemoteDisconnected", "Connection reset")):
        return "Prometheus closed the connection without answering"
    return f"{type(exc).__name__}: {text[:300]}"


def _scrub(message: str, url: str) -> str:
    """`message` without the credentials of `url`, wherever a library may have echoed them."""
    parts = urlsplit(url)
    for secret in (parts.password or "", parts.username or ""):
        for spelling in {secret, unquote(secret), quote_url(unquote(secret), safe="")}:
            if len(spelling) >= 3:
                message = message.replace(spelling, "***")
    return message


def run(client: Client, query: str, at: datetime) -> dict[SloKey, float]:
    """One instant vector query at `at`, as {(service, slo): value}."""
    try:
        answer = client.custom_query(query, params={"time": f"{at.timestamp():.3f}"})
    except Exception as exc:  # prometheus_api_client raises requests' and its own errors
        url = str(getattr(client, "url", ""))
        where = f" at {redact_url(url)}" if url else ""
        raise QueryError(_scrub(f"Prometheus query failed{where}: {_why(exc)}", url)) from None
    return _vector(answer)


def run_all(client: Client, queries: Mapping[str, str], at: datetime) -> dict[str, dict[SloKey, float]]:
    """The queries at once (Prometheus evaluates them in parallel; a report waits for the slowest, not
    the sum); the first failure is raised."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(queries) or 1, thread_name_prefix="promql") as pool:
        futures = {key: pool.submit(run, client, q, at) for key, q in queries.items()}
        return {key: future.result() for key, future in futures.items()}


def fetch(client: Client, window: ReportWindow, at: datetime) -> WindowData:
    """Five vector queries, whatever the number of SLOs."""
    got = run_all(client, {**window_queries(window), **burn_queries()}, at)
    return WindowData(got["errors"], got["total"], got["covered"], got["ratio_1h"], got["ratio_6h"])


def fetch_range(client: Client, start: datetime, end: datetime, at: datetime) -> RangeData:
    """Three vector queries over (start, end] (a correction's interval), for all SLOs."""
    got = run_all(client, range_queries(start, end, open_start=True), at)
    return RangeData(got["errors"], got["total"], got["covered"])


def fetch_corrected(
    client: Client, groups: Mapping[tuple[tuple[datetime, datetime], ...], Collection[SloKey]], at: datetime
) -> RangeData:
    """Per SLO, its sums over its own corrected intervals: SLOs with the same intervals share queries,
    three per `INTERVALS_PER_QUERY` intervals of each group."""
    errors: dict[SloKey, float] = {}
    total: dict[SloKey, float] = {}
    covered: dict[SloKey, float] = {}
    for intervals, keys in groups.items():
        wanted = set(keys)
        for first in range(0, len(intervals), INTERVALS_PER_QUERY):
            batch = intervals[first : first + INTERVALS_PER_QUERY]
            got = run_all(client, batched_range_queries(batch, (slo for _, slo in wanted)), at)
            for out, kind in ((errors, "errors"), (total, "total"), (covered, "covered")):
                for key, value in got[kind].items():
                    if key in wanted:
                        out[key] = out.get(key, 0.0) + value
    return RangeData(errors, total, covered)


def connect(url: str, timeout_seconds: float = 10) -> Client:
    """A prometheus-api-client connection with a timeout on every request and no retries: the
    library's default retries a refused connection or a 503 with back-off (about 6 s); a report
    fails fast instead, with the reason."""
    from prometheus_api_client import PrometheusConnect
    from urllib3.util.retry import Retry

    no_retry = Retry(total=0, connect=0, read=0, status=0, status_forcelist=(), raise_on_status=False)
    client: Client = PrometheusConnect(url=url, disable_ssl=True, timeout=timeout_seconds, retry=no_retry)
    return client
