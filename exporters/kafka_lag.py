"""Kafka consumer lag, polled in the background with confluent-kafka's AdminClient.

Each poll reads the selected groups' committed offsets and their partitions' log-end offsets, updates the
per-partition lookup tables (lag in seconds) and status windows (Burrow's evaluation), and builds a fresh
snapshot of series. Scrapes serve the latest snapshot, with the poll's duration and the age of its last
success. A group that disappears takes its series with it; an unreachable cluster gives `up=0` and keeps
the tables, so lag in seconds resumes at once when it comes back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catalog.loader import group_selected, topic_selected
from catalog.model import KafkaSource
from exporters import names as m
from exporters.burrow import NO_COMMIT, StatusWindow, worst
from exporters.errors import ConfigError, ScrapeError
from exporters.lag_table import LagTable
from exporters.metric_set import MetricSet
from exporters.runtime import Scrape, Source

log = logging.getLogger("watchkeeper.exporter")
ACTIVE_GROUP_STATES = frozenset({"STABLE", "PREPARING_REBALANCE", "COMPLETING_REBALANCE"})
NO_OFFSET = -1001
"""What Kafka returns for a partition the group never committed."""


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None
    latest: int
    lag: int | None
    lag_seconds: float
    status: str


@dataclass
class Snapshot:
    metrics: MetricSet
    error: ScrapeError | None
    finished_at: float
    duration: float


def _kind(exc: BaseException) -> str:
    text = str(exc).lower()
    if (
        isinstance(exc, concurrent.futures.TimeoutError | TimeoutError)
        or "timed out" in text
        or "timeout" in text
    ):
        return "timeout"
    return "connection"


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

    @property
    def _admin(self) -> Any:
        """The AdminClient, made at the first poll (so building a source opens no connection)."""
        if self._admin_client is None:
            self._admin_client = self._make_admin()
        return self._admin_client

    def _make_admin(self) -> Any:
        from confluent_kafka.admin import AdminClient

        # librdkafka logs every reconnect attempt; the poller logs the outage once, so keep only its worst.
        rdkafka_log = logging.getLogger("watchkeeper.kafka.librdkafka")
        rdkafka_log.setLevel(logging.CRITICAL)
        settings: dict[str, Any] = {
            "bootstrap.servers": self.config.bootstrap,
            "socket.timeout.ms": int(self.timeout * 1000),
            "logger": rdkafka_log,
        }
        if self.config.sasl_username:
            env = self.config.sasl_password_env
            password = os.environ.get(env) if env else None
            if password is None:
                raise ConfigError(f"kafka source {self.name}: environment variable {env} is not set")
            settings |= {
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": "PLAIN",
                "sasl.username": self.config.sasl_username,
                "sasl.password": password,
            }
        return AdminClient(settings)

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
        metrics, error = MetricSet(), None
        try:
            self.build(metrics, self.poll(), self.config.granularity == "partition")
        except ScrapeError as exc:
            error = exc
        except Exception as exc:  # librdkafka errors, timeouts, unforeseen answers
            error = ScrapeError(_kind(exc), f"kafka {self.name} ({self.config.bootstrap}): {exc}")
        snapshot = Snapshot(metrics, error, self.clock(), time.perf_counter() - start)
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
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
        from confluent_kafka.admin import OffsetSpec  # type: ignore[attr-defined]

        admin, t = self._admin, self.timeout
        # Metadata first: it fails fast and clearly when no broker can be reached (list_consumer_groups
        # would instead answer an empty list with its errors on the side).
        metadata = admin.list_topics(timeout=t)
        listed = admin.list_consumer_groups(request_timeout=t).result(timeout=t)
        if listed.errors:
            raise ScrapeError("connection", f"kafka {self.name}: listing groups failed: {listed.errors[0]}")
        groups = sorted(g.group_id for g in listed.valid if group_selected(self.config, g.group_id))
        members: dict[str, bool] = {}
        committed: dict[str, dict[tuple[str, int], int]] = {}
        if groups:
            described = admin.describe_consumer_groups(groups, request_timeout=t)
            fetched = {
                g: admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)], request_timeout=t)[g]
                for g in groups
            }
            for group in groups:
                try:
                    description = described[group].result(timeout=t)
                except Exception:  # the group vanished between the calls
                    members[group] = False
                else:
                    # Some brokers (Tansu) list no members for a STABLE group: trust the state too.
                    state = str(getattr(description.state, "name", description.state)).upper()
                    members[group] = bool(description.members) or state in ACTIVE_GROUP_STATES
                answer = fetched[group].result(timeout=t)
                committed[group] = {
                    (tp.topic, tp.partition): tp.offset
                    for tp in answer.topic_partitions or []
                    if topic_selected(self.config, tp.topic)
                }
        topics = sorted({topic for offsets in committed.values() for topic, _ in offsets})
        partitions: dict[str, list[int]] = {}
        if topics:
            for topic in topics:
                info = metadata.topics.get(topic)
                if info is not None and info.error is None:
                    partitions[topic] = sorted(info.partitions)
        spec = OffsetSpec.latest()  # type: ignore[no-untyped-call]
        requests = {TopicPartition(topic, p): spec for topic, ps in partitions.items() for p in ps}
        latest: dict[tuple[str, int], int] = {}
        if requests:
            for tp, future in admin.list_offsets(requests, request_timeout=t).items():
                latest[(tp.topic, tp.partition)] = future.result(timeout=t).offset
        return self.evaluate(committed, latest, partitions, members)

    def evaluate(
        self,
        committed: dict[str, dict[tuple[str, int], int]],
        latest: dict[tuple[str, int], int],
        partitions: dict[str, list[int]],
        members: dict[str, bool],
    ) -> list[PartitionLag]:
        """Lag, lag in seconds and status from one poll's offsets (pure, apart from the tables it updates)."""
        now = self.clock()
        for tp, offset in latest.items():
            self.tables.setdefault(tp, LagTable(self.config.max_points)).add(offset, now)
        out: list[PartitionLag] = []
        seen: set[tuple[str, str, int]] = set()
        for group, offsets in committed.items():
            for topic in sorted({tp for tp, _ in offsets}):
                for partition in partitions.get(topic, []):
                    end = latest.get((topic, partition))
                    if end is None:
                        continue
                    offset = offsets.get((topic, partition), NO_OFFSET)
                    wkey = (group, topic, partition)
                    if offset < 0:
                        out.append(
                            PartitionLag(group, topic, partition, None, end, None, math.nan, NO_COMMIT)
                        )
                        continue
                    seen.add(wkey)
                    lag = max(0, end - offset)
                    window = self.windows.setdefault(wkey, StatusWindow(self.config.status_window))
                    window.add(offset, lag)
                    seconds = self.tables[(topic, partition)].lag_seconds(offset, end, now)
                    status = window.status(members.get(group, False))
                    out.append(PartitionLag(group, topic, partition, offset, end, lag, seconds, status))
        # Forget the windows of partitions no longer reported (a deleted group, a deleted topic).
        for gone in set(self.windows) - seen:
            del self.windows[gone]
        for dropped in set(self.tables) - set(latest):
            del self.tables[dropped]
        return out

    def build(self, out: MetricSet, lags: list[PartitionLag], per_partition: bool) -> None:
        """Partition, topic and group series from one poll's results."""
        cluster = {m.KAFKA_CLUSTER_LABEL: self.name}
        topic_sum: dict[tuple[str, str], int] = {}
        topic_max: dict[tuple[str, str], float] = {}
        group_sum: dict[str, int] = {}
        group_max: dict[str, float] = {}
        group_status: dict[str, list[str]] = {}
        latest_done: set[tuple[str, int]] = set()
        name = self.name
        row_names = (m.KAFKA_CLUSTER_LABEL, "group", "topic", "partition")
        status_names = (*row_names, "status")
        end_names = (m.KAFKA_CLUSTER_LABEL, "topic", "partition")
        for p in lags:
            group_status.setdefault(p.group, []).append(p.status)
            if per_partition:
                row = (name, p.group, p.topic, str(p.partition))
                if (p.topic, p.partition) not in latest_done:
                    latest_done.add((p.topic, p.partition))
                    out.add(
                        "gauge",
                        m.KAFKA_PARTITION_LATEST_OFFSET,
                        "Log-end offset",
                        end_names,
                        (name, p.topic, row[3]),
                        p.latest,
                    )
                out.add(
                    "gauge",
                    m.KAFKA_PARTITION_STATUS,
                    "1 for the partition's Burrow status",
                    status_names,
                    (*row, p.status),
                    1,
                )
                if p.committed is not None and p.lag is not None:
                    out.add(
                        "gauge",
                        m.KAFKA_PARTITION_COMMITTED_OFFSET,
                        "Committed offset",
                        row_names,
                        row,
                        p.committed,
                    )
                    out.add("gauge", m.KAFKA_PARTITION_LAG_OFFSETS, "Lag in offsets", row_names, row, p.lag)
                    out.add(
                        "gauge",
                        m.KAFKA_PARTITION_LAG_SECONDS,
                        "Estimated lag in seconds (NaN: too little history)",
                        row_names,
                        row,
                        p.lag_seconds,
                    )
            if p.lag is None:
                continue
            tkey = (p.group, p.topic)
            topic_sum[tkey] = topic_sum.get(tkey, 0) + p.lag
            group_sum[p.group] = group_sum.get(p.group, 0) + p.lag
            if not math.isnan(p.lag_seconds):
                topic_max[tkey] = max(topic_max.get(tkey, 0.0), p.lag_seconds)
                group_max[p.group] = max(group_max.get(p.group, 0.0), p.lag_seconds)
            else:
                topic_max.setdefault(tkey, math.nan)
                group_max.setdefault(p.group, math.nan)
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
                topic_max[(group, topic)],
            )
        for group in sorted(group_status):
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
                    group_max[group],
                )
            out.gauge(
                m.KAFKA_GROUP_STATUS,
                "1 for the group's status: its worst partition's",
                {**labels, "status": worst(group_status[group])},
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
        scrape.metrics.merge(snapshot.metrics)
