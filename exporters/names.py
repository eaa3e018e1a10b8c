"""Metric names the exporters produce: the contract that rules, dashboards and reports import.

Each name is registered once, with its type, label names and help, by `Section.metric`, which returns the
name string: `HDFS_CORRUPT_BLOCKS` is still a plain `str`. The exporter's writer takes HELP and UNIT from
this registry, and `docs/metrics.md` is generated from it (`python -m api.metrics_reference`).

Every source reports `<prefix>_up`, `<prefix>_scrape_duration_seconds` and
`<prefix>_scrape_errors_total{kind}`, and those collected on scrape (hdfs, yarn, spark) also
`<prefix>_series_dropped_total`, labelled `source` (the catalog source name). Series never carry team or
owner labels: ownership is joined through `watchkeeper_ownership_info`.
"""

from __future__ import annotations

from exporters.registry import Registry, Section

REGISTRY = Registry()

# --- runtime ----------------------------------------------------------------------------------------

EXPORTER_JOB = "watchkeeper-exporter"
"""The Prometheus job name the generated alerts expect for `watchkeeper exporter` targets."""
SOURCE_LABEL = "source"
ERROR_KINDS = ("timeout", "connection", "http_status", "parse", "too_large", "auth", "not_found")
"""Why a source failed. `auth`: credentials refused (a database login); `not_found`: what the source points
at does not exist (a file or glob with no match, a table). HTTP answers, 401 and 404 included, are
`http_status`."""
_SRC = (SOURCE_LABEL,)

_runtime = REGISTRY.section(
    "Exporter runtime",
    "Series the runtime adds on every scrape. Each source kind below also has its `<prefix>_up`, "
    "`<prefix>_scrape_duration_seconds` and `<prefix>_scrape_errors_total` (and HDFS, YARN, Spark and "
    "freshness their `<prefix>_series_dropped_total`), listed in its section.",
)
OWNERSHIP_INFO = _runtime.metric(
    "watchkeeper_ownership_info",
    "gauge",
    ("service", "team", "tier"),
    "Owner of each catalog service: join with * on(service) group_left(team)",
)


def up(prefix: str) -> str:
    return f"{prefix}_up"


def scrape_duration(prefix: str) -> str:
    return f"{prefix}_scrape_duration_seconds"


def scrape_errors(prefix: str) -> str:
    """A counter; exposed with the `_total` suffix."""
    return f"{prefix}_scrape_errors"


def series_dropped(prefix: str) -> str:
    """A counter (exposed with `_total`): series past the source's `max_series`, over its collections."""
    return f"{prefix}_series_dropped"


def _source_series(section: Section, prefix: str, kind: str, capped: bool = False) -> str:
    """Register a kind's per-source series; `capped` kinds (collected on scrape, with `max_series`) also
    count the series they drop."""
    section.metric(up(prefix), "gauge", _SRC, f"1 if the last scrape of every {kind} endpoint succeeded")
    section.metric(scrape_duration(prefix), "gauge", _SRC, f"Seconds the last {kind} scrape took")
    section.metric(
        scrape_errors(prefix),
        "counter",
        (SOURCE_LABEL, "kind"),
        f"{kind} scrape errors by kind: {', '.join(ERROR_KINDS)}",
    )
    if capped:
        section.metric(
            series_dropped(prefix),
            "counter",
            _SRC,
            f"{kind} series not exported because a collection gave more than the source's max_series",
        )
    return prefix


# --- HDFS (NameNode and DataNode /jmx) ----------------------------------------------------------------

