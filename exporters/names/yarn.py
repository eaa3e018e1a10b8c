"""YARN metric names: the active ResourceManager's cluster, scheduler and applications endpoints.

Registered in `exporters.names.REGISTRY`; rules, dashboards and tests import them from `exporters.names`.
"""

from __future__ import annotations

from exporters.names.runtime import REGISTRY, SOURCE_LABEL, source_series

_SRC = (SOURCE_LABEL,)

_QUEUE = (SOURCE_LABEL, "queue", "scheduler")
_yarn = REGISTRY.section(
    "YARN",
    "From the active ResourceManager's `/ws/v1/cluster/metrics`, `/ws/v1/cluster/scheduler` and "
    "`/ws/v1/cluster/apps`. `queue` is the full path (`root.a.a1`; an application's leaf queue name is "
    "resolved through the scheduler's queues); `scheduler` is capacity, fair or fifo.",
    __name__,
)
YARN_PREFIX = source_series(_yarn, "yarn", "yarn", capped=True)
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
