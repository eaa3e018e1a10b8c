"""Spark from a driver (`:4040`) or a history server (`/api/v1`): jobs, stages, tasks and executors per application.

Application names and ids are label values, never part of metric names. Cardinality is capped: running
applications and those that ended within `lookback`, most recent first, at most `max_applications`. With
`granularity: executor` (the default) the driver and each active executor (those `/executors` lists, read
from the `allexecutors` answer already fetched) get their own series labelled `executor_id`: the driver
first, then executors by numeric id, at most `max_executors`; the rest are counted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from catalog.model.spark import SparkSource
from exporters import names as m
from exporters.errors import ScrapeError
from exporters.http import resolve_auth
from exporters.metric_set import MetricSet, number
from exporters.runtime import Scrape, Source, http_settings

CLOCK_SKEW = 300.0
"""Seconds an end time may lie ahead of the exporter's clock (the history server's clock may run ahead)."""
JOB_STATUSES = ("running", "succeeded", "failed", "unknown")
_STAGE_FIELDS = {"active": "numActiveStages", "complete": "numCompletedStages", "skipped": "numSkippedStages"}
_EXECUTOR_SUMS = [  # (metric, help, executor field, scale), summed over the application's executors
    (m.SPARK_APP_MEMORY_USED_BYTES, "Storage memory used, over executors", "memoryUsed", 1),
    (m.SPARK_APP_MEMORY_MAX_BYTES, "Storage memory available, over executors", "maxMemory", 1),
    (m.SPARK_APP_GC_SECONDS, "JVM GC time, over executors", "totalGCTime", 0.001),
    (m.SPARK_APP_SHUFFLE_READ_BYTES, "Shuffle bytes read, over executors", "totalShuffleRead", 1),
    (m.SPARK_APP_SHUFFLE_WRITE_BYTES, "Shuffle bytes written, over executors", "totalShuffleWrite", 1),
]
_TASK_FIELDS = {"active": "activeTasks", "failed": "failedTasks", "completed": "completedTasks"}
_PER_EXECUTOR = [  # (metric, help, executor field, scale), one series per executor
    (m.SPARK_EXECUTOR_MEMORY_USED_BYTES, "Storage memory used", "memoryUsed", 1),
    (m.SPARK_EXECUTOR_MEMORY_MAX_BYTES, "Storage memory available", "maxMemory", 1),
    (m.SPARK_EXECUTOR_GC_SECONDS, "JVM GC time of its tasks", "totalGCTime", 0.001),
    (m.SPARK_EXECUTOR_RUN_SECONDS, "Time spent running tasks", "totalDuration", 0.001),
]
_NUMERIC = ("memoryUsed", "maxMemory", "totalGCTime", "totalDuration", *_TASK_FIELDS.values())


def executor_order(executor: dict[str, Any]) -> tuple[int, int, str]:
    """The driver first, then executors by numeric id (ids Spark assigns in order), then any other id."""
    ident = str(executor.get("id", ""))
    if ident == m.SPARK_DRIVER_ID:
        return (0, 0, ident)
    return (1, int(ident), ident) if ident.isdigit() and len(ident) < 19 else (2, 0, ident)


def _total(rows: list[dict[str, Any]], key: str) -> float:
    """A numeric field summed over REST rows (jobs or executors); missing or null counts as 0."""
    return sum(number(row.get(key)) or 0 for row in rows)


def spark_time(text: object) -> float | None:
    """Seconds since the epoch from Spark's `2015-02-03T16:43:08.731GMT`; None if absent or unparsable."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None