_NN = (SOURCE_LABEL, "namenode")
_DN = (SOURCE_LABEL, "datanode")
_hdfs = REGISTRY.section(
    "HDFS",
    "From each NameNode's `/jmx` (FSNamesystem, FSNamesystemState, NameNodeInfo); `namenode` and "
    "`datanode` are `host:port`. Per-DataNode series come from the active NameNode's LiveNodes and "
    "DeadNodes; volume series and transfer threads from each listed DataNode's own `/jmx`.",
)
HDFS_PREFIX = _source_series(_hdfs, "hdfs", "hdfs", capped=True)
HDFS_CAPACITY_TOTAL_BYTES = _hdfs.metric(
    "hdfs_namenode_capacity_total_bytes", "gauge", _NN, "Configured capacity in bytes"
)
HDFS_CAPACITY_USED_BYTES = _hdfs.metric("hdfs_namenode_capacity_used_bytes", "gauge", _NN, "DFS used bytes")
HDFS_CAPACITY_REMAINING_BYTES = _hdfs.metric(
    "hdfs_namenode_capacity_remaining_bytes", "gauge", _NN, "Remaining bytes"
)
HDFS_MISSING_BLOCKS = _hdfs.metric(
    "hdfs_namenode_missing_blocks", "gauge", _NN, "Blocks with no replica left"
)
HDFS_CORRUPT_BLOCKS = _hdfs.metric("hdfs_namenode_corrupt_blocks", "gauge", _NN, "Corrupt blocks")
HDFS_UNDER_REPLICATED_BLOCKS = _hdfs.metric(
    "hdfs_namenode_under_replicated_blocks", "gauge", _NN, "Under-replicated blocks"
)
HDFS_PENDING_REPLICATION_BLOCKS = _hdfs.metric(
    "hdfs_namenode_pending_replication_blocks", "gauge", _NN, "Blocks pending replication"
)
HDFS_BLOCKS_TOTAL = _hdfs.metric("hdfs_namenode_blocks", "gauge", _NN, "Blocks in the namespace")
HDFS_FILES_TOTAL = _hdfs.metric("hdfs_namenode_files", "gauge", _NN, "Files and directories in the namespace")
HDFS_LIVE_DATANODES = _hdfs.metric("hdfs_namenode_live_datanodes", "gauge", _NN, "Live DataNodes")
HDFS_DEAD_DATANODES = _hdfs.metric("hdfs_namenode_dead_datanodes", "gauge", _NN, "Dead DataNodes")
HDFS_STALE_DATANODES = _hdfs.metric("hdfs_namenode_stale_datanodes", "gauge", _NN, "DataNodes marked stale")
HDFS_VOLUME_FAILURES = _hdfs.metric("hdfs_namenode_volume_failures", "gauge", _NN, "Failed DataNode volumes")
HDFS_SAFEMODE = _hdfs.metric("hdfs_namenode_safemode", "gauge", _NN, "1 while the NameNode is in safemode")
HDFS_HA_ACTIVE = _hdfs.metric(
    "hdfs_namenode_active",
    "gauge",
    _NN,
    "1 on the active NameNode (or one without HA), 0 on a standby",
)
HDFS_HA_STATE = _hdfs.metric(
    "hdfs_namenode_ha_state",
    "gauge",
    (*_NN, "state"),
    "1 for the NameNode's HA state: active, standby, observer, initializing or stopping",
)
HDFS_TRANSACTIONS_SINCE_CHECKPOINT = _hdfs.metric(
    "hdfs_namenode_transactions_since_last_checkpoint",
    "gauge",
    _NN,
    "Edit-log transactions since the last checkpoint",
)
HDFS_LAST_CHECKPOINT_TIMESTAMP = _hdfs.metric(
    "hdfs_namenode_last_checkpoint_timestamp_seconds", "gauge", _NN, "Unix time of the last checkpoint"
)
HDFS_CHECKPOINT_AGE_SECONDS = _hdfs.metric(
    "hdfs_namenode_checkpoint_age_seconds", "gauge", _NN, "Seconds since the last checkpoint, at scrape time"
)
HDFS_DATANODE_CAPACITY_BYTES = _hdfs.metric(
    "hdfs_datanode_capacity_bytes", "gauge", _DN, "DataNode capacity (live DataNodes)"
)
HDFS_DATANODE_USED_BYTES = _hdfs.metric(
    "hdfs_datanode_used_bytes", "gauge", _DN, "DataNode DFS used bytes (live DataNodes)"
)
HDFS_DATANODE_REMAINING_BYTES = _hdfs.metric(
    "hdfs_datanode_remaining_bytes", "gauge", _DN, "DataNode remaining bytes (live DataNodes)"
)
HDFS_DATANODE_BLOCKS = _hdfs.metric(
    "hdfs_datanode_blocks", "gauge", _DN, "Blocks on the DataNode (live DataNodes)"
)
HDFS_DATANODE_VOLUME_FAILURES = _hdfs.metric(
    "hdfs_datanode_volume_failures", "gauge", _DN, "Failed volumes on the DataNode (live DataNodes)"
)
HDFS_DATANODE_LAST_CONTACT_SECONDS = _hdfs.metric(
    "hdfs_datanode_last_contact_seconds", "gauge", _DN, "Seconds since the DataNode's last heartbeat"
)
HDFS_DATANODE_LIVE = _hdfs.metric(
    "hdfs_datanode_live", "gauge", _DN, "1 if the NameNode lists the DataNode as live, 0 if dead"
)
HDFS_DATANODE_VOLUME_USED_BYTES = _hdfs.metric(
    "hdfs_datanode_volume_used_bytes", "gauge", (*_DN, "volume"), "Bytes used on the volume"
)
HDFS_DATANODE_VOLUME_FREE_BYTES = _hdfs.metric(
    "hdfs_datanode_volume_free_bytes", "gauge", (*_DN, "volume"), "Bytes free on the volume"
)
HDFS_DATANODE_XCEIVERS = _hdfs.metric("hdfs_datanode_xceivers", "gauge", _DN, "Active data transfer threads")

