"""One poll's Kafka offsets, read with confluent-kafka's AdminClient: the I/O half of the lag exporter.

The groups' committed offsets are asked all at once (one request per group, as the client allows), and
the log-end offsets in requests of at most `LIST_OFFSETS_CHUNK` partitions, sent while the groups'
answers are still being read. One ListOffsets request for 25,000 partitions took 3.9-4.7 s on Tansu where
fifty of 500 took about 0.5 s in all: confluent-kafka's call alone spent 1.9 s on the big request before
sending it (2-5 ms on one of 500), a cost that grows faster than the request's partition count.
"""

from __future__ import annotations

import concurrent.futures
import logging
import socket
from collections import deque
from dataclasses import dataclass
from typing import Any

from catalog.model.kafka import KafkaSource, group_selected, topic_selected
from exporters.errors import ScrapeError

ACTIVE_GROUP_STATES = frozenset({"STABLE", "PREPARING_REBALANCE", "COMPLETING_REBALANCE"})
LIST_OFFSETS_CHUNK = 500
"""Partitions per ListOffsets request."""
LIST_OFFSETS_IN_FLIGHT = 8
"""ListOffsets requests sent and not yet answered, at most."""


@dataclass
class Offsets:
    """What one poll read: per group its committed offsets, per topic its partitions, the log ends."""

    committed: dict[str, dict[tuple[str, int], int]]
    latest: dict[tuple[str, int], int]
    partitions: dict[str, list[int]]
    members: dict[str, bool]


def make_admin(config: KafkaSource, timeout: float, password: str | None = None) -> Any:
    """An AdminClient for the source, SASL settings included. `password` is the SASL password, read at
    start-up (`exporters.secrets`), so that a missing one stops the exporter instead of failing polls."""
    from confluent_kafka.admin import AdminClient

    # librdkafka logs every reconnect attempt; the poller logs the outage once, so keep only its worst.
    rdkafka_log = logging.getLogger("watchkeeper.kafka.librdkafka")
    rdkafka_log.setLevel(logging.CRITICAL)
    settings: dict[str, Any] = {
        "bootstrap.servers": config.bootstrap,
        "socket.timeout.ms": int(timeout * 1000),
        "logger": rdkafka_log,
    }
    if config.sasl_username:
        assert password is not None, "the SASL password is resolved when the source is built"
        settings |= {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "PLAIN",
            "sasl.username": config.sasl_username,
            "sasl.password": password,
        }
    return AdminClient(settings)


def reachable(bootstrap: str, timeout: float) -> bool:
    """Whether any bootstrap broker accepts a TCP connection within `timeout` seconds in all.

    librdkafka reports a refused connection and a silent broker alike (the request times out, as it
    retries connecting in the background), so after a failed poll this tells them apart: a broker that
    accepts and never answers is a `timeout`, one that nothing listens for is a `connection` error."""
    hosts = [h.strip() for h in bootstrap.split(",") if h.strip()]
    each = max(0.1, timeout / max(1, len(hosts)))
    for host in hosts:
        name, _, port = host.rpartition(":")
        try:
            with socket.create_connection((name.strip("[]"), int(port)), timeout=each):
                return True
        except (OSError, ValueError):
            continue
    return False


def fetch(admin: Any, config: KafkaSource, timeout: float, chunk: int = LIST_OFFSETS_CHUNK) -> Offsets:
    """The selected groups' committed offsets, their topics' partitions and those partitions' log ends.

    Log-end requests go out while the groups' answers are still being read: a topic's partitions join
    the next request as soon as the first group committed on it is read."""
    from confluent_kafka import ConsumerGroupTopicPartitions

    t = timeout
    # An unreachable or silent cluster fails here, within the timeout: the listing times out, or answers
    # with its errors on the side (it never raises them itself).
    listed = admin.list_consumer_groups(request_timeout=t).result(timeout=t)
    if listed.errors:
        raise ScrapeError("connection", f"kafka {config.name}: listing groups failed: {listed.errors[0]}")
    groups = sorted(g.group_id for g in listed.valid if group_selected(config, g.group_id))
    members: dict[str, bool] = {}
    committed: dict[str, dict[tuple[str, int], int]] = {}
    partitions: dict[str, list[int]] = {}
    if not groups:
        return Offsets(committed, {}, partitions, members)
    described = admin.describe_consumer_groups(groups, request_timeout=t)
    fetched = deque(
        admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)], request_timeout=t)[g]
        for g in groups
    )
    # Every topic's partitions, read while the groups' offsets are on their way. Only the numbers are
    # kept: the metadata itself (objects for each partition of the cluster) goes at once.
    metadata = admin.list_topics(timeout=t).topics
    numbers_of = {name: sorted(info.partitions) for name, info in metadata.items() if info.error is None}
    del metadata
    # topic -> the one str kept for it (each `tp.topic` read makes a new one, and the keys outlive the
    # poll in the lookup tables), or None when the filters drop it: decided once per topic.
    kept: dict[str, str | None] = {}
    ends = LogEnds(admin, t, chunk)
    for group in groups:
        try:
            description = described[group].result(timeout=t)
        except Exception:  # the group vanished between the calls
            members[group] = False
        else:
            # Some brokers (Tansu) list no members for a STABLE group: trust the state too.
            state = str(getattr(description.state, "name", description.state)).upper()
            members[group] = bool(description.members) or state in ACTIVE_GROUP_STATES
        offsets: dict[tuple[str, int], int] = {}
        for tp in fetched.popleft().result(timeout=t).topic_partitions or ():  # popped: freed once read
            raw = tp.topic
            topic = kept.get(raw, "")  # "" is no topic's name: not decided yet
            if topic == "":
                topic = kept[raw] = raw if topic_selected(config, raw) else None
                numbers = numbers_of.get(raw) if topic is not None else None
                if numbers is not None:
                    partitions[raw] = numbers
                    ends.ask(raw, numbers)
            if topic is not None:
                offsets[(topic, tp.partition)] = tp.offset
        committed[group] = offsets
    return Offsets(committed, ends.gather(), dict(sorted(partitions.items())), members)


