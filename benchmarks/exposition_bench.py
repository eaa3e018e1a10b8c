"""Benchmark `/metrics` over HTTP: the full request, as Prometheus makes it, for OpenMetrics and text.

Run: .venv/bin/python benchmarks/exposition_bench.py [--groups 50] [--partitions-per-group 500] [--runs 5]

One Runtime holds one Kafka lag poll's series, built from in-memory offsets by KafkaCollector (default
50 groups x 500 partitions: 125,250 samples, plus the runtime's own series); each scrape merges them, as
KafkaCollector.collect merges its latest snapshot. Timed: one HTTP GET of /metrics, from sending the
request to reading the last byte, on a new connection each time (no compression asked).

- OpenMetrics: Prometheus 2.42's own Accept header (scrape/scrape.go `acceptHeader`), which prefers
  OpenMetrics 1.0.0.
- Text: the same header without its OpenMetrics entries (`text/plain;version=0.0.4;q=0.5,*/*;q=0.1`).

Baseline in the same run, at the same samples: prometheus_client's own HTTP handler serving the same
Runtime (a prometheus_client Collector) with the same header; for Prometheus' header that is also the
path /metrics took before the fast writer served OpenMetrics.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import MetricsHandler

from catalog.model import Catalog
from catalog.model.kafka import KafkaSource
from exporters.kafka_lag import KafkaCollector
from exporters.metric_set import MetricSet
from exporters.runtime import Runtime, Scrape, Source
from exporters.server import make_server

PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
TEXT_ACCEPT = "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
CATALOG = Catalog.model_validate(
    {
        "teams": [{"name": "platform", "owners": ["p@example.com"]}],
        "services": [{"name": "kafka", "team": "platform"}],
    }
)


class Prebuilt(Source):
    """A Kafka source whose latest poll is already built (collect merges it, like KafkaCollector's)."""

    kind = "kafka"
    prefix = "kafka_consumergroup"

    def __init__(self, metrics: MetricSet) -> None:
        super().__init__("prod", "kafka", 30)
        self.metrics = metrics

    async def collect(self, scrape: Scrape) -> None:
        scrape.metrics.merge(self.metrics)


def lag_series(groups: int, per_group: int) -> MetricSet:
    """One poll's series, evaluated and built by KafkaCollector from in-memory offsets."""
    config = KafkaSource(name="prod", service="kafka", bootstrap="127.0.0.1:9")
    clock = [1000.0]
    kafka = KafkaCollector(config, clock=lambda: clock[0])
    committed = {f"g{g}": {(f"t{g}", p): 100 + p for p in range(per_group)} for g in range(groups)}
    partitions = {f"t{g}": list(range(per_group)) for g in range(groups)}
    members = {f"g{g}": True for g in range(groups)}
    first = {(f"t{g}", p): 200 + p for g in range(groups) for p in range(per_group)}
    kafka.evaluate(committed, first, partitions, members)
    clock[0] = 1030.0
    lags = kafka.evaluate(committed, {k: v + 300 for k, v in first.items()}, partitions, members)
    out = MetricSet()
    kafka.build(out, lags, per_partition=True)
    return out


def prometheus_client_server(runtime: Runtime) -> ThreadingHTTPServer:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(runtime)
    return ThreadingHTTPServer(("127.0.0.1", 0), MetricsHandler.factory(registry))


def scrape(url: str, accept: str) -> tuple[float, str, int]:
    """(seconds for the whole request, Content-Type, samples in the body)."""
    request = urllib.request.Request(url, headers={"Accept": accept})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
        content_type = response.headers["Content-Type"]
    elapsed = time.perf_counter() - start
    samples = sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))
    return elapsed, content_type, samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--partitions-per-group", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    metrics = lag_series(args.groups, args.partitions_per_group)
    cases: list[tuple[str, str, str, Callable[[Runtime], ThreadingHTTPServer]]] = [
        (
            "OpenMetrics",
            "prometheus_client's handler (baseline)",
            PROMETHEUS_ACCEPT,
            prometheus_client_server,
        ),
        ("OpenMetrics", "watchkeeper /metrics (fast writer)", PROMETHEUS_ACCEPT, watchkeeper_server),
        ("text", "prometheus_client's handler (baseline)", TEXT_ACCEPT, prometheus_client_server),
        ("text", "watchkeeper /metrics (fast writer)", TEXT_ACCEPT, watchkeeper_server),
    ]
    times: list[list[float]] = [[] for _ in cases]
    seen: list[tuple[str, int]] = [("", 0) for _ in cases]
    with closing(Runtime(CATALOG, [Prebuilt(metrics)])) as runtime, serving(runtime, cases) as urls:
        for _ in range(args.runs):  # interleaved, so load on the machine hits every case alike
            for i, (url, (_, _, accept, _)) in enumerate(zip(urls, cases, strict=True)):
                elapsed, content_type, samples = scrape(url, accept)
                times[i].append(elapsed)
                seen[i] = (content_type, samples)
    counts = {samples for _, samples in seen}
    if len(counts) != 1:
        sys.exit(f"the servers exposed different sample counts: {seen}")
    print(
        f"/metrics over HTTP: {args.groups} groups x {args.partitions_per_group} partitions, "
        f"{counts.pop():,} samples per scrape; {args.runs} runs each"
    )
    print(f"  {'format':<12} {'server':<40} {'median s':>9} {'x baseline':>10}  content type")
    base = 0.0
    for (fmt, name, _, _), values, (content_type, _) in zip(cases, times, seen, strict=True):
        median = statistics.median(values)
        base = median if "baseline" in name else base
        print(f"  {fmt:<12} {name:<40} {median:>9.3f} {median / base:>10.2f}  {content_type}")


def watchkeeper_server(runtime: Runtime) -> ThreadingHTTPServer:
    return make_server(runtime, "127.0.0.1", 0)


@contextmanager
def serving(
    runtime: Runtime, cases: list[tuple[str, str, str, Callable[[Runtime], ThreadingHTTPServer]]]
) -> Iterator[list[str]]:
    """Start one server per case on the runtime; yield their /metrics URLs; stop them."""
    servers = [factory(runtime) for *_, factory in cases]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield [f"http://127.0.0.1:{s.server_address[1]}/metrics" for s in servers]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
