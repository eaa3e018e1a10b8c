"""Kafka consumer lag against a real Kafka-protocol broker (Tansu): offsets, seconds, status, degradation."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.model import Catalog
from catalog.model.kafka import KafkaSource
from exporters import names as m
from exporters.kafka_fetch import LogEnds, latest_offsets
from exporters.kafka_lag import KafkaCollector
from exporters.runtime import Runtime
from tests.kafka_broker import Broker, tansu
from tests.prometheus_stack import wait_for
from tests.test_exporters import exposition, samples, value

pytestmark = pytest.mark.kafka
CATALOG = Catalog.model_validate(
    {
        "teams": [{"name": "platform", "owners": ["p@example.com"]}],
        "services": [{"name": "kafka-prod", "team": "platform"}],
    }
)


@pytest.fixture
def broker() -> Iterator[Broker]:
    with tansu() as b:
        yield b


def setup_topic(bootstrap: str, topic: str, partitions: int, per_partition: int) -> Any:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1)]
    ).values():
        future.result(10)
    producer = produce(bootstrap, topic, partitions, per_partition)
    return admin, producer


def produce(bootstrap: str, topic: str, partitions: int, per_partition: int, producer: Any = None) -> Any:
    from confluent_kafka import Producer

    # One record per batch: Tansu reports the end offset wrongly for batched produce (BRIEF section 8).
    producer = producer or Producer({"bootstrap.servers": bootstrap, "batch.num.messages": 1, "linger.ms": 0})
    for i in range(per_partition * partitions):
        producer.produce(topic, value=f"m{i}".encode(), partition=i % partitions)
        producer.flush(10)
    return producer


def consumer(bootstrap: str, group: str) -> Any:
    from confluent_kafka import Consumer

    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000,
        }
    )


def commit(c: Any, topic: str, offsets: dict[int, int]) -> None:
    from confluent_kafka import TopicPartition

    c.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()], asynchronous=False)


def read_and_commit(c: Any, topic: str, partition: int, count: int) -> None:
    """Consume `count` messages of one partition from its start, then commit the position."""
    from confluent_kafka import TopicPartition

    c.assign([TopicPartition(topic, partition, 0)])
    got, deadline = 0, time.monotonic() + 30
    while got < count:
        assert time.monotonic() < deadline, f"read {got} of {count} messages"
        message = c.poll(0.5)
        if message is not None and message.error() is None:
            got += 1
            if got == count:
                c.commit(message=message, asynchronous=False)  # commits offset + 1 of the last read
    c.unassign()


def collector(bootstrap: str, **extra: Any) -> KafkaCollector:
    config = KafkaSource(name="prod", service="kafka-prod", bootstrap=bootstrap, timeout="2s", **extra)
    return KafkaCollector(config)


def at(group: str, topic: str, partition: int) -> dict[str, str]:
    return {"cluster": "prod", "group": group, "topic": topic, "partition": str(partition)}


def test_exact_lag_in_offsets_and_no_commit(broker: Broker) -> None:
    setup_topic(broker.bootstrap, "orders", 3, 10)
    c = consumer(broker.bootstrap, "etl")
    read_and_commit(c, "orders", 0, 4)  # the group really consumes 4 messages of partition 0
    read_and_commit(c, "orders", 1, 7)  # and 7 of partition 1; partition 2: never committed
    c.close()
    kafka = collector(broker.bootstrap)
    snap = kafka.poll_once()
    assert snap.error is None, snap.error
    out = snap.metrics
    assert out.value(m.KAFKA_PARTITION_LAG_OFFSETS, **at("etl", "orders", 0)) == 6
    assert out.value(m.KAFKA_PARTITION_LAG_OFFSETS, **at("etl", "orders", 1)) == 3
    assert out.value(m.KAFKA_PARTITION_COMMITTED_OFFSET, **at("etl", "orders", 0)) == 4
    assert out.value(m.KAFKA_PARTITION_LATEST_OFFSET, cluster="prod", topic="orders", partition="2") == 10
    # No commit is reported as such, never as a negative (or any) lag.
    assert out.value(m.KAFKA_PARTITION_LAG_OFFSETS, **at("etl", "orders", 2)) is None
    assert out.value(m.KAFKA_PARTITION_STATUS, **at("etl", "orders", 2), status="NO_COMMIT") == 1
    assert out.value(m.KAFKA_TOPIC_SUM_LAG_OFFSETS, cluster="prod", group="etl", topic="orders") == 9
    assert out.value(m.KAFKA_GROUP_SUM_LAG_OFFSETS, cluster="prod", group="etl") == 9
    # One poll is too little history for seconds: NaN, not an invented value.
    assert math.isnan(out.value(m.KAFKA_PARTITION_LAG_SECONDS, **at("etl", "orders", 0)) or 0.0)


def test_lag_seconds_grows_with_real_time_while_the_consumer_idles(broker: Broker) -> None:
    _, producer = setup_topic(broker.bootstrap, "clicks", 3, 2)
    c = consumer(broker.bootstrap, "sessionizer")
    commit(c, "clicks", {0: 2, 1: 2, 2: 2})  # caught up
    c.close()
    kafka = collector(broker.bootstrap)
    kafka.poll_once()
    caught_up_at = time.time()
    for _ in range(8):  # keep producing for ~4 s; the consumer stays idle
        time.sleep(0.5)
        produce(broker.bootstrap, "clicks", 3, 1, producer)
        snap = kafka.poll_once()
    elapsed = time.time() - caught_up_at
    lag = snap.metrics.value(m.KAFKA_PARTITION_LAG_SECONDS, **at("sessionizer", "clicks", 0))
    assert lag is not None and abs(lag - elapsed) < 1.0, (lag, elapsed)
    assert snap.metrics.value(m.KAFKA_PARTITION_LAG_OFFSETS, **at("sessionizer", "clicks", 0)) == 8
    group_max = snap.metrics.value(m.KAFKA_GROUP_MAX_LAG_SECONDS, cluster="prod", group="sessionizer")
    assert group_max is not None and abs(group_max - elapsed) < 1.0


def test_status_stall_then_stop_then_rewind_then_group_deleted(broker: Broker) -> None:
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

    admin, producer = setup_topic(broker.bootstrap, "payments", 1, 5)
    c = consumer(broker.bootstrap, "ledger")
    c.subscribe(["payments"])
    wait_for(lambda: c.poll(0.2) is not None or c.assignment(), 30, "the consumer to join its group")
    commit(c, "payments", {0: 3})
    kafka = collector(broker.bootstrap, status_window=3)
    for _ in range(3):  # members present, offset stuck, lag growing
        produce(broker.bootstrap, "payments", 1, 1, producer)
        snap = kafka.poll_once()
    status = {
        s
        for s in ("STALL", "STOP")
        if snap.metrics.value(m.KAFKA_GROUP_STATUS, cluster="prod", group="ledger", status=s)
    }
    assert status == {"STALL"}
    c.close()  # the consumer stops: no members any more
    wait_for(
        lambda: kafka.poll_once().metrics.value(
            m.KAFKA_GROUP_STATUS, cluster="prod", group="ledger", status="STOP"
        ),
        30,
        "STOP",
    )

    altered = admin.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions("ledger", [TopicPartition("payments", 0, 1)])]
    )
    for future in altered.values():
        future.result(10)
    snap = kafka.poll_once()
    assert snap.metrics.value(m.KAFKA_PARTITION_STATUS, **at("ledger", "payments", 0), status="REWIND") == 1
    assert snap.metrics.value(m.KAFKA_GROUP_STATUS, cluster="prod", group="ledger", status="REWIND") == 1

    for future in admin.delete_consumer_groups(["ledger"]).values():
        future.result(10)
    snap = kafka.poll_once()
    assert snap.error is None
    leftovers = [
        f for f in snap.metrics.families() if any(s.labels.get("group") == "ledger" for s in f.samples)
    ]
    assert leftovers == []  # its series are gone, not stale
    assert not [k for k in kafka.windows if k[0] == "ledger"]


def test_filters_and_topic_granularity(broker: Broker) -> None:
    setup_topic(broker.bootstrap, "orders", 2, 3)
    setup_topic(broker.bootstrap, "audit", 1, 3)
    for group in ("etl", "analytics-daily", "console-consumer-1"):
        c = consumer(broker.bootstrap, group)
        commit(c, "orders", {0: 1, 1: 1})
        commit(c, "audit", {0: 1})
        c.close()
    kafka = collector(
        broker.bootstrap,
        groups=["etl", "re:^analytics-.*", "re:console-.*"],
        exclude_groups=["re:console-.*"],
        exclude_topics=["audit"],
        granularity="topic",
    )
    snap = kafka.poll_once()
    groups = {s.labels["group"] for f in snap.metrics.families() for s in f.samples if "group" in s.labels}
    topics = {s.labels["topic"] for f in snap.metrics.families() for s in f.samples if "topic" in s.labels}
    assert groups == {"etl", "analytics-daily"}
    assert topics == {"orders"}
    assert (
        snap.metrics.value(m.KAFKA_PARTITION_LAG_OFFSETS, **at("etl", "orders", 0)) is None
    )  # no per-partition series
    assert snap.metrics.value(m.KAFKA_TOPIC_SUM_LAG_OFFSETS, cluster="prod", group="etl", topic="orders") == 4


def test_broker_down_gives_up_0_keeps_tables_and_keeps_serving(broker: Broker) -> None:
    setup_topic(broker.bootstrap, "orders", 3, 4)
    c = consumer(broker.bootstrap, "etl")
    commit(c, "orders", {0: 1, 1: 1, 2: 1})
    c.close()
    kafka = collector(broker.bootstrap, poll_interval="1s")
    runtime = Runtime(CATALOG, [kafka])
    try:
        wait_for(lambda: kafka._snapshot is not None, 15, "the first poll")
        found = samples(exposition(runtime))
        assert value(found, "kafka_consumergroup_up", source="prod") == 1
        assert value(found, m.KAFKA_PARTITION_LAG_OFFSETS, **at("etl", "orders", 0)) == 3
        tables = dict(kafka.tables)
        broker.kill()
        wait_for(
            lambda: kafka._snapshot is not None and kafka._snapshot.error is not None, 30, "a failed poll"
        )
        found = samples(exposition(runtime))
    finally:
        runtime.close()
    assert value(found, "kafka_consumergroup_up", source="prod") == 0
    assert value(found, m.OWNERSHIP_INFO, service="kafka-prod", team="platform", tier="medium") == 1
    assert value(found, m.KAFKA_POLL_AGE_SECONDS, source="prod") >= 0
    errors = sum(
        value(found, "kafka_consumergroup_scrape_errors_total", source="prod", kind=k) for k in m.ERROR_KINDS
    )
    assert errors >= 1
    assert not [k for k in found if k[0] == m.KAFKA_PARTITION_LAG_OFFSETS]  # no stale lag values
    assert set(kafka.tables) == set(tables)  # the lookup tables survive the outage


def test_an_unreachable_cluster_is_down_from_the_first_poll() -> None:
    from tests.prometheus_stack import free_port

    kafka = collector(f"127.0.0.1:{free_port()}")  # nothing listens there
    snap = kafka.poll_once()
    assert snap.error is not None
    # Nothing accepted the connection (refused at once): a `connection` error, not a `timeout`.
    assert snap.error.kind == "connection", snap.error
    assert list(snap.metrics.families()) == []


# --- aggregates: the largest lag in seconds beside a partition without history --------------------


def test_exposed_maxima_with_a_partition_without_history(broker: Broker) -> None:
    """Real offsets, a controlled clock. Partition 0's log end stays at 10 (no rate known: NaN seconds);
    partition 1's moves from 10 at t=1000 to 11 at t=1240, and the group had read all 10 of its messages,
    so message 10 was produced at 1000 by interpolation: 240 s behind at t=1240."""
    _, producer = setup_topic(broker.bootstrap, "orders", 2, 10)
    c = consumer(broker.bootstrap, "etl")
    commit(c, "orders", {0: 4, 1: 10})
    c.close()
    clock = [1000.0]
    config = KafkaSource(name="prod", service="kafka-prod", bootstrap=broker.bootstrap, timeout="5s")
    kafka = KafkaCollector(config, clock=lambda: clock[0])
    assert kafka.poll_once().error is None
    producer.produce("orders", value=b"late", partition=1)
    producer.flush(10)
    clock[0] = 1240.0
    assert kafka.poll_once().error is None
    runtime = Runtime(CATALOG, [kafka])  # its poller polls again at t=1240: the same answers
    try:
        found = samples(runtime.exposition())
    finally:
        runtime.close()
    assert math.isnan(value(found, m.KAFKA_PARTITION_LAG_SECONDS, **at("etl", "orders", 0)))
    assert value(found, m.KAFKA_PARTITION_LAG_OFFSETS, **at("etl", "orders", 0)) == 6
    assert value(found, m.KAFKA_PARTITION_LAG_SECONDS, **at("etl", "orders", 1)) == 240.0
    assert value(found, m.KAFKA_TOPIC_MAX_LAG_SECONDS, cluster="prod", group="etl", topic="orders") == 240.0
    assert value(found, m.KAFKA_GROUP_MAX_LAG_SECONDS, cluster="prod", group="etl") == 240.0


def test_a_broker_that_never_answers_is_reported() -> None:
    """A listener that accepts connections and never says a word (a hung broker, a black-holing proxy):
    the poll fails within about its timeout instead of hanging, and the scrape serves `up` 0."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # keep it open, answer nothing
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        kafka = collector(f"127.0.0.1:{listener.getsockname()[1]}")  # timeout 2s
        start = time.monotonic()
        snap = kafka.poll_once()
        took = time.monotonic() - start
        runtime = Runtime(CATALOG, [kafka])
        try:
            found = samples(runtime.exposition())
        finally:
            runtime.close()
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()
    assert held, "the client never connected"
    # It connected, so the broker was reachable: the failure is its silence, a timeout.
    assert snap.error is not None and snap.error.kind == "timeout", snap.error
    assert took < 2 * 2.0 + 1, took  # about the timeout, not a hang
    assert value(found, m.up(m.KAFKA_PREFIX), source="prod") == 0
    assert not [k for k in found if k[0] == m.KAFKA_PARTITION_LAG_OFFSETS]


