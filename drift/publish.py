"""Publishing a drift run to a Pushgateway, into the group `job=watchkeeper_drift, monitor=<monitor>`.

A run with a verdict replaces the group (PUT): the dataset verdict, the drifted share, each column's
score, verdict and threshold, the row counts, the run's duration and time, and `run_failed` 0.
A run without a usable verdict (unreadable data, an empty window, a missing column, schema drift, an
all-NaN column) only adds `run_failed` 1 and the attempt's time (POST): the last good verdict stays with
its old time, so nothing new looks healthy and the `drift_stale` alert fires once the job keeps failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from drift import names as n
from drift.result import DriftResult


class PublishError(Exception):
    """The Pushgateway refused the push or could not be reached."""


@dataclass
class Samples:
    """Gauge samples by metric name: (labels, value)."""

    monitor: str
    values: dict[str, list[tuple[dict[str, str], float]]] = field(default_factory=dict)

    def add(self, name: str, value: float, **labels: str) -> None:
        self.values.setdefault(name, []).append(({"monitor": self.monitor, **labels}, float(value)))

    def value(self, name: str, **labels: str) -> float | None:
        for have, value in self.values.get(name, []):
            if all(have.get(k) == v for k, v in labels.items()):
                return value
        return None


def verdict_samples(monitor: str, result: DriftResult, started: float, duration: float) -> Samples:
    """What a run with a verdict publishes."""
    out = Samples(monitor)
    out.add(n.DRIFT_DETECTED, 1.0 if result.dataset_drift else 0.0)
    out.add(n.DRIFT_SHARE, result.drift_share)
    for column in result.columns:
        if column.score is not None:
            out.add(n.DRIFT_COLUMN_SCORE, column.score, column=column.column)
        out.add(
            n.DRIFT_COLUMN_DRIFTED,
            1.0 if column.drift else 0.0,
            column=column.column,
            stattest=column.stattest,
        )
        out.add(n.DRIFT_COLUMN_THRESHOLD, column.threshold, column=column.column, stattest=column.stattest)
    out.add(n.DRIFT_ROWS, result.reference_rows, dataset="reference")
    out.add(n.DRIFT_ROWS, result.current_rows, dataset="current")
    out.add(n.DRIFT_RUN_DURATION, duration)
    out.add(n.DRIFT_LAST_RUN_TIMESTAMP, started)
    out.add(n.DRIFT_RUN_FAILED, 0.0)
    out.add(n.DRIFT_LAST_ATTEMPT_TIMESTAMP, started)
    out.add(n.DRIFT_TRIGGER_FAILED, 0.0)
    return out


def trigger_failed_samples(monitor: str) -> Samples:
    """Pushed (added to the run's group) after a trigger's delivery failed for good."""
    out = Samples(monitor)
    out.add(n.DRIFT_TRIGGER_FAILED, 1.0)
    return out


def failure_samples(monitor: str, started: float) -> Samples:
    """What a run without a usable verdict publishes."""
    out = Samples(monitor)
    out.add(n.DRIFT_RUN_FAILED, 1.0)
    out.add(n.DRIFT_LAST_ATTEMPT_TIMESTAMP, started)
    return out


class _Collector:
    def __init__(self, samples: Samples) -> None:
        self.samples = samples

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import GaugeMetricFamily

        infos = n.REGISTRY.by_name()
        for name, rows in self.samples.values.items():
            info = infos[name]
            family = GaugeMetricFamily(name, info.help, labels=list(info.labels))
            for labels, value in rows:
                family.add_metric([labels[k] for k in info.labels], value)
            yield family


def push(gateway: str, samples: Samples, replace: bool, timeout: float = 10.0) -> str:
    """Push `samples` into the monitor's group: replacing it (PUT) or adding to it (POST). Returns the path."""
    from urllib.error import HTTPError, URLError

    from prometheus_client import CollectorRegistry, push_to_gateway, pushadd_to_gateway

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(samples))
    grouping = {"monitor": samples.monitor}
    path = f"/metrics/job/{n.DRIFT_JOB}/monitor/{samples.monitor}"
    send = push_to_gateway if replace else pushadd_to_gateway
    try:
        send(gateway, job=n.DRIFT_JOB, registry=registry, grouping_key=grouping, timeout=timeout)
    except HTTPError as exc:
        body = exc.read().decode("utf-8", "replace").strip()[:300]
        raise PublishError(f"{gateway} refused the push to {path}: HTTP {exc.code} {body}") from None
    except (URLError, OSError) as exc:
        raise PublishError(
            f"cannot reach the Pushgateway at {gateway}: {getattr(exc, 'reason', exc)}"
        ) from None
    return path
