"""Freshness metric names: dataset ages (SQL, Airflow, files, pushes), Airflow DAGs, Great Expectations.

Registered in `exporters.names.REGISTRY`; rules, dashboards and tests import them from `exporters.names`.
"""

from __future__ import annotations

from exporters.names.runtime import REGISTRY, source_series

_DS = ("dataset",)
_DAG = ("dataset", "dag_id")
_SUITE = ("dataset", "suite")
_EXPECTATION = ("dataset", "suite", "expectation", "column")
_freshness = REGISTRY.section(
    "Freshness",
    "One source per catalog dataset (`source` is the dataset's name): by SQL, the Airflow REST API, file "
    "mtimes or a Pushgateway a batch job pushed to (`watchkeeper push freshness`). A batch job's pushed "
    "timestamp carries the Pushgateway's `job` label instead; the alerts aggregate `by (dataset)`.",
    __name__,
)
FRESHNESS_PREFIX = source_series(_freshness, "watchkeeper_freshness", "freshness", capped=True)
FRESHNESS_AGE_SECONDS = _freshness.metric(
    "watchkeeper_freshness_age_seconds",
    "gauge",
    _DS,
    "Age of the newest row, partition, successful run, file or push of a dataset (+Inf: none yet)",
)
FRESHNESS_TIMESTAMP_SECONDS = _freshness.metric(
    "watchkeeper_freshness_timestamp_seconds",
    "gauge",
    _DS,
    "Unix time of the newest row, partition, successful run, file or push of a dataset",
)
FRESHNESS_ROWS = _freshness.metric(
    "watchkeeper_freshness_rows",
    "gauge",
    _DS,
    "Rows the dataset's count_query reports (the last partition or day)",
)
AIRFLOW_DAG_PAUSED = _freshness.metric(
    "watchkeeper_airflow_dag_paused", "gauge", _DAG, "1 while the DAG is paused"
)
AIRFLOW_FAILED_RUNS = _freshness.metric(
    "watchkeeper_airflow_failed_runs",
    "gauge",
    _DAG,
    "DAG runs that failed and ended within the source's lookback",
)
AIRFLOW_LAST_RUN_FAILED = _freshness.metric(
    "watchkeeper_airflow_last_run_failed", "gauge", _DAG, "1 if the DAG's latest finished run failed, else 0"
)
AIRFLOW_RUNNING_RUNS = _freshness.metric(
    "watchkeeper_airflow_running_runs", "gauge", _DAG, "DAG runs in the running state"
)
AIRFLOW_RUNNING_DURATION_SECONDS = _freshness.metric(
    "watchkeeper_airflow_running_duration_seconds",
    "gauge",
    _DAG,
    "How long the oldest running DAG run has run (absent when none runs)",
)
AIRFLOW_NEXT_RUN_OVERDUE_SECONDS = _freshness.metric(
    "watchkeeper_airflow_next_run_overdue_seconds",
    "gauge",
    _DAG,
    "Seconds the next scheduled run is past due (0: on time; absent when paused or unscheduled)",
)
GE_VALIDATION_SUCCESS = _freshness.metric(
    "watchkeeper_great_expectations_success",
    "gauge",
    _SUITE,
    "1 if the latest Great Expectations validation of a suite on a dataset passed, else 0",
)
GE_EVALUATED_EXPECTATIONS = _freshness.metric(
    "watchkeeper_great_expectations_evaluated_expectations",
    "gauge",
    _SUITE,
    "Expectations the latest validation evaluated",
)
GE_FAILED_EXPECTATIONS = _freshness.metric(
    "watchkeeper_great_expectations_failed_expectations",
    "gauge",
    _SUITE,
    "Expectations the latest validation found unmet",
)
GE_VALIDATION_TIMESTAMP_SECONDS = _freshness.metric(
    "watchkeeper_great_expectations_validation_timestamp_seconds",
    "gauge",
    _SUITE,
    "Unix time of the latest validation",
)
GE_EXPECTATION_SUCCESS = _freshness.metric(
    "watchkeeper_great_expectations_expectation_success",
    "gauge",
    _EXPECTATION,
    "1 if every expectation of this type on this column passed in the latest validation, else 0",
)
GE_UNEXPECTED_COUNT = _freshness.metric(
    "watchkeeper_great_expectations_unexpected_count",
    "gauge",
    _EXPECTATION,
    "Unexpected values in the latest validation, per expectation type and column (never row values)",
)
