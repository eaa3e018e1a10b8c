"""HDFS metric names: each NameNode's and DataNode's `/jmx`.

Registered in `exporters.names.REGISTRY`; rules, dashboards and tests import them from `exporters.names`.
"""

from __future__ import annotations

from exporters.names.runtime import REGISTRY, SOURCE_LABEL, source_series

_NN = (SOURCE_LABEL, "namenode")
_DN = (SOURCE_LABEL, "datanode")
_hdfs = REGISTRY.section(
    "HDFS",
    "From each NameNode's `/jmx` (FSNamesystem, FSNamesystemState, NameNodeInfo); `namenode` and "
    "`datanode` are `host:port`. Per-DataNode series come from the active NameNode's LiveNodes and "
    "DeadNodes; volume series and transfer threads from each listed DataNode's own `/jmx`.",
    __name__,
)
HDFS_PREFIX = source_series(_hdfs, "hdfs", "hdfs", capped=True)
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