# --- YARN (ResourceManager REST) -----------------------------------------------------------------------

_QUEUE = (SOURCE_LABEL, "queue", "scheduler")
_yarn = REGISTRY.section(
    "YARN",
    "From the active ResourceManager's `/ws/v1/cluster/metrics`, `/ws/v1/cluster/scheduler` and "
    "`/ws/v1/cluster/apps`. `queue` is the full path (`root.a.a1`; an application's leaf queue name is "
    "resolved through the scheduler's queues); `scheduler` is capacity, fair or fifo.",
)
YARN_PREFIX = _source_series(_yarn, "yarn", "yarn", capped=True)
YARN_APPS_SUBMITTED = _yarn.metric(
    "yarn_cluster_apps_submitted", "counter", _SRC, "Applications submitted since the RM started"
)
YARN_APPS_COMPLETED = _yarn.metric(
    "yarn_cluster_apps_completed", "counter", _SRC, "Applications completed since the RM started"
)
YARN_APPS_FAILED = _yarn.metric(
    "yarn_cluster_apps_failed", "counter", _SRC, "Applications failed since the RM started"
)
YARN_APPS_KILLED = _yarn.metric(
    "yarn_cluster_apps_killed", "counter", _SRC, "Applications killed since the RM started"
)
YARN_APPS_PENDING = _yarn.metric("yarn_cluster_apps_pending", "gauge", _SRC, "Applications waiting to start")
YARN_APPS_RUNNING = _yarn.metric("yarn_cluster_apps_running", "gauge", _SRC, "Applications running")
YARN_CONTAINERS = _yarn.metric(
    "yarn_cluster_containers", "gauge", (*_SRC, "state"), "Containers by state: allocated, reserved, pending"
)
YARN_MEMORY_BYTES = _yarn.metric(
    "yarn_cluster_memory_bytes",
    "gauge",
    (*_SRC, "state"),
    "Cluster memory by state: total, allocated, available, reserved",
)
YARN_VCORES = _yarn.metric(
    "yarn_cluster_vcores",
    "gauge",
    (*_SRC, "state"),
    "Cluster vcores by state: total, allocated, available, reserved",
)
YARN_NODES = _yarn.metric(
    "yarn_cluster_nodes",
    "gauge",
    (*_SRC, "state"),
    "NodeManagers by state: total, active, lost, unhealthy, decommissioned, rebooted",
)
YARN_ACTIVE_RM = _yarn.metric(
    "yarn_resourcemanager_active",
    "gauge",
    (*_SRC, "resourcemanager"),
    "1 on the ResourceManager the cluster series came from; 0 on the others and on one that failed",
)
YARN_QUEUE_CAPACITY = _yarn.metric(
    "yarn_queue_capacity_ratio", "gauge", _QUEUE, "Guaranteed share of the cluster (absolute capacity), 0..1"
)
YARN_QUEUE_MAX_CAPACITY = _yarn.metric(
    "yarn_queue_max_capacity_ratio", "gauge", _QUEUE, "Maximum share of the cluster, 0..1"
)
YARN_QUEUE_USED_CAPACITY = _yarn.metric(
    "yarn_queue_used_capacity_ratio", "gauge", _QUEUE, "Share of the whole cluster in use, 0..1"
)
YARN_QUEUE_APPS = _yarn.metric(
    "yarn_queue_apps", "gauge", (*_QUEUE, "state"), "Applications by state: running (active) and pending"
)
YARN_QUEUE_PENDING_CONTAINERS = _yarn.metric(
    "yarn_queue_pending_containers", "gauge", _QUEUE, "Containers waiting for resources"
)
YARN_QUEUE_USED_MEMORY_BYTES = _yarn.metric(
    "yarn_queue_used_memory_bytes", "gauge", _QUEUE, "Memory used by the queue"
)
YARN_QUEUE_APPS_ENDED = _yarn.metric(
    "yarn_queue_apps_ended",
    "gauge",
    (SOURCE_LABEL, "queue", "state"),
    "Applications of the queue that ended FAILED or KILLED within the source's applications_window "
    "(`/ws/v1/cluster/apps?states=FAILED,KILLED&finishedTimeBegin=`); state: failed, killed",
)
YARN_APPS_QUEUES_FOLDED = _yarn.metric(
    "yarn_apps_queues_folded",
    "gauge",
    _SRC,
    'Queues with ended applications past max_queues, whose counts are summed into queue="(other)"',
)
YARN_APP_RUNNING_SECONDS = _yarn.metric(
    "yarn_app_running_seconds",
    "gauge",
    (SOURCE_LABEL, "queue", "app_id", "app_name", "user"),
    "Elapsed time of the longest-running applications (at most max_running_applications, longest first)",
)

