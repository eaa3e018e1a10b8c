"""Metric names the drift jobs publish (to the Pushgateway): the contract rules and dashboards import.

Registered once with type, labels and help, like the exporters' names (`exporters/registry.py`).
"""

from __future__ import annotations

from exporters.registry import Registry

REGISTRY = Registry()
_drift = REGISTRY.section(
    "Drift jobs (planned)",
    "Pushed to the Pushgateway by each drift monitor's run; `monitor` is the catalog monitor name.",
)
DRIFT_PREFIX = "watchkeeper_drift"
DRIFT_DETECTED = _drift.metric(
    "watchkeeper_drift_detected",
    "gauge",
    ("monitor",),
    "1 if the last run found dataset drift (drifted share of columns >= drift_share)",
)
DRIFT_SHARE = _drift.metric(
    "watchkeeper_drift_share", "gauge", ("monitor",), "Share of columns that drifted in the last run, 0..1"
)
DRIFT_COLUMN_SCORE = _drift.metric(
    "watchkeeper_drift_column_score", "gauge", ("monitor", "column"), "The drift test's score per column"
)
DRIFT_LAST_RUN_TIMESTAMP = _drift.metric(
    "watchkeeper_drift_last_run_timestamp_seconds", "gauge", ("monitor",), "Unix time of the last run"
)
