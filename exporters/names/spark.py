"""Spark metric names: applications and executors from a driver or history server's `/api/v1`.

Registered in `exporters.names.REGISTRY`; rules, dashboards and tests import them from `exporters.names`.
"""

from __future__ import annotations

from exporters.names.runtime import REGISTRY, SOURCE_LABEL, source_series

_APP = (SOURCE_LABEL, "app_name", "app_id")
_spark = REGISTRY.section(
    "Spark",
    "Per application kept (running, or ended within `lookback`), from a driver or history server's "
    "`/api/v1`. Ids are label values, never part of a name. With `granularity: executor` (the default) "
    'the driver (`executor_id="driver"`) and each active executor, at most `max_executors`, also get '
    "`spark_executor_*` series.",
    __name__,
)
SPARK_PREFIX = source_series(_spark, "spark", "spark", capped=True)
SPARK_APP_RUNNING = _spark.metric(
    "spark_application_running", "gauge", _APP, "1 while the application runs, 0 once it completed"
)
SPARK_APP_DURATION_SECONDS = _spark.metric(
    "spark_application_duration_seconds", "gauge", _APP, "Application run time"
)
SPARK_APP_JOBS = _spark.metric(
    "spark_application_jobs",
    "gauge",
    (*_APP, "status"),
    "Jobs by status: running, succeeded, failed, unknown",
)
SPARK_APP_STAGES = _spark.metric(
    "spark_application_stages",
    "gauge",
    (*_APP, "status"),
    "Stages by status: active, complete, skipped, failed",
)
SPARK_APP_TASKS = _spark.metric(
    "spark_application_tasks",
    "gauge",
    (*_APP, "status"),
    "Tasks by status, over executors: active, failed, completed",
)
SPARK_APP_EXECUTORS = _spark.metric(
    "spark_application_executors", "gauge", _APP, "Active executors (the driver included)"
)
SPARK_APP_MEMORY_USED_BYTES = _spark.metric(
    "spark_application_executor_memory_used_bytes", "gauge", _APP, "Storage memory used, over executors"
)
SPARK_APP_MEMORY_MAX_BYTES = _spark.metric(
    "spark_application_executor_memory_max_bytes", "gauge", _APP, "Storage memory available, over executors"
)
SPARK_APP_GC_SECONDS = _spark.metric(
    "spark_application_executor_gc_seconds", "gauge", _APP, "JVM GC time, over executors"
)
SPARK_APP_SHUFFLE_READ_BYTES = _spark.metric(
    "spark_application_shuffle_read_bytes", "gauge", _APP, "Shuffle bytes read, over executors"
)
SPARK_APP_SHUFFLE_WRITE_BYTES = _spark.metric(
    "spark_application_shuffle_write_bytes", "gauge", _APP, "Shuffle bytes written, over executors"
)

_EXEC = (*_APP, "executor_id")
SPARK_DRIVER_ID = "driver"
"""The `executor_id` Spark gives the driver."""
SPARK_EXECUTOR_MEMORY_USED_BYTES = _spark.metric(
    "spark_executor_memory_used_bytes",
    "gauge",
    _EXEC,
    "Storage memory used by the executor or driver (granularity executor)",
)
SPARK_EXECUTOR_MEMORY_MAX_BYTES = _spark.metric(
    "spark_executor_memory_max_bytes", "gauge", _EXEC, "Storage memory available to the executor or driver"
)
SPARK_EXECUTOR_GC_SECONDS = _spark.metric(
    "spark_executor_gc_seconds", "gauge", _EXEC, "JVM GC time of the executor's tasks, since it started"
)
SPARK_EXECUTOR_RUN_SECONDS = _spark.metric(
    "spark_executor_run_seconds", "gauge", _EXEC, "Time the executor spent running tasks, since it started"
)
SPARK_EXECUTOR_TASKS = _spark.metric(
    "spark_executor_tasks",
    "gauge",
    (*_EXEC, "status"),
    "Tasks of the executor by status: active, failed, completed",
)
SPARK_EXECUTORS_OMITTED = _spark.metric(
    "spark_application_executors_omitted",
    "gauge",
    _APP,
    "Active executors without their own series because the application has more than max_executors",
)
