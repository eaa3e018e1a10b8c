"""Kafka consumer lag, polled in the background with confluent-kafka's AdminClient.

Each poll reads the selected groups' committed offsets and their partitions' log-end offsets
(`exporters/kafka_fetch.py`), updates the per-partition lookup tables (lag in seconds) and status windows
(Burrow's evaluation), and keeps the results as the latest snapshot, whose series the first scrape after
it builds. Scrapes serve the latest snapshot, with the poll's duration and the age of its last success.
A group that disappears takes its series with it; an unreachable cluster gives `up=0` and keeps the
tables, so lag in seconds resumes at once when it comes back.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from catalog.model.kafka import KafkaSource
from exporters import names as m
from exporters.burrow import NO_COMMIT, SEVERITY, StatusWindow
from exporters.errors import ScrapeError
from exporters.kafka_fetch import LIST_OFFSETS_CHUNK, fetch, make_admin, reachable
from exporters.lag_table import LagTable
from exporters.metric_set import MetricSet
from exporters.runtime import Scrape, Source
from exporters.secrets import read_secret

log = logging.getLogger("watchkeeper.exporter")
NO_OFFSET = -1001
"""What Kafka returns for a partition the group never committed."""


class PartitionLag(NamedTuple):
    """One group's partition in one poll (a tuple: 25,000 of them are made per poll at scale)."""

    group: str
    topic: str
    partition: int
    committed: int | None
    latest: int
    lag: int | None
    lag_seconds: float
    status: str


class Snapshot:
    """One poll's outcome. Its series are built from the poll's results at the first read of `metrics`
    (the first scrape after the poll) and kept for the reads after it: the polling thread never holds
    a second full set of series beside the one being served (at 25,000 group-partitions, 125,000
    samples: about 16 MB)."""

    def __init__(
        self,
        lags: list[PartitionLag],
        build: Callable[[MetricSet, list[PartitionLag]], None],
        error: ScrapeError | None,
        finished_at: float,
        duration: float,
    ) -> None:
        self.error, self.finished_at, self.duration = error, finished_at, duration
        self._lags: list[PartitionLag] | None = lags
        self._build = build
        self._metrics: MetricSet | None = None
        self._lock = threading.Lock()

    @property
    def metrics(self) -> MetricSet:
        with self._lock:
            if self._metrics is None:
                metrics = MetricSet()
                self._build(metrics, self._lags or [])
                self._metrics, self._lags = metrics, None  # the results are not needed any more
            return self._metrics


NETWORK_KINDS = frozenset({"timeout", "connection"})
PROBE_TIMEOUT = 1.0
"""Seconds, at most, the reachability check after a failed poll takes (`kafka_fetch.reachable`)."""


def _kind(bootstrap: str, timeout: float) -> str:
    """`timeout` when a broker accepts connections (it is there, and did not answer in time), else
    `connection` (refused, unroutable, unknown host)."""
    return "timeout" if reachable(bootstrap, min(timeout, PROBE_TIMEOUT)) else "connection"


