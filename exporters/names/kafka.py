"""Kafka consumer-lag metric names: offsets, lag in offsets and seconds, Burrow statuses.

Registered in `exporters.names.REGISTRY`; rules, dashboards and tests import them from `exporters.names`.
"""

from __future__ import annotations

from exporters.names.runtime import REGISTRY, SOURCE_LABEL, source_series

_SRC = (SOURCE_LABEL,)

KAFKA_CLUSTER_LABEL = "cluster"
KAFKA_BAD_STATUSES = ("STALL", "STOP", "REWIND")
_ROW = (KAFKA_CLUSTER_LABEL, "group", "topic", "partition")
_GROUP = (KAFKA_CLUSTER_LABEL, "group")
_STATUSES = "OK, WARN, STALL, STOP, REWIND, NO_COMMIT"
_kafka = REGISTRY.section(
    "Kafka consumer lag",
    "From the latest background poll; `cluster` is the catalog source name. Statuses follow Burrow's "
    "rules over the last `status_window` polls.",
    __name__,
)
KAFKA_PREFIX = source_series(_kafka, "kafka_consumergroup", "kafka")
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
