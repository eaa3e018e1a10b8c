"""Benchmark the exporter: concurrent scrape time with a hanging source, and NameNode parse-and-expose cost.

Run: .venv/bin/python benchmarks/exporter_bench.py [--runs 10] [--timeout-ms 1000] [--datanodes 500]

1. Ten HDFS sources served by loopback HTTP servers (the recorded payloads); one hangs past its timeout.
   The scrape (collect and exposition) should take about that timeout, not the sum over the sources.
   Baselines in the same run: the configured timeout, and one healthy source alone.
2. A full-size NameNode answer (the recorded FSNamesystem and NameNodeInfo beans, LiveNodes grown to
   `--datanodes` entries by copying the recorded DataNode, and 110 more beans, copies of the recorded
   FSNamesystem bean under other names, since the corpus has no complete /jmx dump) parsed into metrics
   and exposed, against a plain `json.loads` of the same bytes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from catalog.model.hdfs import HdfsSource
from exporters.hdfs import FSNAMESYSTEM, HdfsCollector, beans
from exporters.metric_set import MetricSet
from exporters.runtime import Runtime
from tests.fixture_server import Reply, serve
from tests.test_exporters import CATALOG, FSNAMESYSTEM_JSON, HDFS, nn_routes


def _exposed(runtime: Runtime) -> bytes:
    """What `/metrics` serves: a scrape of every source, then the fast writer."""
    return runtime.exposition().encode()


def bench_scrape(runs: int, timeout_ms: int) -> None:
    with ExitStack() as stack:
        healthy = [stack.enter_context(serve(nn_routes())) for _ in range(9)]
        hanging = stack.enter_context(
            serve(nn_routes(fs=Reply(FSNAMESYSTEM_JSON.encode(), delay=timeout_ms / 1000 + 2)))
        )
        # min_interval 1ms: every run collects anew (the default, 1s, would serve the previous result)
        config = {"service": "hdfs-prod", "timeout": f"{timeout_ms}ms", "min_interval": "1ms"}
        sources = [
            HdfsCollector(HdfsSource(name=f"nn{i}", namenodes=[s.url], **config))
            for i, s in enumerate(healthy)
        ]
        sources.append(HdfsCollector(HdfsSource(name="hanging", namenodes=[hanging.url], **config)))
        ten = stack.enter_context(closing(Runtime(CATALOG, sources)))
        one = stack.enter_context(closing(Runtime(CATALOG, sources[:1])))
        _exposed(one)  # warm the connection pool
        single, full = [], []
        for _ in range(runs):
            start = time.perf_counter()
            _exposed(one)
            single.append(time.perf_counter() - start)
            start = time.perf_counter()
            _exposed(ten)
            full.append(time.perf_counter() - start)
    timeout = timeout_ms / 1000
    print(f"scrape: 10 HDFS sources (9 healthy, 1 hanging past a {timeout_ms} ms timeout), {runs} runs")
    print(f"  {'case':<52} {'median s':>9} {'p90 s':>7}")
    print(f"  {'the timeout (baseline)':<52} {timeout:>9.3f} {timeout:>7.3f}")
    for name, values in (("one healthy source alone", single), ("all ten, concurrently", full)):
        p90 = sorted(values)[int(0.9 * (len(values) - 1))]
        print(f"  {name:<52} {statistics.median(values):>9.3f} {p90:>7.3f}")
    print(
        f"  overhead over the timeout: {(statistics.median(full) - timeout) * 1000:.0f} ms; "
        f"a sequential scrape would take at least {timeout + 9 * statistics.median(single):.3f} s"
    )


def full_namenode_payload(datanodes: int) -> tuple[bytes, bytes]:
    fs = json.loads(FSNAMESYSTEM_JSON)["beans"][0]
    info = json.loads((HDFS / "hdfs_namesystem_info.json").read_text())
    bean = info["beans"][0]
    [(_, node)] = json.loads(bean["LiveNodes"]).items()
    bean["LiveNodes"] = json.dumps({f"dn{i:04d}.example.com:9866": node for i in range(datanodes)})
    filler = [{**fs, "name": f"Hadoop:service=NameNode,name=Filler{i}"} for i in range(110)]
    system = json.dumps({"beans": [fs, *filler]}).encode()
    return system, json.dumps({"beans": [bean]}).encode()


def bench_parse(runs: int, datanodes: int) -> None:
    system, info = full_namenode_payload(datanodes)
    collector = HdfsCollector(HdfsSource(name="prod", service="hdfs-prod", namenodes=["http://nn1:9870"]))
    loads, full, slow, full_om, slow_om = [], [], [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        json.loads(system)
        json.loads(info)
        loads.append(time.perf_counter() - start)
        for writer, times in (
            (MetricSet.text, full),
            (lambda o: _client(o, generate_latest), slow),
            (MetricSet.openmetrics, full_om),
            (lambda o: _client(o, generate_openmetrics), slow_om),
        ):
            start = time.perf_counter()
            out = MetricSet()
            _state, tables = collector.parse_namenode(
                out, "http://nn1:9870", beans(json.loads(system), "nn1"), beans(json.loads(info), "nn1")
            )
            collector.datanode_detail(out, tables)
            writer(out)
            times.append(time.perf_counter() - start)
    base = statistics.median(loads)
    lines = out.text().count("\n")
    print(
        f"parse and expose: {len(json.loads(system)['beans']) + 1} beans ({FSNAMESYSTEM} and copies, NameNodeInfo), "
        f"{datanodes} DataNodes, {len(system) + len(info)} bytes -> {lines} exposition lines; {runs} runs"
    )
    print(f"  {'step':<60} {'median ms':>9} {'x baseline':>10}")
    print(f"  {'json.loads of the same bytes (baseline)':<60} {base * 1000:>9.2f} {1:>10.2f}")
    for name, times in (
        ("json.loads + parse + text (the fast writer /metrics uses)", full),
        ("json.loads + parse + prometheus_client generate_latest", slow),
        ("json.loads + parse + OpenMetrics (the fast writer)", full_om),
        ("json.loads + parse + prometheus_client OpenMetrics writer", slow_om),
    ):
        print(
            f"  {name:<60} {statistics.median(times) * 1000:>9.2f} {statistics.median(times) / base:>10.2f}"
        )


def _client(out: MetricSet, writer: Callable[[CollectorRegistry], bytes]) -> bytes:
    """prometheus_client's own writer on the same families."""
    registry = CollectorRegistry(auto_describe=False)

    class _Fixed:
        def collect(self):  # type: ignore[no-untyped-def]
            return out.families()

    registry.register(_Fixed())  # type: ignore[arg-type]
    return writer(registry)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--timeout-ms", type=int, default=1000)
    parser.add_argument("--datanodes", type=int, default=500)
    args = parser.parse_args()
    bench_scrape(args.runs, args.timeout_ms)
    bench_parse(args.runs * 5, args.datanodes)


if __name__ == "__main__":
    main()