class LogEnds:
    """Log-end offsets asked in requests of at most `chunk` partitions, each sent as soon as it is full,
    at most `in_flight` of them unanswered at a time. A partition's error fails the poll, as a request's.

    Each request has one future for its whole answer ({TopicPartition: info or KafkaError}), through the
    C method that `AdminClient.list_offsets` wraps (`list_offsets(topic_partitions, future,
    request_timeout=...)`): the public call makes a Future per partition and copies the answer into them,
    which at 25,000 partitions cost ~0.5 s and tens of MB per poll. Without that method (another
    confluent-kafka), or with `one_future_per_request=False`, it takes the public call. Capping the
    requests in flight bounds the answers (and librdkafka's buffers) held at once: with all fifty in
    flight a poll's peak memory was ~10 MB higher, for no gain in time.
    """

    def __init__(
        self,
        admin: Any,
        timeout: float,
        chunk: int = LIST_OFFSETS_CHUNK,
        one_future_per_request: bool = True,
        in_flight: int = LIST_OFFSETS_IN_FLIGHT,
    ) -> None:
        from confluent_kafka.admin import AdminClient

        self.admin, self.timeout, self.chunk, self.in_flight = admin, timeout, chunk, in_flight
        self._base: Any = super(AdminClient, admin) if isinstance(admin, AdminClient) else None
        self.one_future_per_request = one_future_per_request and hasattr(self._base, "list_offsets")
        self.latest: dict[tuple[str, int], int] = {}
        self._topics: dict[str, str] = {}  # one str per topic (each `tp.topic` read makes a new one)
        self._batch: list[Any] = []
        self._pending: deque[Any] = deque()  # a future per request, or the public call's dict of them

    def ask(self, topic: str, partitions: list[int]) -> None:
        from confluent_kafka import OFFSET_END, TopicPartition

        self._topics[topic] = topic
        batch = self._batch
        batch.extend([TopicPartition(topic, p, OFFSET_END) for p in partitions])
        while len(batch) >= self.chunk:
            self._send(batch[: self.chunk])
            del batch[: self.chunk]

    def _send(self, request: list[Any]) -> None:
        while len(self._pending) >= self.in_flight:
            self._read(self._pending.popleft())
        if self.one_future_per_request:
            future: concurrent.futures.Future[Any] = concurrent.futures.Future()
            future.set_running_or_notify_cancel()
            try:
                self._base.list_offsets(request, future, request_timeout=self.timeout)
            except TypeError:  # a different signature in this confluent-kafka: the public call from now on
                self.one_future_per_request = False
            else:
                self._pending.append(future)
                return
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec  # type: ignore[attr-defined]

        spec = OffsetSpec.latest()  # type: ignore[no-untyped-call]
        wanted = {TopicPartition(tp.topic, tp.partition): spec for tp in request}
        self._pending.append(self.admin.list_offsets(wanted, request_timeout=self.timeout))

    def _read(self, pending: Any) -> None:
        from confluent_kafka import KafkaError, KafkaException

        latest, topics, t = self.latest, self._topics, self.timeout
        if isinstance(pending, dict):  # the public call: a future per partition
            for tp, future in pending.items():
                latest[(topics[tp.topic], tp.partition)] = future.result(timeout=t).offset
            return
        for tp, info in pending.result(timeout=t).items():
            if isinstance(info, KafkaError):
                raise KafkaException(info)
            latest[(topics[tp.topic], tp.partition)] = info.offset

    def gather(self) -> dict[tuple[str, int], int]:
        """Send what is left, then read every answer."""
        if self._batch:
            self._send(self._batch)
            self._batch = []
        while self._pending:
            self._read(self._pending.popleft())
        return self.latest


def latest_offsets(
    admin: Any,
    partitions: dict[str, list[int]],
    timeout: float,
    chunk: int = LIST_OFFSETS_CHUNK,
    one_future_per_request: bool = True,
) -> dict[tuple[str, int], int]:
    """Log-end offsets of `partitions`, read as a poll reads them (tests compare both request kinds)."""
    ends = LogEnds(admin, timeout, chunk, one_future_per_request)
    for topic, numbers in partitions.items():
        ends.ask(topic, numbers)
    return ends.gather()
