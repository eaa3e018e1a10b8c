"""Metric names the drift jobs publish (to the Pushgateway): the contract rules and dashboards import."""

from __future__ import annotations

DRIFT_PREFIX = "watchkeeper_drift"
DRIFT_DETECTED = "watchkeeper_drift_detected"
"""1 if the last run found dataset drift (drifted share of columns >= drift_share); label `monitor`."""
DRIFT_SHARE = "watchkeeper_drift_share"
"""Share of columns that drifted in the last run, 0..1; label `monitor`."""
DRIFT_COLUMN_SCORE = "watchkeeper_drift_column_score"
"""The drift test's score per column; labels `monitor`, `column`."""
DRIFT_LAST_RUN_TIMESTAMP = "watchkeeper_drift_last_run_timestamp_seconds"