def test_chunked_log_end_offsets_equal_the_brokers(broker: Broker) -> None:
    """Log ends read in requests of 3 partitions (crossing topics), each request answered by one future,
    equal what was produced, what the public per-partition-future call answers, and what confluent-kafka's
    own `list_offsets` answers in one request; a poll with those chunks reports the exact lags."""
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import OffsetSpec

    admin, producer = setup_topic(broker.bootstrap, "a", 5, 2)
    setup_topic(broker.bootstrap, "b", 3, 1)
    for topic, extra in (("a", 1), ("b", 2)):  # partition p gets p * extra more: every end differs
        for p in range(5 if topic == "a" else 3):
            for _ in range(p * extra):
                producer.produce(topic, value=b"x", partition=p)
                producer.flush(10)  # one record per batch (BRIEF section 8)
    # By construction: a: 2 + p, b: 1 + 2p.
    expected = {("a", p): 2 + p for p in range(5)} | {("b", p): 1 + 2 * p for p in range(3)}
    partitions = {"a": [0, 1, 2, 3, 4], "b": [0, 1, 2]}
    assert LogEnds(admin, 5.0).one_future_per_request, "the lighter call is gone: see LogEnds"
    assert latest_offsets(admin, partitions, 5.0, chunk=3) == expected
    assert latest_offsets(admin, partitions, 5.0, chunk=3, one_future_per_request=False) == expected
    whole = admin.list_offsets({TopicPartition(t, p): OffsetSpec.latest() for t, p in expected})
    assert {(tp.topic, tp.partition): f.result(10).offset for tp, f in whole.items()} == expected

    c = consumer(broker.bootstrap, "etl")
    commit(c, "a", {p: 1 for p in range(5)})
    commit(c, "b", {0: 1, 1: 1, 2: 1})
    c.close()
    kafka = collector(broker.bootstrap)
    kafka.offsets_chunk = 3
    snap = kafka.poll_once()
    assert snap.error is None, snap.error
    for (topic, p), end in expected.items():
        assert snap.metrics.value(m.KAFKA_PARTITION_LAG_OFFSETS, **at("etl", topic, p)) == end - 1
