"""YARN from the ResourceManager REST API: cluster metrics and per-queue scheduler state, following the active RM."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from catalog.model import YarnSource
from exporters import names as m
from exporters.errors import ScrapeError
from exporters.http import endpoint, resolve_auth
from exporters.metric_set import MetricSet, number
from exporters.runtime import Scrape, Source, http_settings

MB = 1024 * 1024

_COUNTERS = [
    (m.YARN_APPS_SUBMITTED, "Applications submitted since the RM started", "appsSubmitted"),
    (m.YARN_APPS_COMPLETED, "Applications completed since the RM started", "appsCompleted"),
    (m.YARN_APPS_FAILED, "Applications failed since the RM started", "appsFailed"),
    (m.YARN_APPS_KILLED, "Applications killed since the RM started", "appsKilled"),
]
_STATES = {
    m.YARN_CONTAINERS: (
        "Containers by state",
        1,
        {
            "allocated": "containersAllocated",
            "reserved": "containersReserved",
            "pending": "containersPending",
        },
    ),
    m.YARN_MEMORY_BYTES: (
        "Cluster memory by state",
        MB,
        {
            "total": "totalMB",
            "allocated": "allocatedMB",
            "available": "availableMB",
            "reserved": "reservedMB",
        },
    ),
    m.YARN_VCORES: (
        "Cluster vcores by state",
        1,
        {
            "total": "totalVirtualCores",
            "allocated": "allocatedVirtualCores",
            "available": "availableVirtualCores",
            "reserved": "reservedVirtualCores",
        },
    ),
    m.YARN_NODES: (
        "NodeManagers by state",
        1,
        {
            "total": "totalNodes",
            "active": "activeNodes",
            "lost": "lostNodes",
            "unhealthy": "unhealthyNodes",
            "decommissioned": "decommissionedNodes",
            "rebooted": "rebootedNodes",
        },
    ),
}
_REQUIRED = ("appsSubmitted", "appsCompleted", "appsFailed", "appsKilled", "appsPending", "appsRunning")


def _children(queue: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Sub-queues: `{"queue": [...]}` (capacity, newer fair) or a bare list (older fair)."""
    child = queue.get(key)
    if isinstance(child, dict):
        child = child.get("queue")
    if isinstance(child, dict):
        child = [child]
    return [c for c in child or [] if isinstance(c, dict)]


