"""docs/metrics.md: up to date with the names modules, and true to what the exporter really emits.

The second part is a real check, not agreement: the recorded HDFS, YARN and Spark payloads (and a real
Tansu broker for Kafka) are scraped through the exporter's `/metrics` with Prometheus' Accept header,
and every family served must be listed in docs/metrics.md with the same type and label names. The
types and labels come from the collectors' code, which never reads the registry.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from api.metrics_reference import COMMAND, REFERENCE, main, render
from catalog.model.spark import SparkSource
from exporters.runtime import Runtime, Source
from exporters.server import make_server
from exporters.spark import SparkCollector, spark_time
from tests.fixture_server import reply_json, serve
from tests.test_exporters import HDFS, hdfs, nn_routes, runtime_of, spark_routes, yarn, yarn_routes
from tests.test_exposition import PROMETHEUS_ACCEPT, fetch

# Listed but not emitted by the fixture scrapes below, with the reason.
NOT_IN_FIXTURES = {
    "yarn_queue_pending_containers": "the recorded (Hadoop 2.7 docs) scheduler answers have no pendingContainers",
}


@dataclass(frozen=True)
class Row:
    section: str
    kind: str
    labels: frozenset[str]


def reference_rows(text: str) -> dict[str, Row]:
    """docs/metrics.md's tables, read as a user reads them: sample name -> section, type, labels."""
    rows: dict[str, Row] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:]
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("| `") else []
        if cells:
            labels = frozenset(re.findall(r"`([^`]+)`", cells[2]))
            for name in re.findall(r"`([^`]+)`", cells[0]):
                assert name not in rows, f"{name} is listed twice"
                rows[name] = Row(section, cells[1], labels)
    return rows


def test_reference_is_up_to_date() -> None:
    assert REFERENCE.exists(), f"docs/metrics.md is missing: run `{COMMAND}`"
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        f"docs/metrics.md is out of date: run `{COMMAND}`"
    )


def test_check_mode_reports_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "metrics.md"
    stale.write_text("# Metrics reference\n")
    assert main(["--check", "--output", str(stale)]) == 1
    assert COMMAND in capsys.readouterr().err
    assert main(["--output", str(stale)]) == 0
    assert main(["--check", "--output", str(stale)]) == 0


@contextmanager
def served(runtime: Runtime) -> Iterator[str]:
    server = make_server(runtime, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def scrape_families(*sources: Source) -> dict[str, tuple[str, set[frozenset[str]]]]:
    """sample name -> (family type, the label-name sets its samples carry), from a real /metrics scrape."""
    with runtime_of(*sources) as runtime, served(runtime) as url:
        status, content_type, body = fetch(url, PROMETHEUS_ACCEPT)
    assert status == 200 and content_type.startswith("application/openmetrics-text"), body
    found: dict[str, tuple[str, set[frozenset[str]]]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found.setdefault(sample.name, (family.type, set()))[1].add(frozenset(sample.labels))
    return found


def check_against_reference(found: dict[str, tuple[str, set[frozenset[str]]]]) -> dict[str, Row]:
    rows = reference_rows(REFERENCE.read_text(encoding="utf-8"))
    problems = []
    for name, (kind, label_sets) in sorted(found.items()):
        row = rows.get(name)
        if row is None:
            problems.append(f"{name}: emitted, not in docs/metrics.md")
            continue
        if kind != row.kind:
            problems.append(f"{name}: emitted as {kind}, listed as {row.kind}")
        for labels in label_sets:
            if labels != row.labels:
                problems.append(f"{name}: emitted with {sorted(labels)}, listed with {sorted(row.labels)}")
    assert problems == [], "\n".join(problems)
    return rows


def test_every_family_the_fixtures_emit_is_listed_with_its_type_and_labels() -> None:
    datanode = {
        "/jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo": reply_json(
            (HDFS / "hdfs_datanode_info_jmx.json").read_text()
        )
    }
    now = spark_time("2015-02-03T16:43:30.000GMT") or 0.0
    with ExitStack() as stack:
        nn, dn = stack.enter_context(serve(nn_routes())), stack.enter_context(serve(datanode))
        rm = stack.enter_context(serve(yarn_routes()))
        fair = stack.enter_context(serve(yarn_routes("ws_v1_cluster_scheduler_fair.json")))
        spark = stack.enter_context(serve(spark_routes()))
        config = SparkSource(
            name="history", service="spark-prod", url=spark.url, lookback="30s", timeout="2s"
        )
        found = scrape_families(
            hdfs("prod", [nn.url], datanodes=[dn.url]),
            yarn("prod", [rm.url]),
            yarn("fair", [fair.url]),
            SparkCollector(config, clock=lambda: now),
        )
    rows = check_against_reference(found)
    # The other way round: everything listed for these sources (and the runtime) was emitted.
    sections = {"Exporter runtime", "HDFS", "YARN", "Spark"}
    unseen = [n for n, row in rows.items() if row.section in sections and n not in found]
    assert sorted(set(unseen) - set(NOT_IN_FIXTURES)) == []


@pytest.mark.kafka
def test_every_kafka_family_a_real_broker_gives_is_listed_with_its_type_and_labels() -> None:
    from tests.kafka_broker import tansu
    from tests.test_kafka_lag import collector, commit, consumer, setup_topic

    with tansu() as broker:
        setup_topic(broker.bootstrap, "orders", 2, 3)
        c = consumer(broker.bootstrap, "etl")
        commit(c, "orders", {0: 1})  # partition 1 never committed: NO_COMMIT
        c.close()
        found = scrape_families(collector(broker.bootstrap))
    rows = check_against_reference(found)
    unseen = [n for n, row in rows.items() if row.section == "Kafka consumer lag" and n not in found]
    assert unseen == []


def test_every_recording_the_example_catalog_generates_is_listed_with_its_labels() -> None:
    from catalog import load_catalog
    from rules.generate import generate_rules
    from tests.conftest import EXAMPLE_CATALOG

    rows = reference_rows(REFERENCE.read_text(encoding="utf-8"))
    patterns = {
        re.compile(re.escape(name).replace(re.escape("<window>"), r"[0-9]+[smhdwy]")): name
        for name in rows
        if "<window>" in name
    }
    ruleset = generate_rules(load_catalog(EXAMPLE_CATALOG).catalog, with_tests=False)
    recorded = {r.record: r for groups in ruleset.files.values() for g in groups for r in g.rules if r.record}
    assert len(recorded) > 10
    problems, used = [], set()
    for name, rule in sorted(recorded.items()):
        listed_as = (
            name if name in rows else next((n for p, n in patterns.items() if p.fullmatch(name)), None)
        )
        if listed_as is None:
            problems.append(f"{name}: recorded, not in docs/metrics.md")
            continue
        used.add(listed_as)
        row = rows[listed_as]
        if row.kind != "gauge" or set(rule.labels) != row.labels:  # the example SLOs have no own labels
            problems.append(f"{name}: recorded with {sorted(rule.labels)}, listed with {sorted(row.labels)}")
    assert problems == [], "\n".join(problems)
    listed = {n for n, row in rows.items() if row.section == "SLO recording rules"}
    assert sorted(listed - used) == []
