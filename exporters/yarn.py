"""YARN from the ResourceManager REST API, following the active RM: cluster metrics, per-queue scheduler
state, and from `/ws/v1/cluster/apps` the applications that failed or were killed per queue within
`applications_window` and the longest-running ones (at most `max_running_applications`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx

from catalog.model.yarn import YarnSource
from exporters import names as m
from exporters.errors import ScrapeError
from exporters.http import endpoint, resolve_auth
from exporters.metric_set import MetricSet, number
from exporters.runtime import Scrape, Source, http_settings
from exporters.yarn_apps import (
    APPS_LIMIT,
    APPS_PATH,
    app_list,
    apps_errors,
    ended_by_queue,
    longest_running,
)

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

    def __init__(self, config: YarnSource, clock: Callable[[], float] = time.time) -> None:
        super().__init__(config.name, config.service, **http_settings(config))
        self.config = config
        self.clock = clock
        self.auth: httpx.Auth | None = resolve_auth(config.auth, f"yarn source {config.name}")

    async def _get(self, scrape: Scrape, base: str, path: str, params: dict[str, str] | None = None) -> Any:
        return await scrape.http.get_json(
            f"{base.rstrip('/')}{path}",
            params=params,
            timeout=self.timeout,
            auth=self.auth,
            verify=self.config.tls_verify,
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
            since_ms = int((self.clock() - self.config.applications_window.seconds) * 1000)
            running = {"states": "RUNNING", "limit": str(APPS_LIMIT)}
            answers = await asyncio.gather(
                self._get(scrape, active, "/ws/v1/cluster/metrics"),
                self._get(scrape, active, "/ws/v1/cluster/scheduler"),
                self._ended_apps(scrape, active, since_ms),
                self._get(scrape, active, APPS_PATH, running)
                if self.config.max_running_applications
                else asyncio.sleep(0, {"apps": None}),
                return_exceptions=True,
            )
            paths: list[str] = []  # the scheduler's queues, filled before the applications are read
            handlers: list[Callable[[Scrape, Any, str], None]] = [
                self._cluster,
                partial(self._scheduler, paths=paths),
                partial(self._ended, paths=paths, since_ms=since_ms),
                partial(self._running, paths=paths),
            ]
            for handler, answer in zip(handlers, answers, strict=True):
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

    async def _ended_apps(self, scrape: Scrape, active: str, since_ms: int) -> dict[str, Any]:
        """Applications that ended in the window: states FAILED and KILLED, and FINISHED with final status
        FAILED (an application master that failed its work but unregistered cleanly, as Spark's does)."""
        window = {"finishedTimeBegin": str(since_ms), "limit": str(APPS_LIMIT)}
        answers = await asyncio.gather(
            self._get(scrape, active, APPS_PATH, {"states": "FAILED,KILLED", **window}),
            self._get(scrape, active, APPS_PATH, {"states": "FINISHED", "finalStatus": "FAILED", **window}),
        )
        lists = [app_list(answer, active.rstrip("/")) for answer in answers]
        merged: dict[str, dict[str, Any]] = {}
        for index, app in enumerate(lists[0] + lists[1]):
            merged.setdefault(app["id"] if isinstance(app.get("id"), str) else f"#{index}", app)
        return {"apps": {"app": list(merged.values())}, "listed": max(map(len, lists))}

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

    def _scheduler(self, scrape: Scrape, payload: Any, url: str, paths: list[str]) -> None:
        info = payload.get("scheduler", {}).get("schedulerInfo") if isinstance(payload, dict) else None
        if not isinstance(info, dict):
            raise ScrapeError("parse", f"{url}/ws/v1/cluster/scheduler: no scheduler.schedulerInfo object")
        kind = str(info.get("type", ""))
        if kind == "capacityScheduler":
            self._capacity_queue(scrape.metrics, paths, info, "root", root=True)
        elif kind == "fairScheduler":
            root = info.get("rootQueue")
            if not isinstance(root, dict):
                raise ScrapeError("parse", f"{url}/ws/v1/cluster/scheduler: fairScheduler without rootQueue")
            self._fair_queue(scrape.metrics, paths, root)
        elif kind == "fifoScheduler":
            self._fifo(scrape.metrics, paths, info)
        else:
            raise ScrapeError("parse", f"{url}/ws/v1/cluster/scheduler: unknown scheduler type {kind!r}")

    def _queue(
        self, out: MetricSet, paths: list[str], path: str, scheduler: str, values: dict[str, float | None]
    ) -> None:
        paths.append(path)
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

    def _capacity_queue(
        self, out: MetricSet, paths: list[str], queue: dict[str, Any], path: str, root: bool = False
    ) -> None:
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
            paths,
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
            self._capacity_queue(out, paths, child, f"{path}.{child.get('queueName', '?')}")

    def _fair_queue(self, out: MetricSet, paths: list[str], queue: dict[str, Any]) -> None:
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
            paths,
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
            self._fair_queue(out, paths, child)

    def _fifo(self, out: MetricSet, paths: list[str], info: dict[str, Any]) -> None:
        total = number(info.get("totalNodeCapacity"))
        used = number(info.get("usedNodeCapacity"))
        self._queue(
            out,
            paths,
            "root",
            "fifo",
            {"capacity": 1.0, "max": 1.0, "used": used / total if used is not None and total else None},
        )

    def _ended(self, scrape: Scrape, payload: Any, url: str, paths: list[str], since_ms: int) -> None:
        counts, folded, listed, bad = ended_by_queue(payload, url, paths, since_ms, self.config.max_queues)
        out, labels = scrape.metrics, {m.SOURCE_LABEL: self.name}
        for (queue, state), count in counts.items():
            out.gauge(
                m.YARN_QUEUE_APPS_ENDED,
                "Applications that ended failed or killed in the window, by queue",
                {**labels, "queue": queue, "state": state},
                count,
            )
        out.gauge(m.YARN_APPS_QUEUES_FOLDED, "Queues folded into (other)", labels, folded)
        for error in apps_errors(url, "FAILED,KILLED", listed, bad):
            scrape.fail(error)

    def _running(self, scrape: Scrape, payload: Any, url: str, paths: list[str]) -> None:
        rows, listed, bad = longest_running(payload, url, paths, self.config.max_running_applications)
        for queue, app_id, name, user, seconds in rows:
            scrape.metrics.gauge(
                m.YARN_APP_RUNNING_SECONDS,
                "Elapsed time of a long-running application",
                {m.SOURCE_LABEL: self.name, "queue": queue, "app_id": app_id, "app_name": name, "user": user},
                seconds,
            )
        for error in apps_errors(url, "RUNNING", listed, bad):
            scrape.fail(error)
