"""Metric names the exporters produce: the contract that rules, dashboards and reports import.

Every source reports `<prefix>_up`, `<prefix>_scrape_duration_seconds` and
`<prefix>_scrape_errors_total{kind}`, labelled `source` (the catalog source name). Series never
carry team or owner labels: ownership is joined through `watchkeeper_ownership_info`.
"""

from __future__ import annotations

# --- runtime ----------------------------------------------------------------------------------------

EXPORTER_JOB = "watchkeeper-exporter"
"""The Prometheus job name the generated alerts expect for `watchkeeper exporter` targets."""
SOURCE_LABEL = "source"
OWNERSHIP_INFO = "watchkeeper_ownership_info"
"""1 per catalog service; labels `service`, `team`, `tier`."""
ERROR_KINDS = ("timeout", "connection", "http_status", "parse", "too_large")


def up(prefix: str) -> str:
    return f"{prefix}_up"


def scrape_duration(prefix: str) -> str:
    return f"{prefix}_scrape_duration_seconds"


def scrape_errors(prefix: str) -> str:
    """A counter; exposed with the `_total` suffix."""
    return f"{prefix}_scrape_errors"


# --- HDFS (NameNode and DataNode /jmx); labels source, namenode ---------------------------------------

HDFS_PREFIX = "hdfs"
HDFS_CAPACITY_TOTAL_BYTES = "hdfs_namenode_capacity_total_bytes"
HDFS_CAPACITY_USED_BYTES = "hdfs_namenode_capacity_used_bytes"
HDFS_CAPACITY_REMAINING_BYTES = "hdfs_namenode_capacity_remaining_bytes"
HDFS_MISSING_BLOCKS = "hdfs_namenode_missing_blocks"
HDFS_CORRUPT_BLOCKS = "hdfs_namenode_corrupt_blocks"
HDFS_UNDER_REPLICATED_BLOCKS = "hdfs_namenode_under_replicated_blocks"
HDFS_PENDING_REPLICATION_BLOCKS = "hdfs_namenode_pending_replication_blocks"
HDFS_BLOCKS_TOTAL = "hdfs_namenode_blocks"
HDFS_FILES_TOTAL = "hdfs_namenode_files"
HDFS_LIVE_DATANODES = "hdfs_namenode_live_datanodes"
HDFS_DEAD_DATANODES = "hdfs_namenode_dead_datanodes"
HDFS_STALE_DATANODES = "hdfs_namenode_stale_datanodes"
HDFS_VOLUME_FAILURES = "hdfs_namenode_volume_failures"
HDFS_SAFEMODE = "hdfs_namenode_safemode"
"""1 while the NameNode is in safemode."""
HDFS_HA_ACTIVE = "hdfs_namenode_active"
"""1 on the active NameNode, 0 on a standby (or a NameNode without HA reporting `active`)."""
HDFS_HA_STATE = "hdfs_namenode_ha_state"
"""1, labelled `state` (active, standby, observer, initializing, stopping)."""
HDFS_TRANSACTIONS_SINCE_CHECKPOINT = "hdfs_namenode_transactions_since_last_checkpoint"
HDFS_LAST_CHECKPOINT_TIMESTAMP = "hdfs_namenode_last_checkpoint_timestamp_seconds"
HDFS_CHECKPOINT_AGE_SECONDS = "hdfs_namenode_checkpoint_age_seconds"
"""Seconds since the last checkpoint, at scrape time (the same as time() minus the timestamp)."""
# Per DataNode, from NameNodeInfo's LiveNodes/DeadNodes; labels source, namenode, datanode.
HDFS_DATANODE_CAPACITY_BYTES = "hdfs_datanode_capacity_bytes"
HDFS_DATANODE_USED_BYTES = "hdfs_datanode_used_bytes"
HDFS_DATANODE_REMAINING_BYTES = "hdfs_datanode_remaining_bytes"
HDFS_DATANODE_BLOCKS = "hdfs_datanode_blocks"
HDFS_DATANODE_VOLUME_FAILURES = "hdfs_datanode_volume_failures"
HDFS_DATANODE_LAST_CONTACT_SECONDS = "hdfs_datanode_last_contact_seconds"
HDFS_DATANODE_LIVE = "hdfs_datanode_live"
"""1 for a DataNode the NameNode lists as live, 0 for one it lists as dead."""
# From a DataNode's own /jmx (DataNodeInfo); labels source, datanode, volume.
HDFS_DATANODE_VOLUME_USED_BYTES = "hdfs_datanode_volume_used_bytes"
HDFS_DATANODE_VOLUME_FREE_BYTES = "hdfs_datanode_volume_free_bytes"
HDFS_DATANODE_XCEIVERS = "hdfs_datanode_xceivers"

# --- YARN (ResourceManager REST); labels source -------------------------------------------------------

