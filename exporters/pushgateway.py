"""Batch jobs and the Pushgateway: pushing a job's freshness or quality results, and reading freshness back.

A batch job pushes at its end (`watchkeeper push freshness`, `watchkeeper quality run`) into the group
`job=<job>, dataset=<dataset>` (plus `suite` for quality results), so jobs never overwrite each other.
It pushes the *time* of its newest data, not an age: a pushed value is served unchanged until the next
push, so only a timestamp stays true; the alerts turn it into an age with `time() - ...`.

The exporter's `push` freshness sources read the pushed time back from the Pushgateway's
`/api/v1/metrics`, so they have `up` and an age like every other source.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client.core import Metric

from catalog.model.freshness import PushRef
from exporters import names as m
from exporters.errors import ScrapeError, shown
from exporters.metric_set import MetricSet, number
from exporters.runtime import Scrape

SHARED_FOR = 1.0
"""Seconds one read of a Pushgateway serves every push source on it (one scrape reads it once)."""


class PushError(Exception):
    """The Pushgateway refused the push or could not be reached; the message says which and where."""


class _Families:
    """A prometheus_client collector over a MetricSet, for `push_to_gateway`."""

    def __init__(self, metrics: MetricSet) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics.families()


def push(gateway: str, job: str, grouping: dict[str, str], metrics: MetricSet, timeout: float = 10.0) -> str:
    """Replace the group `job` + `grouping` on the Pushgateway with `metrics`; return the group's URL path."""
    from urllib.error import HTTPError, URLError

    from prometheus_client import CollectorRegistry, push_to_gateway

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(metrics))
    path = "/metrics/job/" + job + "".join(f"/{k}/{v}" for k, v in grouping.items())
    try:
        push_to_gateway(gateway, job=job, registry=registry, grouping_key=grouping, timeout=timeout)
    except HTTPError as exc:
        body = exc.read().decode("utf-8", "replace").strip()
        raise PushError(f"{gateway} refused the push to {path}: HTTP {exc.code} {shown(body, 300)}") from None
    except (URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PushError(f"cannot reach the Pushgateway at {gateway}: {reason}") from None
    return path


def freshness_metrics(dataset: str, timestamp: float, rows: float | None = None) -> MetricSet:
    """What `watchkeeper push freshness` pushes: the newest data's time, and optionally the row count."""
    out = MetricSet()
    out.gauge(m.FRESHNESS_TIMESTAMP_SECONDS, "", {"dataset": dataset}, timestamp)
    out.gauge(m.FRESHNESS_ROWS, "", {"dataset": dataset}, rows)
    return out


_reads: dict[tuple[int, str], tuple[float, asyncio.Future[Any]]] = {}


async def _groups(scrape: Scrape, base: str, timeout: float, clock: Callable[[], float]) -> Any:
    """The Pushgateway's groups, read once per SHARED_FOR by all push sources on it."""
    now, key = clock(), (id(asyncio.get_running_loop()), base)
    cached = _reads.get(key)
    if cached is not None and now - cached[0] < SHARED_FOR and not cached[1].cancelled():
        return await asyncio.shield(cached[1])
    future = asyncio.ensure_future(scrape.http.get_json(f"{base}/api/v1/metrics", timeout=timeout))
    _reads[key] = (now, future)
    try:
        return await asyncio.shield(future)
    except ScrapeError:
        _reads.pop(key, None)
        raise


def _value(group: dict[str, Any], name: str) -> float | None:
    family = group.get(name)
    samples = family.get("metrics") if isinstance(family, dict) else None
    if not isinstance(samples, list) or not samples or not isinstance(samples[0], dict):
        return None
    return number(samples[0].get("value"))


class PushProbe:
    """Reads a dataset's pushed freshness time (and row count) back from the Pushgateway."""

    def __init__(self, ref: PushRef, dataset: str, timeout: float, clock: Callable[[], float] = time.time):
        self.ref = ref
        self.dataset = dataset
        self.timeout = timeout
        self.clock = clock

    async def newest(self, scrape: Scrape) -> float | None:
        base = self.ref.pushgateway.rstrip("/")
        body = await _groups(scrape, base, self.timeout, self.clock)
        groups = body.get("data") if isinstance(body, dict) else None
        if not isinstance(groups, list):
            raise ScrapeError("parse", f"{base}/api/v1/metrics: no data list; is this a Pushgateway?")
        wanted = {"job": self.ref.job, "dataset": self.dataset}
        for group in groups:
            labels = group.get("labels") if isinstance(group, dict) else None
            # exactly this group: the quality results' group {job, dataset, suite} holds no freshness
            if isinstance(labels, dict) and {k: v for k, v in labels.items() if v != ""} == wanted:
                stamp = _value(group, m.FRESHNESS_TIMESTAMP_SECONDS)
                if stamp is None:
                    raise ScrapeError(
                        "parse",
                        f"{base}: the group job={self.ref.job} dataset={self.dataset} has no timestamp",
                    )
                rows = _value(group, m.FRESHNESS_ROWS)
                scrape.metrics.gauge(m.FRESHNESS_ROWS, "", {"dataset": self.dataset}, rows)
                return stamp
        raise ScrapeError(
            "not_found",
            f"nothing pushed to {base} for job={self.ref.job} dataset={self.dataset} yet; the batch job "
            f"pushes it at its end with `watchkeeper push freshness {self.dataset}`",
        )
