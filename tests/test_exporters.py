"""The exporter on real recorded HDFS, YARN and Spark payloads served over real HTTP, and its fault handling.

HDFS and YARN cannot run here: their recorded payloads (tests/fixtures, see PROVENANCE.md) stand in for
them, served by a loopback HTTP server. Values asserted below are read off those payloads by hand.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import unquote

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from catalog.model import Catalog
from catalog.model.hdfs import HdfsSource
from catalog.model.spark import SparkSource
from catalog.model.yarn import YarnSource
from exporters import names as m
from exporters.hdfs import DATANODE_INFO, FSNAMESYSTEM, NAMENODE_INFO, HdfsCollector
from exporters.http import HttpPool
from exporters.runtime import Runtime, Source
from exporters.spark import SparkCollector, spark_time
from exporters.yarn import YarnCollector
from tests.conftest import FIXTURES, require_binary
from tests.fixture_server import Reply, reply_json, serve
from tests.prometheus_stack import free_port

HDFS = FIXTURES / "hdfs_jmx"
YARN = FIXTURES / "yarn_rm"
SPARK = FIXTURES / "spark_rest"
CATALOG = Catalog.model_validate(
    {
        "teams": [{"name": "platform", "owners": ["p@example.com"]}],
        "services": [
            {"name": "hdfs-prod", "team": "platform", "tier": "critical"},
            {"name": "yarn-prod", "team": "platform"},
            {"name": "spark-prod", "team": "platform", "tier": "high"},
        ],
    }
)
MALFORMED = (HDFS / "hdfs_namesystem_critical.AS_STORED_malformed.json").read_text()
FSNAMESYSTEM_JSON = '{"' + MALFORMED  # the stored file lost its leading '{"' (PROVENANCE.md)


def nn_routes(fs: str | Reply = FSNAMESYSTEM_JSON, info: str | Reply | None = None) -> dict[str, Reply]:
    info = info if info is not None else (HDFS / "hdfs_namesystem_info.json").read_text()
    return {
        f"/jmx?qry={FSNAMESYSTEM}*": fs if isinstance(fs, Reply) else reply_json(fs),
        f"/jmx?qry={NAMENODE_INFO}": info if isinstance(info, Reply) else reply_json(info),
    }


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def exposition(runtime: Runtime) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(runtime)
    return generate_latest(registry).decode()


def samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(found: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    assert key in found, f"no sample {name}{labels}; have {sorted(k for k in found if k[0] == name)}"
    return found[key]


@contextmanager
def runtime_of(*sources: Source) -> Iterator[Runtime]:
    runtime = Runtime(CATALOG, list(sources), HttpPool(max_body_bytes=20 * 1024 * 1024))
    try:
        yield runtime
    finally:
        runtime.close()


def hdfs(name: str, namenodes: list[str], timeout: str = "2s", datanodes: list[str] = ()) -> HdfsCollector:  # type: ignore[assignment]
    return HdfsCollector(
        HdfsSource(
            name=name, service="hdfs-prod", namenodes=namenodes, datanodes=list(datanodes), timeout=timeout
        ),
        clock=lambda: 1455829966.3,  # ten minutes after the recorded LastCheckpointTime
    )


# --- HDFS ------------------------------------------------------------------------------------------


def test_hdfs_namenode_and_datanode_values_from_real_payloads() -> None:
    datanode = {f"/jmx?qry={DATANODE_INFO}": reply_json((HDFS / "hdfs_datanode_info_jmx.json").read_text())}
    with (
        serve(nn_routes()) as nn,
        serve(datanode) as dn,
        runtime_of(hdfs("prod", [nn.url], datanodes=[dn.url])) as rt,
    ):
        found = samples(exposition(rt))
    host = nn.url.removeprefix("http://")
    at = {"source": "prod", "namenode": host}
    expected = {
        m.HDFS_CAPACITY_TOTAL_BYTES: 41167421440,
        m.HDFS_CAPACITY_USED_BYTES: 504754176,
        m.HDFS_CAPACITY_REMAINING_BYTES: 27087769600,
        m.HDFS_MISSING_BLOCKS: 0,
        m.HDFS_CORRUPT_BLOCKS: 1,
        m.HDFS_UNDER_REPLICATED_BLOCKS: 27689,
        m.HDFS_PENDING_REPLICATION_BLOCKS: 0,
        m.HDFS_BLOCKS_TOTAL: 27689,
        m.HDFS_FILES_TOTAL: 82990,
        m.HDFS_STALE_DATANODES: 0,
        m.HDFS_TRANSACTIONS_SINCE_CHECKPOINT: 7,
        m.HDFS_LAST_CHECKPOINT_TIMESTAMP: 1455829366.3,
        m.HDFS_LIVE_DATANODES: 1,  # one entry in NameNodeInfo's LiveNodes JSON string
        m.HDFS_DEAD_DATANODES: 0,
        m.HDFS_VOLUME_FAILURES: 0,
        m.HDFS_SAFEMODE: 0,  # "Safemode": ""
        m.HDFS_HA_ACTIVE: 1,  # "tag.HAState": "active"
    }
    for name, number in expected.items():
        assert value(found, name, **at) == number, name
    assert value(found, m.HDFS_HA_STATE, **at, state="active") == 1
    assert value(found, m.HDFS_HA_STATE, **at, state="standby") == 0
    # LastCheckpointTime 1455829366300 ms; the test's clock reads 1455829966.3: ten minutes later.
    assert value(found, m.HDFS_CHECKPOINT_AGE_SECONDS, **at) == pytest.approx(600)
    node = {"source": "prod", "datanode": "c68ae3949d7f:50010"}
    assert value(found, m.HDFS_DATANODE_CAPACITY_BYTES, **node) == 62725623808
    assert value(found, m.HDFS_DATANODE_USED_BYTES, **node) == 24576
    assert value(found, m.HDFS_DATANODE_REMAINING_BYTES, **node) == 55830482944
    assert value(found, m.HDFS_DATANODE_LAST_CONTACT_SECONDS, **node) == 2
    assert value(found, m.HDFS_DATANODE_LIVE, **node) == 1
    volume = {
        "source": "prod",
        "datanode": dn.url.removeprefix("http://"),
        "volume": "/hadoop/dfs/data/current",
    }
    assert value(found, m.HDFS_DATANODE_VOLUME_USED_BYTES, **volume) == 28672
    assert value(found, m.HDFS_DATANODE_VOLUME_FREE_BYTES, **volume) == 56364617728
    assert value(found, "hdfs_up", source="prod") == 1
    assert value(found, "hdfs_scrape_errors_total", source="prod", kind="parse") == 0
    # Only the beans needed are asked for, with ?qry=.
    assert sorted(unquote(r) for r in nn.requests) == sorted(
        [f"/jmx?qry={FSNAMESYSTEM}*", f"/jmx?qry={NAMENODE_INFO}"]
    )
    assert value(found, m.OWNERSHIP_INFO, service="hdfs-prod", team="platform", tier="critical") == 1


def test_hdfs_ha_labels_each_namenode_with_its_state() -> None:
    standby = json.loads(FSNAMESYSTEM_JSON)
    standby["beans"][0]["tag.HAState"] = "standby"  # the recorded bean, as the standby would report it
    with (
        serve(nn_routes()) as nn1,
        serve(nn_routes(fs=json.dumps(standby))) as nn2,
        runtime_of(hdfs("prod", [nn1.url, nn2.url])) as rt,
    ):
        found = samples(exposition(rt))
    nn1_host, nn2_host = nn1.url.removeprefix("http://"), nn2.url.removeprefix("http://")
    assert value(found, m.HDFS_HA_ACTIVE, source="prod", namenode=nn1_host) == 1
    assert value(found, m.HDFS_HA_ACTIVE, source="prod", namenode=nn2_host) == 0
    assert value(found, m.HDFS_HA_STATE, source="prod", namenode=nn2_host, state="standby") == 1
    # Per-DataNode detail comes once, from the active NameNode.
    assert sum(1 for name, _ in found if name == m.HDFS_DATANODE_LIVE) == 1


# --- YARN ------------------------------------------------------------------------------------------


def yarn_routes(scheduler: str = "ws_v1_cluster_scheduler_capacity.json") -> dict[str, Reply]:
    return {
        "/ws/v1/cluster/metrics": reply_json((YARN / "ws_v1_cluster_metrics.json").read_text()),
        "/ws/v1/cluster/scheduler": reply_json((YARN / scheduler).read_text()),
        "/ws/v1/cluster/info": reply_json((YARN / "ws_v1_cluster_info.json").read_text()),
        # The ended-applications queries: two FINISHED, SUCCEEDED applications, so none counts (real payload);
        # the running query: three RUNNING ones (derived, see PROVENANCE.md and tests/test_yarn_apps.py).
        "/ws/v1/cluster/apps": reply_json((YARN / "ws_v1_cluster_apps.json").read_text()),
        "/ws/v1/cluster/apps?states=RUNNING&limit=10000": reply_json(
            (YARN / "ws_v1_cluster_apps_running.DERIVED.json").read_text()
        ),
    }


def yarn(name: str, rms: list[str]) -> YarnCollector:
    return YarnCollector(YarnSource(name=name, service="yarn-prod", resourcemanagers=rms, timeout="2s"))


def test_yarn_cluster_metrics_and_capacity_queues_from_real_payloads() -> None:
    with serve(yarn_routes()) as rm, runtime_of(yarn("prod", [rm.url])) as rt:
        found = samples(exposition(rt))
    at = {"source": "prod"}
    mib = 1024 * 1024
    assert value(found, m.YARN_MEMORY_BYTES, **at, state="total") == 17408 * mib
    assert value(found, m.YARN_MEMORY_BYTES, **at, state="available") == 17408 * mib
    assert value(found, m.YARN_VCORES, **at, state="total") == 8
    assert value(found, m.YARN_VCORES, **at, state="allocated") == 1
    assert value(found, m.YARN_NODES, **at, state="active") == 1
    assert value(found, m.YARN_NODES, **at, state="lost") == 0
    assert value(found, f"{m.YARN_APPS_FAILED}_total", **at) == 0
    assert value(found, f"{m.YARN_APPS_COMPLETED}_total", **at) == 0
    assert value(found, m.YARN_APPS_PENDING, **at) == 0
    q = {"source": "prod", "scheduler": "capacity"}
    assert value(found, m.YARN_QUEUE_CAPACITY, **q, queue="root.a") == pytest.approx(0.105)
    assert value(found, m.YARN_QUEUE_MAX_CAPACITY, **q, queue="root.a") == pytest.approx(0.5)
    assert value(found, m.YARN_QUEUE_CAPACITY, **q, queue="root.a.a1.a1a") == pytest.approx(0.026775)
    assert value(found, m.YARN_QUEUE_CAPACITY, **q, queue="root.b.b1") == pytest.approx(0.537)
    assert value(found, m.YARN_QUEUE_APPS, **q, queue="root.b.b1", state="pending") == 1
    assert value(found, m.YARN_QUEUE_APPS, **q, queue="root.b.b1", state="running") == 1
    assert value(found, m.YARN_QUEUE_CAPACITY, **q, queue="root") == 1.0
    queues = {dict(labels)["queue"] for name, labels in found if name == m.YARN_QUEUE_CAPACITY}
    assert queues == {
        "root",
        "root.a",
        "root.a.a1",
        "root.a.a1.a1a",
        "root.a.a1.a1b",
        "root.a.a2",
        "root.b",
        "root.b.b1",
        "root.b.b2",
        "root.b.b3",
    }
    assert value(found, "yarn_up", **at) == 1


def test_yarn_fair_scheduler_nested_queues_are_flattened_to_full_paths() -> None:
    with (
        serve(yarn_routes("ws_v1_cluster_scheduler_fair.json")) as rm,
        runtime_of(yarn("prod", [rm.url])) as rt,
    ):
        found = samples(exposition(rt))
    q = {"source": "prod", "scheduler": "fair"}
    queues = {dict(labels)["queue"] for name, labels in found if name == m.YARN_QUEUE_CAPACITY}
    assert queues == {"root", "root.default", "root.sample_queue", "root.sample_queue.sample_sub_queue"}
    assert value(found, m.YARN_QUEUE_CAPACITY, **q, queue="root.default") == 0  # fair share 0 MB of 8192
    assert value(found, m.YARN_QUEUE_CAPACITY, **q, queue="root.sample_queue") == 1.0  # 10000 MB, capped at 1
    assert value(found, m.YARN_QUEUE_MAX_CAPACITY, **q, queue="root.sample_queue.sample_sub_queue") == 1.0
    assert value(found, m.YARN_QUEUE_APPS, **q, queue="root.default", state="pending") == 0
    assert value(found, "yarn_up", source="prod") == 1


def test_yarn_follows_the_active_resourcemanager() -> None:
    info = json.loads((YARN / "ws_v1_cluster_info.json").read_text())
    # The 2.7 docs' example predates haState; these are the recorded answers plus the field HA adds.
    standby = {"clusterInfo": {**info["clusterInfo"], "haState": "STANDBY"}}
    active = {"clusterInfo": {**info["clusterInfo"], "haState": "ACTIVE"}}
    standby_routes = {"/ws/v1/cluster/info": reply_json(json.dumps(standby))}  # a standby serves nothing else
    with (
        serve(standby_routes) as rm1,
        serve({**yarn_routes(), "/ws/v1/cluster/info": reply_json(json.dumps(active))}) as rm2,
        runtime_of(yarn("prod", [rm1.url, rm2.url])) as rt,
    ):
        found = samples(exposition(rt))
    assert value(found, m.YARN_ACTIVE_RM, source="prod", resourcemanager=rm2.url.removeprefix("http://")) == 1
    assert value(found, m.YARN_ACTIVE_RM, source="prod", resourcemanager=rm1.url.removeprefix("http://")) == 0
    assert value(found, m.YARN_VCORES, source="prod", state="total") == 8
    assert value(found, "yarn_up", source="prod") == 1
    assert not [r for r in rm1.requests if r != "/ws/v1/cluster/info"]


def _info(state: str) -> dict[str, Reply]:
    info = json.loads((YARN / "ws_v1_cluster_info.json").read_text())
    return {
        "/ws/v1/cluster/info": reply_json(
            json.dumps({"clusterInfo": {**info["clusterInfo"], "haState": state}})
        )
    }


# Each case: the routes of each RM (an empty dict answers 404 everywhere), then the expected
# yarn_resourcemanager_active per RM and yarn_up. An RM counts as active only when it identified itself
# (HA: /ws/v1/cluster/info says ACTIVE; one RM: no check) AND its cluster metrics answered: the cluster
# series then come from it. A 404, a failed or an unknown RM never shows 1.
YARN_ACTIVE_CASES = {
    "lone RM answers 404": ([{}], [0], 0),
    "lone RM healthy": ([yarn_routes()], [1], 1),
    "lone RM: metrics fine, scheduler 404": (
        [{k: v for k, v in yarn_routes().items() if k != "/ws/v1/cluster/scheduler"}],
        [1],
        0,
    ),
    "HA: both answer 404": ([{}, {}], [0, 0], 0),
    "HA: one 404, one standby": ([{}, _info("STANDBY")], [0, 0], 0),
    "HA: says ACTIVE, then 404 on metrics": ([_info("ACTIVE"), _info("STANDBY")], [0, 0], 0),
    "HA: one 404, one active": ([{}, {**yarn_routes(), **_info("ACTIVE")}], [0, 1], 1),
}


@pytest.mark.parametrize("case", list(YARN_ACTIVE_CASES))
def test_a_failed_resourcemanager_never_claims_to_be_active(case: str) -> None:
    routes, active, up = YARN_ACTIVE_CASES[case]
    with ExitStack() as stack:
        rms = [stack.enter_context(serve(r)) for r in routes]
        rt = stack.enter_context(runtime_of(yarn("prod", [rm.url for rm in rms])))
        found = samples(exposition(rt))
    for rm, expected in zip(rms, active, strict=True):
        host = rm.url.removeprefix("http://")
        assert value(found, m.YARN_ACTIVE_RM, source="prod", resourcemanager=host) == expected, case
    assert value(found, "yarn_up", source="prod") == up, case


# --- Spark -----------------------------------------------------------------------------------------

APP = "local-1422981780767"


def spark_routes() -> dict[str, Reply]:
    return {
        "/api/v1/applications": reply_json((SPARK / "application_list_json_expectation.json").read_text()),
        f"/api/v1/applications/{APP}/jobs": reply_json(
            (SPARK / "job_list_json_expectation.json").read_text()
        ),
        f"/api/v1/applications/{APP}/stages?status=failed": reply_json(
            (SPARK / "failed_stage_list_json_expectation.json").read_text()
        ),
        f"/api/v1/applications/{APP}/allexecutors": reply_json(
            (SPARK / "executor_list_json_expectation.json").read_text()
        ),
    }


def test_spark_application_values_from_real_history_server_payloads() -> None:
    # A clock just after the app ended, with a 30s lookback: only this app of the 13 listed is kept.
    now = spark_time("2015-02-03T16:43:30.000GMT")
    assert now is not None
    with serve(spark_routes()) as server:
        config = SparkSource(
            name="history", service="spark-prod", url=server.url, lookback="30s", timeout="2s"
        )
        with runtime_of(SparkCollector(config, clock=lambda: now)) as rt:
            found = samples(exposition(rt))
    app = {"source": "history", "app_name": "Spark shell", "app_id": APP}
    assert value(found, m.SPARK_APP_JOBS, **app, status="failed") == 1
    assert value(found, m.SPARK_APP_JOBS, **app, status="succeeded") == 2
    assert value(found, m.SPARK_APP_JOBS, **app, status="running") == 0
    assert value(found, m.SPARK_APP_STAGES, **app, status="failed") == 1
    assert value(found, m.SPARK_APP_STAGES, **app, status="complete") == 3
    assert value(found, m.SPARK_APP_TASKS, **app, status="failed") == 1
    assert value(found, m.SPARK_APP_TASKS, **app, status="completed") == 31
    assert value(found, m.SPARK_APP_TASKS, **app, status="active") == 0
    assert value(found, m.SPARK_APP_EXECUTORS, **app) == 1
    assert value(found, m.SPARK_APP_MEMORY_MAX_BYTES, **app) == 278302556
    assert value(found, m.SPARK_APP_GC_SECONDS, **app) == pytest.approx(0.352)
    assert value(found, m.SPARK_APP_SHUFFLE_WRITE_BYTES, **app) == 13180
    assert value(found, m.SPARK_APP_DURATION_SECONDS, **app) == pytest.approx(9.011)
    assert value(found, m.SPARK_APP_RUNNING, **app) == 0
    assert {dict(labels)["app_id"] for name, labels in found if name == m.SPARK_APP_RUNNING} == {APP}
    assert value(found, "spark_up", source="history") == 1
    assert all(
        "minEndDate=2015-02-03T16%3A43%3A00.000GMT" in r
        for r in server.requests
        if r.startswith("/api/v1/applications?")
    )
    # Ids are label values, never in metric names.
    assert not [name for name, _ in found if "1422981780767" in name or "local" in name]


def test_spark_caps_applications_and_counts_missing_details() -> None:
    # A day after local-1426533911241's latest attempt (its first listed) ended, 2015-03-17T23:12:25, with a
    # 30d lookback: it and local-1425081759269 (ended 2015-02-28) are eligible, the 2015-02-03 ones are
    # not; max_applications 1 keeps the one that ended last.
    now = spark_time("2015-03-18T23:12:25.000GMT")
    assert now is not None
    with serve(spark_routes()) as server:
        config = SparkSource(
            name="history",
            service="spark-prod",
            url=server.url,
            lookback="30d",
            max_applications=1,
            timeout="2s",
        )
        with runtime_of(SparkCollector(config, clock=lambda: now)) as rt:
            found = samples(exposition(rt))
    ids = {dict(labels)["app_id"] for name, labels in found if name == m.SPARK_APP_RUNNING}
    assert ids == {"local-1426533911241"}
    # Its details are not in the corpus, so the server answers 404 to each of its three requests (jobs,
    # failed stages, allexecutors): each is reported on its own, so one failing never hides the others.
    assert value(found, "spark_up", source="history") == 0
    assert value(found, "spark_scrape_errors_total", source="history", kind="http_status") == 3


# --- faults ----------------------------------------------------------------------------------------


def _missing_fields() -> str:
    bean = json.loads(FSNAMESYSTEM_JSON)
    for key in ("CapacityTotal", "CapacityRemaining"):
        del bean["beans"][0][key]
    return json.dumps(bean)


FAULTS: dict[str, tuple[dict[str, Reply] | None, str]] = {
    "down": (None, "connection"),
    "hangs": (nn_routes(fs=Reply(FSNAMESYSTEM_JSON.encode(), delay=3)), "timeout"),
    "answers-500": (nn_routes(fs=Reply(b'{"error": "boom"}', status=500)), "http_status"),
    "answers-404": ({}, "http_status"),
    "malformed": (nn_routes(fs=MALFORMED), "parse"),
    "truncated": (nn_routes(info=(HDFS / "hdfs_namesystem_info.json").read_text()[:700]), "parse"),
    "huge": (nn_routes(fs=Reply(b" " * (1024 * 1024), repeat=50)), "too_large"),
    "html": (nn_routes(fs=Reply(b"<html>login</html>", content_type="text/html")), "parse"),
    "missing-fields": (nn_routes(fs=_missing_fields()), "parse"),
}


def test_every_fault_gives_up_0_and_its_error_kind_while_others_keep_serving() -> None:
    with ExitStack() as stack:
        sources: list[Source] = []
        for name, (routes, _) in FAULTS.items():
            url = (
                f"http://127.0.0.1:{free_port()}"
                if routes is None
                else stack.enter_context(serve(routes)).url
            )
            sources.append(hdfs(name, [url], timeout="500ms"))
        healthy = stack.enter_context(serve(nn_routes()))
        sources.append(hdfs("healthy", [healthy.url], timeout="500ms"))
        rt = stack.enter_context(runtime_of(*sources))
        start = time.perf_counter()
        found = samples(exposition(rt))
        elapsed = time.perf_counter() - start
    for name, (_, kind) in FAULTS.items():
        assert value(found, "hdfs_up", source=name) == 0, name
        assert value(found, "hdfs_scrape_errors_total", source=name, kind=kind) >= 1, (name, kind)
        others = [k for k in m.ERROR_KINDS if k != kind]
        assert all(value(found, "hdfs_scrape_errors_total", source=name, kind=k) == 0 for k in others), name
    assert value(found, "hdfs_up", source="healthy") == 1
    assert (
        value(found, m.HDFS_CORRUPT_BLOCKS, source="healthy", namenode=healthy.url.removeprefix("http://"))
        == 1
    )
    # Missing fields: up=0, but what the bean does hold is still exported.
    assert [
        v
        for (n, labels), v in found.items()
        if n == m.HDFS_CORRUPT_BLOCKS and ("source", "missing-fields") in labels
    ] == [1]
    # Concurrent: the hanging source costs its timeout once, not a sum over sources.
    assert elapsed < 3, elapsed


def test_exposition_passes_promtool_check_metrics() -> None:
    promtool = require_binary("promtool")
    with serve(nn_routes()) as nn, serve(yarn_routes()) as rm, serve(spark_routes()) as spark:
        now = spark_time("2015-02-03T16:43:30.000GMT") or 0
        config = SparkSource(
            name="history", service="spark-prod", url=spark.url, lookback="30s", timeout="2s"
        )
        sources = [hdfs("prod", [nn.url]), yarn("prod", [rm.url]), SparkCollector(config, clock=lambda: now)]
        with runtime_of(*sources) as rt:
            texts = [exposition(rt), rt.exposition()]  # prometheus_client's writer, then the fast one
    for text in texts:
        result = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stdout + result.stderr
    assert len(texts[1].splitlines()) == len(texts[0].splitlines())


# --- the command ---------------------------------------------------------------------------------


def test_exporter_command_serves_metrics_and_healthz_and_stops_on_sigterm(tmp_path: Path) -> None:
    import urllib.request

    with serve(nn_routes()) as nn:
        (tmp_path / "c.yaml").write_text(
            "teams: [{name: platform, owners: [p@example.com]}]\n"
            "services: [{name: hdfs-prod, team: platform}]\n"
            f"sources: {{hdfs: [{{name: prod, service: hdfs-prod, namenodes: ['{nn.url}']}}]}}\n"
        )
        port = free_port()
        exe = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "watchkeeper"
        proc = subprocess.Popen(
            [str(exe), "exporter", str(tmp_path / "c.yaml"), "--listen", f"127.0.0.1:{port}"],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                        assert r.read() == b"ok\n"
                        break
                except OSError:
                    assert time.monotonic() < deadline, "exporter did not start"
                    time.sleep(0.1)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                found = samples(r.read().decode())
        finally:
            proc.terminate()
            _, stderr = proc.communicate(timeout=10)
    assert value(found, "hdfs_up", source="prod") == 1
    assert proc.returncode == 0, stderr
    assert "msg=listening" in stderr and "msg=stopped" in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "hdfs,kafkaa"], "not kafkaa"),
        (["--only", "hdfs,kafkaa"], "--only takes hdfs, yarn, spark, kafka"),
        (["--listen", "9108"], "--listen must be host:port"),
        (["--listen", "::1:9108"], "[::1]:9108 (IPv6 in brackets)"),
        (["--listen", "[::1:9108"], "--listen must be host:port"),
        (["--log-level", "loud"], "--log-level must be debug, info, warning or error"),
    ],
)
def test_exporter_usage_errors(args: list[str], message: str) -> None:
    from tests.conftest import EXAMPLE_CATALOG, run_cli

    result = run_cli("exporter", str(EXAMPLE_CATALOG), *args)
    assert result.code == 2
    assert message in result.output


def test_fast_writer_exposes_exactly_what_prometheus_client_does() -> None:
    from exporters.metric_set import MetricSet

    out = MetricSet()
    tricky = ["plain", 'say "hi"', "back\\slash", "new\nline", "ünï", ""]
    for i, text in enumerate(tricky):
        out.gauge(
            "wk_test_values", 'help with "quotes" and \\ and\nnewline', {"source": text, "n": str(i)}, i / 3
        )
    out.gauge("wk_test_special", "special values", {"v": "nan"}, float("nan"))
    out.gauge("wk_test_special", "special values", {"v": "inf"}, float("inf"))
    out.gauge("wk_test_special", "special values", {"v": "-inf"}, float("-inf"))
    out.gauge("wk_test_special", "special values", {"v": "big"}, 1e21)
    out.counter("wk_test_errors", "a counter", {"kind": "timeout"}, 3)
    out.gauge("wk_test_nolabels", "no labels", {}, 42)

    class Fixed:
        def collect(self):  # type: ignore[no-untyped-def]
            return out.families()

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed())  # type: ignore[arg-type]
    reference = generate_latest(registry).decode()
    fast = out.text()

    def normalised(text: str) -> list[tuple[str, str, tuple[tuple[str, str], ...], str]]:
        rows = []
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                rows.append((family.documentation, s.name, tuple(sorted(s.labels.items())), repr(s.value)))
        return sorted(rows)

    assert normalised(fast) == normalised(reference)
    promtool = require_binary("promtool")
    check = subprocess.run(
        [promtool, "check", "metrics"], input=fast, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_exporter_refuses_to_start_without_a_referenced_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import run_cli

    monkeypatch.delenv("WK_TEST_NN_PASSWORD", raising=False)
    (tmp_path / "c.yaml").write_text(
        "teams: [{name: platform, owners: [p@example.com]}]\n"
        "services: [{name: hdfs-prod, team: platform}]\n"
        "sources: {hdfs: [{name: prod, service: hdfs-prod, namenodes: ['http://nn1:9870'],\n"
        "  auth: {basic: {username: wk, password_env: WK_TEST_NN_PASSWORD}}}]}\n"
    )
    result = run_cli("exporter", str(tmp_path / "c.yaml"), "--listen", "127.0.0.1:1")
    assert result.code == 1
    assert "hdfs source prod: environment variable WK_TEST_NN_PASSWORD is not set" in result.output