YARN_PREFIX = "yarn"
YARN_APPS_SUBMITTED = "yarn_cluster_apps_submitted"
YARN_APPS_COMPLETED = "yarn_cluster_apps_completed"
YARN_APPS_FAILED = "yarn_cluster_apps_failed"
YARN_APPS_KILLED = "yarn_cluster_apps_killed"
"""The four above are counters, exposed with `_total`."""
YARN_APPS_PENDING = "yarn_cluster_apps_pending"
YARN_APPS_RUNNING = "yarn_cluster_apps_running"
YARN_CONTAINERS = "yarn_cluster_containers"
"""Label `state`: allocated, reserved, pending."""
YARN_MEMORY_BYTES = "yarn_cluster_memory_bytes"
"""Label `state`: total, allocated, available, reserved."""
YARN_VCORES = "yarn_cluster_vcores"
"""Label `state`: total, allocated, available, reserved."""
YARN_NODES = "yarn_cluster_nodes"
"""Label `state`: total, active, lost, unhealthy, decommissioned, rebooted."""
YARN_ACTIVE_RM = "yarn_resourcemanager_active"
"""1, labelled `resourcemanager`: the RM that answered as active."""
# Per queue; labels source, queue (full path such as root.a.a1), scheduler.
YARN_QUEUE_CAPACITY = "yarn_queue_capacity_ratio"
"""Guaranteed share of the cluster (absolute capacity), 0..1."""
YARN_QUEUE_MAX_CAPACITY = "yarn_queue_max_capacity_ratio"
YARN_QUEUE_USED_CAPACITY = "yarn_queue_used_capacity_ratio"
"""Share of the whole cluster in use (absolute used capacity), 0..1."""
YARN_QUEUE_APPS = "yarn_queue_apps"
"""Label `state`: running (active) and pending."""
YARN_QUEUE_PENDING_CONTAINERS = "yarn_queue_pending_containers"
YARN_QUEUE_USED_MEMORY_BYTES = "yarn_queue_used_memory_bytes"

# --- Spark (REST /api/v1); labels source, app_name, app_id ---------------------------------------------

SPARK_PREFIX = "spark"
SPARK_APP_RUNNING = "spark_application_running"
"""1 while the application runs, 0 once it completed."""
SPARK_APP_DURATION_SECONDS = "spark_application_duration_seconds"
SPARK_APP_JOBS = "spark_application_jobs"
"""Label `status`: running, succeeded, failed, unknown."""
SPARK_APP_STAGES = "spark_application_stages"
"""Label `status`: active, complete, pending, failed, skipped."""
SPARK_APP_TASKS = "spark_application_tasks"
"""Label `status`: active, failed, completed (summed over executors)."""
SPARK_APP_EXECUTORS = "spark_application_executors"
SPARK_APP_MEMORY_USED_BYTES = "spark_application_executor_memory_used_bytes"
SPARK_APP_MEMORY_MAX_BYTES = "spark_application_executor_memory_max_bytes"
SPARK_APP_GC_SECONDS = "spark_application_executor_gc_seconds"
SPARK_APP_SHUFFLE_READ_BYTES = "spark_application_shuffle_read_bytes"
SPARK_APP_SHUFFLE_WRITE_BYTES = "spark_application_shuffle_write_bytes"

# --- Kafka consumer lag; labels cluster, group, topic, partition ---------------------------------------

KAFKA_PREFIX = "kafka_consumergroup"
KAFKA_CLUSTER_LABEL = "cluster"
KAFKA_PARTITION_COMMITTED_OFFSET = "kafka_consumergroup_partition_committed_offset"
KAFKA_PARTITION_LATEST_OFFSET = "kafka_consumergroup_partition_latest_offset"
KAFKA_PARTITION_LAG_OFFSETS = "kafka_consumergroup_partition_lag_offsets"
KAFKA_PARTITION_LAG_SECONDS = "kafka_consumergroup_partition_lag_seconds"
KAFKA_PARTITION_STATUS = "kafka_consumergroup_partition_status"
"""1, labelled `status` (OK, WARN, STALL, STOP, REWIND, NO_COMMIT): Burrow's evaluation."""
KAFKA_TOPIC_SUM_LAG_OFFSETS = "kafka_consumergroup_topic_sum_lag_offsets"
KAFKA_TOPIC_MAX_LAG_SECONDS = "kafka_consumergroup_topic_max_lag_seconds"
KAFKA_GROUP_MAX_LAG_SECONDS = "kafka_consumergroup_group_max_lag_seconds"
"""The largest estimated lag in seconds over a group's partitions; labels `cluster`, `group`."""
KAFKA_GROUP_SUM_LAG_OFFSETS = "kafka_consumergroup_group_sum_lag_offsets"
KAFKA_GROUP_STATUS = "kafka_consumergroup_group_status"
"""1, labelled `status`: the worst status of the group's partitions."""
KAFKA_POLL_DURATION_SECONDS = "kafka_consumergroup_poll_duration_seconds"
KAFKA_POLL_AGE_SECONDS = "kafka_consumergroup_poll_last_success_age_seconds"
KAFKA_BAD_STATUSES = ("STALL", "STOP", "REWIND")

# --- freshness (SQL tables, Airflow runs, files, Great Expectations); label dataset --------------------

FRESHNESS_PREFIX = "watchkeeper_freshness"
FRESHNESS_AGE_SECONDS = "watchkeeper_freshness_age_seconds"
"""Age of the newest row, partition, run or file of a dataset; label `dataset`."""
GE_VALIDATION_SUCCESS = "watchkeeper_great_expectations_success"
"""1 if the latest validation of a dataset passed, else 0; label `dataset`."""
GE_UNEXPECTED_COUNT = "watchkeeper_great_expectations_unexpected_count"

# --- inference probes; label source ---------------------------------------------------------------------

INFERENCE_PREFIX = "watchkeeper_inference"
INFERENCE_PROBE_DURATION_SECONDS = "watchkeeper_inference_probe_duration_seconds"
"""A histogram of probe latency."""
INFERENCE_PROBES = "watchkeeper_inference_probes"
"""Counter of probes sent, exposed with `_total`."""
INFERENCE_PROBE_ERRORS = "watchkeeper_inference_probe_errors"
"""Counter of failed probes labelled `kind`, exposed with `_total`."""
INFERENCE_PROBE_SUCCESS = "watchkeeper_inference_probe_success"
"""1 if the last probe succeeded."""
