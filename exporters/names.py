"""Metric names the exporters produce: the contract that rules, dashboards and reports import.

Each source has its own prefix and reports `<prefix>_up` and `<prefix>_scrape_duration_seconds`.
"""

from __future__ import annotations

# Freshness (SQL tables, Airflow runs, files).
FRESHNESS_PREFIX = "watchkeeper_freshness"
FRESHNESS_AGE_SECONDS = "watchkeeper_freshness_age_seconds"
"""Age of the newest row, partition, run or file of a dataset; label `dataset`."""

# Kafka consumer lag.
KAFKA_PREFIX = "kafka_consumergroup"
KAFKA_GROUP_MAX_LAG_SECONDS = "kafka_consumergroup_group_max_lag_seconds"
"""The largest estimated lag in seconds over a group's partitions; labels `cluster`, `group`."""