# --- Spark (REST /api/v1) ----------------------------------------------------------------------------

_APP = (SOURCE_LABEL, "app_name", "app_id")
_spark = REGISTRY.section(
    "Spark",
    "Per application kept (running, or ended within `lookback`), from a driver or history server's "
    "`/api/v1`. Ids are label values, never part of a name. With `granularity: executor` (the default) "
    'the driver (`executor_id="driver"`) and each active executor, at most `max_executors`, also get '
    "`spark_executor_*` series.",
)
SPARK_PREFIX = _source_series(_spark, "spark", "spark", capped=True)
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

# --- Kafka consumer lag ----------------------------------------------------------------------------------

KAFKA_CLUSTER_LABEL = "cluster"
KAFKA_BAD_STATUSES = ("STALL", "STOP", "REWIND")
_ROW = (KAFKA_CLUSTER_LABEL, "group", "topic", "partition")
_GROUP = (KAFKA_CLUSTER_LABEL, "group")
_STATUSES = "OK, WARN, STALL, STOP, REWIND, NO_COMMIT"
_kafka = REGISTRY.section(
    "Kafka consumer lag",
    "From the latest background poll; `cluster` is the catalog source name. Statuses follow Burrow's "
    "rules over the last `status_window` polls.",
)
KAFKA_PREFIX = _source_series(_kafka, "kafka_consumergroup", "kafka")
KAFKA_PARTITION_COMMITTED_OFFSET = _kafka.metric(
    "kafka_consumergroup_partition_committed_offset", "gauge", _ROW, "Committed offset"
)
KAFKA_PARTITION_LATEST_OFFSET = _kafka.metric(
    "kafka_consumergroup_partition_latest_offset",
    "gauge",
    (KAFKA_CLUSTER_LABEL, "topic", "partition"),
    "Log-end offset",
)
KAFKA_PARTITION_LAG_OFFSETS = _kafka.metric(
    "kafka_consumergroup_partition_lag_offsets", "gauge", _ROW, "Lag in offsets"
)
KAFKA_PARTITION_LAG_SECONDS = _kafka.metric(
    "kafka_consumergroup_partition_lag_seconds",
    "gauge",
    _ROW,
    "Estimated lag in seconds (NaN: too little history)",
)
KAFKA_PARTITION_STATUS = _kafka.metric(
    "kafka_consumergroup_partition_status",
    "gauge",
    (*_ROW, "status"),
    f"1 for the partition's Burrow status: {_STATUSES}",
)
KAFKA_TOPIC_SUM_LAG_OFFSETS = _kafka.metric(
    "kafka_consumergroup_topic_sum_lag_offsets",
    "gauge",
    (*_GROUP, "topic"),
    "Lag in offsets summed over the topic's partitions",
)
KAFKA_TOPIC_MAX_LAG_SECONDS = _kafka.metric(
    "kafka_consumergroup_topic_max_lag_seconds",
    "gauge",
    (*_GROUP, "topic"),
    "Largest lag in seconds over the topic's partitions",
)
KAFKA_GROUP_MAX_LAG_SECONDS = _kafka.metric(
    "kafka_consumergroup_group_max_lag_seconds", "gauge", _GROUP, "Largest lag in seconds over the group"
)
KAFKA_GROUP_SUM_LAG_OFFSETS = _kafka.metric(
    "kafka_consumergroup_group_sum_lag_offsets", "gauge", _GROUP, "Lag in offsets summed over the group"
)
KAFKA_GROUP_STATUS = _kafka.metric(
    "kafka_consumergroup_group_status",
    "gauge",
    (*_GROUP, "status"),
    "1 for the group's status: its worst partition's",
)
KAFKA_POLL_DURATION_SECONDS = _kafka.metric(
    "kafka_consumergroup_poll_duration_seconds", "gauge", _SRC, "Seconds the last poll took"
)
KAFKA_POLL_AGE_SECONDS = _kafka.metric(
    "kafka_consumergroup_poll_last_success_age_seconds",
    "gauge",
    _SRC,
    "Seconds since the last successful poll",
)

