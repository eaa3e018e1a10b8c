"""Metric names the drift jobs publish (to the Pushgateway): the contract rules and dashboards import.

Registered once with type, labels and help, like the exporters' names (`exporters/registry.py`).
"""

from __future__ import annotations

from exporters.registry import Registry

REGISTRY = Registry()
_drift = REGISTRY.section(
    "Drift jobs",
    "Pushed to the Pushgateway by each drift monitor's run (`watchkeeper drift run`, `drift serve`) into the "
    "group `job=watchkeeper_drift, monitor=<monitor>`; `monitor` is the catalog monitor name. A run whose "
    "input is unusable (a missing column, an empty current window, unreadable data) or that passes "
    "--timeout pushes only "
    "`watchkeeper_drift_run_failed` = 1 and its time, never a verdict or a new last-run time.",
)
DRIFT_PREFIX = "watchkeeper_drift"
DRIFT_JOB = "watchkeeper_drift"
"""The Pushgateway job label of every drift push."""
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
DRIFT_COLUMN_DRIFTED = _drift.metric(
    "watchkeeper_drift_column_drifted",
    "gauge",
    ("monitor", "column", "stattest"),
    "1 if the column drifted in the last run (or could not be tested: schema drift, all NaN), else 0",
)
DRIFT_COLUMN_THRESHOLD = _drift.metric(
    "watchkeeper_drift_column_threshold",
    "gauge",
    ("monitor", "column", "stattest"),
    "The threshold the column's score was judged against (a p-value floor or a distance ceiling)",
)
DRIFT_ROWS = _drift.metric(
    "watchkeeper_drift_rows",
    "gauge",
    ("monitor", "dataset"),
    "Rows read in the last run; dataset is reference or current",
)
DRIFT_RUN_DURATION = _drift.metric(
    "watchkeeper_drift_run_duration_seconds",
    "gauge",
    ("monitor",),
    "Wall time of the last run's loading and testing (not its report, push or trigger)",
)
DRIFT_LAST_RUN_TIMESTAMP = _drift.metric(
    "watchkeeper_drift_last_run_timestamp_seconds",
    "gauge",
    ("monitor",),
    "Unix time of the last run that produced a verdict (what the drift_stale alert reads)",
)
DRIFT_RUN_FAILED = _drift.metric(
    "watchkeeper_drift_run_failed",
    "gauge",
    ("monitor",),
    "1 if the last attempted run could not produce a verdict (bad input, or abandoned at --timeout), 0 "
    "after a run that did",
)
DRIFT_LAST_ATTEMPT_TIMESTAMP = _drift.metric(
    "watchkeeper_drift_last_attempt_timestamp_seconds",
    "gauge",
    ("monitor",),
    "Unix time of the last attempted run, with or without a verdict",
)
DRIFT_TRIGGER_FAILED = _drift.metric(
    "watchkeeper_drift_trigger_failed",
    "gauge",
    ("monitor",),
    "1 if the last run's retraining trigger failed for good (refused, or gave up after its retries); 0 after "
    "a run with a verdict whose trigger did not fail. The failed breach no longer holds the cooldown",
)