def _spark_date(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000GMT")


class SparkCollector(Source):
    kind = "spark"
    prefix = m.SPARK_PREFIX

    def __init__(self, config: SparkSource, clock: Callable[[], float] = time.time) -> None:
        super().__init__(config.name, config.service, **http_settings(config))
        self.config = config
        self.clock = clock
        self.auth: httpx.Auth | None = resolve_auth(config.auth, f"spark source {config.name}")

    async def _get(self, scrape: Scrape, path: str, params: dict[str, str] | None = None) -> Any:
        url = f"{self.config.url.rstrip('/')}/api/v1{path}"
        return await scrape.http.get_json(
            url, params=params, timeout=self.timeout, auth=self.auth, verify=self.config.tls_verify
        )

    def select(self, apps: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(application, latest attempt) pairs: running ones and those ended within the lookback, newest first."""
        if not isinstance(apps, list):
            raise ScrapeError("parse", f"{self.config.url}/api/v1/applications: expected a JSON list")
        now = self.clock()
        since = now - self.config.lookback.seconds
        chosen = []
        for app in apps:
            attempts = app.get("attempts") if isinstance(app, dict) else None
            if not isinstance(attempts, list) or not attempts or not isinstance(app.get("id"), str):
                raise ScrapeError(
                    "parse", f"{self.config.url}/api/v1/applications: an entry lacks id or attempts"
                )
            latest = attempts[0]
            ended = spark_time(latest.get("endTime"))
            if not latest.get("completed", True) or (
                ended is not None and since <= ended <= now + CLOCK_SKEW
            ):
                chosen.append((app, latest))
        chosen.sort(
            key=lambda pair: (pair[1].get("completed", True), -(spark_time(pair[1].get("endTime")) or 0))
        )
        return chosen[: self.config.max_applications]

    async def collect(self, scrape: Scrape) -> None:
        since = _spark_date(self.clock() - self.config.lookback.seconds)
        apps = await self._get(scrape, "/applications", {"minEndDate": since})
        chosen = self.select(apps)
        results = await asyncio.gather(
            *(self._application(scrape, app, attempt) for app, attempt in chosen), return_exceptions=True
        )
        for result in results:
            if isinstance(result, ScrapeError):
                scrape.fail(result)
            elif isinstance(result, BaseException):
                raise result

    async def _application(self, scrape: Scrape, app: dict[str, Any], attempt: dict[str, Any]) -> None:
        app_id = app["id"]
        labels = {m.SOURCE_LABEL: self.name, "app_name": str(app.get("name", "")), "app_id": app_id}
        out = scrape.metrics
        running = not attempt.get("completed", True)
        out.gauge(m.SPARK_APP_RUNNING, "1 while the application runs", labels, 1 if running else 0)
        duration = number(attempt.get("duration"))
        started = spark_time(attempt.get("startTime"))
        if running and started is not None:
            duration = (self.clock() - started) * 1000
        out.gauge(
            m.SPARK_APP_DURATION_SECONDS,
            "Application run time",
            labels,
            duration / 1000 if duration is not None else None,
        )
        base = f"/applications/{quote(app_id, safe='')}"
        if attempt.get("attemptId"):
            base += f"/{quote(str(attempt['attemptId']), safe='')}"
        answers = await asyncio.gather(
            self._get(scrape, f"{base}/jobs"),
            self._get(scrape, f"{base}/stages", {"status": "failed"}),
            self._get(scrape, f"{base}/allexecutors"),
            return_exceptions=True,
        )
        # Each answer on its own: a failing one is an error, and the others are still reported.
        lists: dict[str, list[dict[str, Any]]] = {}
        for name, value in zip(("jobs", "stages", "allexecutors"), answers, strict=True):
            if isinstance(value, ScrapeError):
                scrape.fail(value)
            elif isinstance(value, BaseException):
                raise value
            elif not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                scrape.fail(
                    ScrapeError("parse", f"{self.config.url}/api/v1{base}/{name}: expected a list of objects")
                )
            else:
                lists[name] = value
        if "jobs" in lists:
            self._jobs(out, labels, lists["jobs"])
        if "stages" in lists:
            out.gauge(
                m.SPARK_APP_STAGES, "Stages by status", {**labels, "status": "failed"}, len(lists["stages"])
            )
        if "allexecutors" in lists:
            self._executors(
                scrape, labels, lists["allexecutors"], f"{self.config.url}/api/v1{base}/allexecutors"
            )

    def _jobs(self, out: MetricSet, labels: dict[str, str], jobs: list[dict[str, Any]]) -> None:
        for status in JOB_STATUSES:
            count = sum(1 for j in jobs if str(j.get("status", "")).lower() == status)
            out.gauge(m.SPARK_APP_JOBS, "Jobs by status", {**labels, "status": status}, count)
        for status, key in _STAGE_FIELDS.items():
            out.gauge(m.SPARK_APP_STAGES, "Stages by status", {**labels, "status": status}, _total(jobs, key))

    def _executors(
        self, scrape: Scrape, labels: dict[str, str], executors: list[dict[str, Any]], url: str
    ) -> None:
        """Sums over all executors (dead ones included); with granularity executor, each active one too."""
        out = scrape.metrics
        for status, key in _TASK_FIELDS.items():
            out.gauge(
                m.SPARK_APP_TASKS,
                "Tasks by status, over executors",
                {**labels, "status": status},
                _total(executors, key),
            )
        out.gauge(
            m.SPARK_APP_EXECUTORS,
            "Active executors (the driver included)",
            labels,
            sum(1 for e in executors if e.get("isActive")),
        )
        for metric, help_text, key, scale in _EXECUTOR_SUMS:
            out.gauge(metric, help_text, labels, _total(executors, key) * scale)
        unreadable = sorted(
            {
                k
                for e in executors
                for k in _NUMERIC
                if k in e and (number(e[k]) is None or isinstance(e[k], bool))
            }
        )
        if unreadable:
            scrape.fail(
                ScrapeError(
                    "parse", f"{url}: fields {', '.join(unreadable)} are not numbers in some executors"
                )
            )
        if self.config.granularity != "executor":
            return
        unique = {str(e["id"]): e for e in reversed(executors) if e.get("isActive") and "id" in e}
        active = sorted(unique.values(), key=executor_order)  # one series set per id: the first listed
        kept = active[: self.config.max_executors]
        out.gauge(
            m.SPARK_EXECUTORS_OMITTED,
            "Active executors past max_executors, without their own series",
            labels,
            len(active) - len(kept),
        )
        for executor in kept:
            at = {**labels, "executor_id": str(executor["id"])}
            for metric, help_text, key, scale in _PER_EXECUTOR:
                value = number(executor.get(key))
                out.gauge(metric, help_text, at, value * scale if value is not None else None)
            for status, key in _TASK_FIELDS.items():
                out.gauge(
                    m.SPARK_EXECUTOR_TASKS,
                    "Tasks by status",
                    {**at, "status": status},
                    number(executor.get(key)),
                )
