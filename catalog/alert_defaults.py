"""The component alerts each source kind gets, and their defaults: what a catalog `alerts:` block overrides.

Thresholds are in base units (ratios 0..1, seconds, counts). Severity `critical` pages, `warning`
tickets, `info` routes nowhere; low-tier services never page whatever the severity says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["critical", "warning", "info"]


@dataclass(frozen=True)
class AlertDefault:
    severity: Severity
    for_: str | None
    """How long the condition must hold; None fires at once."""
    threshold: float | None = None
    """None: the alert has no threshold to tune (a state, or one taken from the source itself)."""
    unit: str = ""


_SOURCE = {
    "source_down": AlertDefault("warning", "5m"),
    "source_absent": AlertDefault("warning", "10m"),
}

COMPONENT_ALERTS: dict[str, dict[str, AlertDefault]] = {
    "hdfs": {
        **_SOURCE,
        "missing_blocks": AlertDefault("critical", "5m", 0, "blocks"),
        "corrupt_blocks": AlertDefault("critical", "5m", 0, "blocks"),
        "under_replicated_rising": AlertDefault("warning", "30m", 0, "blocks per hour"),
        "capacity_warning": AlertDefault("warning", "15m", 0.8, "ratio"),
        "capacity_critical": AlertDefault("critical", "5m", 0.9, "ratio"),
        "capacity_full_soon": AlertDefault("critical", "30m", 4 * 3600, "seconds ahead"),
        "dead_datanodes": AlertDefault("warning", "5m", 0, "nodes"),
        "safemode": AlertDefault("critical", "5m"),
        "no_active_namenode": AlertDefault("critical", "2m"),
        "multiple_active_namenodes": AlertDefault("critical", "2m"),
    },
    "yarn": {
        **_SOURCE,
        "lost_nodes": AlertDefault("warning", "5m", 0, "nodes"),
        "unhealthy_nodes": AlertDefault("warning", "10m", 0, "nodes"),
        "failed_apps": AlertDefault("warning", "5m", 0.1, "ratio of finished apps over 30m"),
        "throughput_drop": AlertDefault("warning", "15m", 0.5, "ratio of the completion rate an hour ago"),
        "queue_saturated": AlertDefault("warning", "15m", 0.95, "ratio of max capacity"),
        "queue_failed_apps": AlertDefault("warning", None, 0, "failed apps in applications_window"),
    },
    "spark": {
        **_SOURCE,
        "failed_jobs": AlertDefault("warning", None, 0, "new failed jobs in 15m"),
        "failed_stages": AlertDefault("warning", None, 0, "new failed stages in 15m"),
        "executor_gc_share": AlertDefault("warning", "15m", 0.1, "ratio of the executor's task run time"),
        "driver_memory_high": AlertDefault("warning", "10m", 0.9, "ratio of the driver's storage memory"),
    },
    "kafka": {
        **_SOURCE,
        "lag_seconds": AlertDefault("warning", "10m", 900, "seconds"),
        "partition_status": AlertDefault("warning", "5m"),
        "stale_collection": AlertDefault("warning", "5m", 3, "poll intervals"),
    },
    "freshness": {
        **_SOURCE,
        "stale": AlertDefault("critical", "5m", None, "seconds (default: the source's max_age)"),
        "expectations_failed": AlertDefault("warning", None),
        "volume_drop": AlertDefault("warning", "30m", 0.5, "ratio of the same hour one week earlier"),
        "run_failed": AlertDefault("warning", None),
    },
    "inference": {
        **_SOURCE,
        "latency_p99": AlertDefault("warning", "10m", None, "seconds (default: the source's latency_target)"),
        "error_ratio": AlertDefault("critical", "10m", 0.05, "ratio"),
        "probe_failing": AlertDefault("critical", "5m"),
    },
    "drift": {
        "drift_detected": AlertDefault("warning", None),
        "drift_stale": AlertDefault("warning", "15m", 3, "schedules without a run"),
        "run_failed": AlertDefault("warning", "15m"),
        "trigger_failed": AlertDefault("warning", None),
    },
}