class YarnCollector(Source):
    kind = "yarn"
    prefix = m.YARN_PREFIX

    def __init__(self, config: YarnSource) -> None:
        super().__init__(config.name, config.service, **http_settings(config))
        self.config = config
        self.auth: httpx.Auth | None = resolve_auth(config.auth, f"yarn source {config.name}")

    async def _get(self, scrape: Scrape, base: str, path: str) -> Any:
        return await scrape.http.get_json(
            f"{base.rstrip('/')}{path}", timeout=self.timeout, auth=self.auth, verify=self.config.tls_verify
        )

    async def _active(self, scrape: Scrape) -> str:
        """The first RM reporting haState ACTIVE (or no haState: HA is off); errors if none is active."""
        if len(self.config.resourcemanagers) == 1:
            return self.config.resourcemanagers[0]
        answers = await asyncio.gather(
            *(self._get(scrape, rm, "/ws/v1/cluster/info") for rm in self.config.resourcemanagers),
            return_exceptions=True,
        )
        errors = []
        for rm, answer in zip(self.config.resourcemanagers, answers, strict=True):
            if isinstance(answer, ScrapeError):
                errors.append(answer)
                continue
            if isinstance(answer, BaseException):
                raise answer
            info = answer.get("clusterInfo", {}) if isinstance(answer, dict) else {}
            if str(info.get("haState", "ACTIVE")).upper() == "ACTIVE":
                return rm
        if errors:
            raise errors[0]
        raise ScrapeError("http_status", f"no ResourceManager of {self.name} reports itself ACTIVE")

    async def collect(self, scrape: Scrape) -> None:
        active: str | None = None
        answered = False
        try:
            active = await self._active(scrape)
            answers: tuple[Any, Any] = await asyncio.gather(
                self._get(scrape, active, "/ws/v1/cluster/metrics"),
                self._get(scrape, active, "/ws/v1/cluster/scheduler"),
                return_exceptions=True,
            )
            for handler, answer in zip((self._cluster, self._scheduler), answers, strict=True):
                if isinstance(answer, ScrapeError):
                    scrape.fail(answer)
                    continue
                if isinstance(answer, BaseException):
                    raise answer
                try:
                    handler(scrape, answer, active)
                except ScrapeError as exc:
                    scrape.fail(exc)
                else:
                    answered = answered or handler == self._cluster
        finally:
            # Also on errors and timeouts: every listed RM gets a series, and 1 only for the one the
            # cluster series came from. An RM that failed, answered 404 or was never reached is 0.
            for rm in self.config.resourcemanagers:
                scrape.metrics.gauge(
                    m.YARN_ACTIVE_RM,
                    "1 on the ResourceManager the cluster series came from",
                    {m.SOURCE_LABEL: self.name, "resourcemanager": endpoint(rm)},
                    1 if answered and rm == active else 0,
                )

    def _cluster(self, scrape: Scrape, payload: Any, url: str) -> None:
        cm = payload.get("clusterMetrics") if isinstance(payload, dict) else None
        if not isinstance(cm, dict):
            raise ScrapeError("parse", f"{url}/ws/v1/cluster/metrics: no clusterMetrics object")
        out, labels = scrape.metrics, {m.SOURCE_LABEL: self.name}
        for metric, help_text, key in _COUNTERS:
            out.counter(metric, help_text, labels, number(cm.get(key)))
        out.gauge(m.YARN_APPS_PENDING, "Applications waiting to start", labels, number(cm.get("appsPending")))
        out.gauge(m.YARN_APPS_RUNNING, "Applications running", labels, number(cm.get("appsRunning")))
        for metric, (help_text, scale, keys) in _STATES.items():
            for state, key in keys.items():
                value = number(cm.get(key))
                out.gauge(
                    metric,
                    help_text,
                    {**labels, "state": state},
                    value * scale if value is not None else None,
                )
        missing = [k for k in _REQUIRED if number(cm.get(k)) is None]
        if missing:
            scrape.fail(ScrapeError("parse", f"{url}/ws/v1/cluster/metrics lacks {', '.join(missing)}"))

    def _scheduler(self, scrape: Scrape, payload: Any, url: str) -> None:
        info = payload.get("scheduler", {}).get("schedulerInfo") if isinstance(payload, dict) else None
        if not isinstance(info, dict):
            raise ScrapeError("parse", f"{url}/ws/v1/cluster/scheduler: no scheduler.schedulerInfo object")
        kind = str(info.get("type", ""))
        if kind == "capacityScheduler":
            self._capacity_queue(scrape.metrics, info, "root", root=True)
        elif kind == "fairScheduler":
            root = info.get("rootQueue")
            if not isinstance(root, dict):
                raise ScrapeError("parse", f"{url}/ws/v1/cluster/scheduler: fairScheduler without rootQueue")
            self._fair_queue(scrape.metrics, root)
        elif kind == "fifoScheduler":
            self._fifo(scrape.metrics, info)
        else:
            raise ScrapeError("parse", f"{url}/ws/v1/cluster/scheduler: unknown scheduler type {kind!r}")

    def _queue(self, out: MetricSet, path: str, scheduler: str, values: dict[str, float | None]) -> None:
        labels = {m.SOURCE_LABEL: self.name, "queue": path, "scheduler": scheduler}
        out.gauge(
            m.YARN_QUEUE_CAPACITY, "Guaranteed share of the cluster, 0..1", labels, values.get("capacity")
        )
        out.gauge(m.YARN_QUEUE_MAX_CAPACITY, "Maximum share of the cluster, 0..1", labels, values.get("max"))
        out.gauge(m.YARN_QUEUE_USED_CAPACITY, "Share of the cluster in use, 0..1", labels, values.get("used"))
        out.gauge(
            m.YARN_QUEUE_APPS, "Applications by state", {**labels, "state": "running"}, values.get("running")
        )
        out.gauge(
            m.YARN_QUEUE_APPS, "Applications by state", {**labels, "state": "pending"}, values.get("pending")
        )
        out.gauge(
            m.YARN_QUEUE_PENDING_CONTAINERS,
            "Containers waiting for resources",
            labels,
            values.get("pending_containers"),
        )
        out.gauge(m.YARN_QUEUE_USED_MEMORY_BYTES, "Memory used by the queue", labels, values.get("memory"))

    def _capacity_queue(self, out: MetricSet, queue: dict[str, Any], path: str, root: bool = False) -> None:
        def pct(key: str) -> float | None:
            value = number(queue.get(key))
            return value / 100 if value is not None else None

        used_mem = (
            number((queue.get("resourcesUsed") or {}).get("memory"))
            if isinstance(queue.get("resourcesUsed"), dict)
            else None
        )
        self._queue(
            out,
            path,
            "capacity",
            {
                "capacity": pct("capacity" if root else "absoluteCapacity"),
                "max": pct("maxCapacity" if root else "absoluteMaxCapacity"),
                "used": pct("usedCapacity" if root else "absoluteUsedCapacity"),
                "running": number(queue.get("numActiveApplications")),
                "pending": number(queue.get("numPendingApplications")),
                "pending_containers": number(queue.get("pendingContainers")),
                "memory": used_mem * MB if used_mem is not None else None,
            },
        )
        for child in _children(queue, "queues"):
            self._capacity_queue(out, child, f"{path}.{child.get('queueName', '?')}")

    def _fair_queue(self, out: MetricSet, queue: dict[str, Any]) -> None:
        def memory(key: str) -> float | None:
            resource = queue.get(key)
            return number(resource.get("memory")) if isinstance(resource, dict) else None

        cluster = memory("clusterResources")

        def share(key: str) -> float | None:
            value = memory(key)
            return min(value / cluster, 1.0) if value is not None and cluster else None

        used = memory("usedResources")
        self._queue(
            out,
            str(queue.get("queueName", "root")),
            "fair",
            {
                "capacity": share("fairResources"),
                "max": share("maxResources"),
                "used": share("usedResources"),
                "running": number(queue.get("numActiveApps")),
                "pending": number(queue.get("numPendingApps")),
                "pending_containers": number(queue.get("pendingContainers")),
                "memory": used * MB if used is not None else None,
            },
        )
        for child in _children(queue, "childQueues"):
            self._fair_queue(out, child)

    def _fifo(self, out: MetricSet, info: dict[str, Any]) -> None:
        total = number(info.get("totalNodeCapacity"))
        used = number(info.get("usedNodeCapacity"))
        self._queue(
            out,
            "root",
            "fifo",
            {"capacity": 1.0, "max": 1.0, "used": used / total if used is not None and total else None},
        )