class KafkaCollector(Source):
    kind = "kafka"
    prefix = m.KAFKA_PREFIX

    def __init__(self, config: KafkaSource, clock: Callable[[], float] = time.time) -> None:
        super().__init__(config.name, config.service, config.timeout.seconds)
        self.config = config
        self.clock = clock
        self.tables: dict[tuple[str, int], LagTable] = {}
        self.windows: dict[tuple[str, str, int], StatusWindow] = {}
        self._snapshot: Snapshot | None = None
        self._last_success: float | None = None
        self._first = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._admin_client: Any = None
        self.offsets_chunk = LIST_OFFSETS_CHUNK  # partitions per log-end request (tests make it small)
        self._password: str | None = None
        if config.sasl_username:  # read now: a missing or empty variable stops the exporter at start-up
            where = f"kafka source {config.name}"
            self._password = read_secret(config.sasl_password_env, None, where, "the SASL password")

    @property
    def _admin(self) -> Any:
        """The AdminClient, made at the first poll (so building a source opens no connection)."""
        if self._admin_client is None:
            self._admin_client = make_admin(self.config, self.timeout, self._password)
        return self._admin_client

    # --- background polling -----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"kafka-poll-{self.name}", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.config.poll_interval.seconds)

    def poll_once(self) -> Snapshot:
        """One poll cycle; never raises: a failure becomes the snapshot's error."""
        start = time.perf_counter()
        lags: list[PartitionLag] = []
        error: ScrapeError | None = None
        try:
            lags = self.poll()
        except ScrapeError as exc:
            error = exc
            if exc.kind in NETWORK_KINDS:
                error = ScrapeError(_kind(self.config.bootstrap, self.timeout), str(exc))
        except Exception as exc:  # librdkafka errors, timeouts, unforeseen answers
            what = str(exc) or type(exc).__name__
            error = ScrapeError(
                _kind(self.config.bootstrap, self.timeout),
                f"kafka {self.name} ({self.config.bootstrap}): {what}",
            )
        per_partition = self.config.granularity == "partition"
        snapshot = Snapshot(
            lags,
            lambda out, lags: self.build(out, lags, per_partition),
            error,
            self.clock(),
            time.perf_counter() - start,
        )
        if error is None:
            self._last_success = snapshot.finished_at
        elif self._snapshot is None or self._snapshot.error is None:
            log.warning(
                "kafka poll failed",
                extra={"source": self.name, "error_kind": error.kind, "error": str(error)},
            )
        self._snapshot = snapshot
        self._first.set()
        return snapshot

    def poll(self) -> list[PartitionLag]:
        """Committed and log-end offsets of every selected group's partitions, with lag and status."""
        read = fetch(self._admin, self.config, self.timeout, self.offsets_chunk)
        return self.evaluate(read.committed, read.latest, read.partitions, read.members)

    def evaluate(
        self,
        committed: dict[str, dict[tuple[str, int], int]],
        latest: dict[tuple[str, int], int],
        partitions: dict[str, list[int]],
        members: dict[str, bool],
    ) -> list[PartitionLag]:
        """Lag, lag in seconds and status from one poll's offsets (pure, apart from the tables it updates)."""
        now = self.clock()
        tables, windows = self.tables, self.windows
        max_points, window_size = self.config.max_points, self.config.status_window
        for tp, offset in latest.items():
            table = tables.get(tp)
            if table is None:
                table = tables[tp] = LagTable(max_points)
            table.add(offset, now)
        out: list[PartitionLag] = []
        append = out.append
        seen: set[tuple[str, str, int]] = set()
        for group, offsets in committed.items():
            has_members = members.get(group, False)
            for topic in sorted({topic for topic, _ in offsets}):
                for partition in partitions.get(topic, ()):
                    key = (topic, partition)
                    end = latest.get(key)
                    if end is None:
                        continue
                    offset = offsets.get(key, NO_OFFSET)
                    if offset < 0:
                        append(PartitionLag(group, topic, partition, None, end, None, math.nan, NO_COMMIT))
                        continue
                    lag = end - offset if end > offset else 0
                    wkey = (group, topic, partition)
                    window = windows.get(wkey)
                    if window is None:
                        window = windows[wkey] = StatusWindow(window_size)
                    window.add(offset, lag)
                    seen.add(wkey)
                    seconds = tables[key].lag_seconds(offset, end, now)
                    append(
                        PartitionLag(
                            group, topic, partition, offset, end, lag, seconds, window.status(has_members)
                        )
                    )
        # Forget the windows of partitions no longer reported (a deleted group, a deleted topic), and the
        # tables of partitions no longer polled. Usually there are none, which the counts tell.
        if len(windows) != len(seen):
            for gone in [k for k in windows if k not in seen]:
                del windows[gone]
        if len(tables) != len(latest):
            for dropped in [k for k in tables if k not in latest]:
                del tables[dropped]
        return out

    def build(self, out: MetricSet, lags: list[PartitionLag], per_partition: bool) -> None:
        """Partition, topic and group series from one poll's results."""
        cluster = {m.KAFKA_CLUSTER_LABEL: self.name}
        topic_sum: dict[tuple[str, str], int] = {}
        group_sum: dict[str, int] = {}
        # The maxima hold only the partitions that have a value: NaN (too little history) must not hide
        # another partition's lag, as Python's `max(nan, x)` would; NaN is served only when none has one.
        topic_max: dict[tuple[str, str], float] = {}
        group_max: dict[str, float] = {}
        group_worst: dict[str, str] = {}
        ends_done: set[tuple[str, int]] = set()
        numbers: dict[int, str] = {}
        add, name = out.add, self.name
        row_names = (m.KAFKA_CLUSTER_LABEL, "group", "topic", "partition")
        status_names = (*row_names, "status")
        end_names = (m.KAFKA_CLUSTER_LABEL, "topic", "partition")
        for p in lags:
            group, topic, status, lag = p.group, p.topic, p.status, p.lag
            known = group_worst.get(group)
            if known is None or SEVERITY[status] > SEVERITY[known]:
                group_worst[group] = status
            if per_partition:
                number = numbers.get(p.partition)
                if number is None:  # one label string per partition number, shared by every row
                    number = numbers[p.partition] = str(p.partition)
                row = (name, group, topic, number)
                if (topic, p.partition) not in ends_done:
                    ends_done.add((topic, p.partition))
                    end_row = (name, topic, number)
                    add(
                        "gauge",
                        m.KAFKA_PARTITION_LATEST_OFFSET,
                        "Log-end offset",
                        end_names,
                        end_row,
                        p.latest,
                    )
                status_row = (name, group, topic, number, status)
                add(
                    "gauge",
                    m.KAFKA_PARTITION_STATUS,
                    "1 for the partition's Burrow status",
                    status_names,
                    status_row,
                    1,
                )
                if p.committed is not None and lag is not None:
                    add(
                        "gauge",
                        m.KAFKA_PARTITION_COMMITTED_OFFSET,
                        "Committed offset",
                        row_names,
                        row,
                        p.committed,
                    )
                    add("gauge", m.KAFKA_PARTITION_LAG_OFFSETS, "Lag in offsets", row_names, row, lag)
                    add(
                        "gauge",
                        m.KAFKA_PARTITION_LAG_SECONDS,
                        "Estimated lag in seconds (NaN: too little history)",
                        row_names,
                        row,
                        p.lag_seconds,
                    )
            if lag is None:
                continue
            tkey = (group, topic)
            topic_sum[tkey] = topic_sum.get(tkey, 0) + lag
            group_sum[group] = group_sum.get(group, 0) + lag
            seconds = p.lag_seconds
            if seconds >= 0.0:  # False for NaN
                if seconds > topic_max.get(tkey, -1.0):
                    topic_max[tkey] = seconds
                if seconds > group_max.get(group, -1.0):
                    group_max[group] = seconds
        for (group, topic), total in sorted(topic_sum.items()):
            labels = {**cluster, "group": group, "topic": topic}
            out.gauge(
                m.KAFKA_TOPIC_SUM_LAG_OFFSETS,
                "Lag in offsets summed over the topic's partitions",
                labels,
                total,
            )
            out.gauge(
                m.KAFKA_TOPIC_MAX_LAG_SECONDS,
                "Largest lag in seconds over the topic's partitions",
                labels,
                topic_max.get((group, topic), math.nan),
            )
        for group in sorted(group_worst):
            labels = {**cluster, "group": group}
            if group in group_sum:
                out.gauge(
                    m.KAFKA_GROUP_SUM_LAG_OFFSETS,
                    "Lag in offsets summed over the group",
                    labels,
                    group_sum[group],
                )
                out.gauge(
                    m.KAFKA_GROUP_MAX_LAG_SECONDS,
                    "Largest lag in seconds over the group",
                    labels,
                    group_max.get(group, math.nan),
                )
            out.gauge(
                m.KAFKA_GROUP_STATUS,
                "1 for the group's status: its worst partition's",
                {**labels, "status": group_worst[group]},
                1,
            )

    # --- scrape -----------------------------------------------------------------------------------

    async def collect(self, scrape: Scrape) -> None:
        if not self._first.is_set():
            await asyncio.to_thread(self._first.wait, self.timeout)
        snapshot = self._snapshot
        labels = {m.SOURCE_LABEL: self.name}
        if snapshot is None:
            raise ScrapeError("timeout", f"kafka {self.name}: the first poll has not finished")
        scrape.metrics.gauge(
            m.KAFKA_POLL_DURATION_SECONDS, "Seconds the last poll took", labels, snapshot.duration
        )
        if self._last_success is not None:
            age = max(0.0, self.clock() - self._last_success)
            scrape.metrics.gauge(
                m.KAFKA_POLL_AGE_SECONDS, "Seconds since the last successful poll", labels, age
            )
        if snapshot.error is not None:
            raise snapshot.error
        # The first scrape after a poll builds its series (~0.15 s at 25,000 group-partitions): in a
        # worker thread, so that the other sources' collections go on meanwhile.
        scrape.metrics.merge(await asyncio.to_thread(lambda: snapshot.metrics))