# --- freshness (SQL tables, Airflow runs, files, pushes, Great Expectations) -------------------------

_DS = ("dataset",)
_DAG = ("dataset", "dag_id")
_SUITE = ("dataset", "suite")
_EXPECTATION = ("dataset", "suite", "expectation", "column")
_freshness = REGISTRY.section(
    "Freshness",
    "One source per catalog dataset (`source` is the dataset's name): by SQL, the Airflow REST API, file "
    "mtimes or a Pushgateway a batch job pushed to (`watchkeeper push freshness`). A batch job's pushed "
    "timestamp carries the Pushgateway's `job` label instead; the alerts aggregate `by (dataset)`.",
)
FRESHNESS_PREFIX = _source_series(_freshness, "watchkeeper_freshness", "freshness", capped=True)
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

# --- inference probes -------------------------------------------------------------------------------------

INFERENCE_ERROR_KINDS = ("timeout", "connection", "status", "shape")
"""Why a probe failed: no answer within the timeout; no connection (refused, reset, TLS); an HTTP status
not in `expected_status`; a body that is not JSON or lacks `expect_json_path`."""
INFERENCE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10)
"""Latency bucket bounds in seconds (model serving: 5 ms to 10 s); a source's `latency_target` is added
when it is not one of them, so a latency SLO on the target always has its bucket."""
_inference = REGISTRY.section(
    "Inference probes",
    "Each endpoint is probed in the background every `interval` with its configured request; scrapes "
    "serve the latest results. `up` is the last probe's success (0 before the first probe ends). The "
    "histogram observes every probe that was answered (any status) or timed out (at its duration); a "
    "refused connection has no latency and is not observed.",
)
INFERENCE_PREFIX = _source_series(_inference, "watchkeeper_inference", "inference")
INFERENCE_PROBE_DURATION_SECONDS = _inference.metric(
    "watchkeeper_inference_probe_duration_seconds",
    "histogram",
    _SRC,
    "Probe latency, request sent to last byte read, cumulative over probes",
)
INFERENCE_PROBES = _inference.metric(
    "watchkeeper_inference_probes", "counter", _SRC, "Probes sent, failed or not"
)
INFERENCE_PROBE_ERRORS = _inference.metric(
    "watchkeeper_inference_probe_errors",
    "counter",
    (*_SRC, "kind"),
    "Failed probes by kind: timeout, connection, status, shape",
)
INFERENCE_PROBE_SUCCESS = _inference.metric(
    "watchkeeper_inference_probe_success", "gauge", _SRC, "1 if the last probe succeeded, else 0"
)
INFERENCE_PROBE_STATUS_CODE = _inference.metric(
    "watchkeeper_inference_probe_status_code",
    "gauge",
    _SRC,
    "HTTP status of the last probe's answer (0: no answer)",
)
INFERENCE_PROBE_LAST_DURATION_SECONDS = _inference.metric(
    "watchkeeper_inference_probe_last_duration_seconds", "gauge", _SRC, "Seconds the last probe took"
)
INFERENCE_PROBE_AGE_SECONDS = _inference.metric(
    "watchkeeper_inference_probe_last_age_seconds",
    "gauge",
    _SRC,
    "Seconds since the last probe ended, at scrape time",
)

METRICS = REGISTRY.by_name()
"""Every metric above by name: the writer's source of HELP and UNIT."""
