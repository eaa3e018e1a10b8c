"""Every query of every generated dashboard works on a real Prometheus.

The example catalog is copied with its endpoints pointed at real things: HDFS and YARN serve their recorded
payloads (tests/fixtures, see PROVENANCE.md) over HTTP; Spark is a real local pyspark driver that ran three
jobs, one failing (the recorded history-server applications ended in 2015, outside any lookback); Kafka is Tansu with the example's consumer
groups committed; inference probes the model server; the warehouse is a fresh PostgreSQL database; Airflow
is the fake server with its recorded v1 payloads; one dataset is pushed to the real Pushgateway and one is a
real file. `watchkeeper exporter` scrapes them, and Prometheus (the Debian package) scrapes it, loads the
generated rules and evaluates them. The SLIs' application metrics (NameNode RPCs, broker produce requests,
the models' own request counters and latency histogram) come from a synthetic target, because no such
application runs here; the metric names there are the example catalog's, not Watchkeeper's.

Then every panel's and every template variable's PromQL, variables substituted as Grafana does, must run
without error, and return data, except the panels listed in NO_DATA with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog import load_catalog
from dashboards.generate import dashboard_files
from exporters import names as m
from rules.generate import generate_rules
from rules.render import write_rules
from tests.airflow_fixture_server import FakeAirflow, fake_airflow
from tests.conftest import EXAMPLE_CATALOG, FIXTURES, IN_CI, require_binary
from tests.dashboard_queries import choices, panel_queries, variable_values
from tests.exporter_process import EXE, ROOT
from tests.fixture_server import serve
from tests.freshness_helpers import psql, pushgateway, require_postgres, running_exporter
from tests.kafka_broker import tansu
from tests.model_server import model_server
from tests.prometheus_stack import free_port, get_json, prometheus, recorder, wait_for
from tests.test_exporters import nn_routes, yarn_routes
from tests.test_kafka_lag import commit, consumer, setup_topic

pytestmark = [pytest.mark.promtool, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.spark]

# Queries that rightly return nothing on a stack that has run for a minute: (dashboard uid, panel title,
# query index or None for every query of the panel) -> why. Each must really be empty (checked), and
# every other query must return data.
NO_DATA: dict[tuple[str, str, int | None], str] = {
    **{
        ("wk-component-drift", title, None): "no drift run yet: drift jobs push these when a monitor runs"
        for title in (
            "Drifted columns (last run)",
            "Runs without a verdict (bad input)",
            "Drifted share of columns",
            "Dataset drift detected",
            "Column scores",
            "Seconds since the last run",
        )
    },
    # only mlops has drift monitors, so only its overview has the panel
    ("wk-team-mlops", "Drift monitors: drifted share", None): "no drift run yet",
    (
        "wk-component-freshness",
        "Rows against a week ago",
        1,
    ): "the week-ago recording (offset 1w) needs a week of history; the row count, query 0, has data",
    ("wk-component-freshness", "Great Expectations: latest validation", None): "no validation ran: results "
    "are pushed by `watchkeeper quality run`, tested in tests/test_gx.py",
    ("wk-component-yarn", "Pending containers by queue", None): "the recorded scheduler payloads (capacity, "
    "fair) have no pendingContainers field, so the exporter writes no such series",
    ("wk-objective-daily-sales-freshness", "Error budget burn-down", 1): "the calendar ratio is built from "
    "hourly tiles; none is complete within the test's minute (query 0, the rolling budget, has data)",
    ("wk-objective-exec-kpis-freshness", "Error budget burn-down", 1): "as above",
}
NO_DATA |= {
    ("wk-slo-churn-serving", "YARN queues: used capacity, failed applications", None): "mlops claims "
    "root.ml, which the recorded capacity-scheduler payload does not have (its queues are root.a*, root.b*)",
    ("wk-slo-sales-mart", "YARN queues: used capacity, failed applications", None): "BI claims "
    "root.analytics, which the recorded payload does not have either",
    **{
        ("wk-slo-kafka-prod", title, None): "every group the example's Kafka source collects (its `groups:` "
        "filter) is claimed by another service, and so is the one topic they read"
        for title in ("Consumer groups: lag", "Consumer groups: status", "Topics: log-end offset")
    },
    ("wk-slo-spark-prod", "Spark applications: running, failed jobs", None): "the one Spark application "
    "running here is claimed by orders-pipeline (re:^orders-.*), so none is left to spark-prod",
    # Team overviews: as for their services above (platform holds the unclaimed rest of its shared sources).
    **{
        ("wk-team-platform", title, None): "every Kafka group and topic collected here, and the one Spark "
        "application, is claimed by another team's service"
        for title in (
            "Consumer groups: lag",
            "Consumer groups: status",
            "Topics: log-end offset",
            "Spark applications: running, failed jobs",
        )
    },
    ("wk-team-mlops", "YARN queues: used capacity, failed applications", None): "mlops claims root.ml, "
    "which the recorded capacity-scheduler payload does not have",
    ("wk-team-bi", "YARN queues: used capacity, failed applications", None): "BI claims root.analytics, "
    "which the recorded payload does not have either",
    **{
        (f"wk-objective-{slo}", "Error budget remaining", 0): "a calendar SLO's budget is its calendar "
        "budget, built from hourly tiles; none is complete within the test's minute"
        for slo in ("daily-sales-freshness", "exec-kpis-freshness")
    },
}
MAY_BE_EMPTY = {"Firing alerts", "Alerts"}
"""Tables of firing alerts: which alerts fire within the minute depends on timing (several do: their `for:`
is short); firing itself is proven by tests/test_prometheus_e2e.py."""
# Application metrics the example's SLIs read (the example catalog's names: see the module docstring).
APP_METRICS = """# TYPE hadoop_namenode_rpc_calls_total counter
hadoop_namenode_rpc_calls_total{{cluster="prod"}} {n}
# TYPE hadoop_namenode_rpc_failed_total counter
hadoop_namenode_rpc_failed_total{{cluster="prod"}} {f}
# TYPE kafka_server_brokertopicmetrics_totalproducerequests_total counter
kafka_server_brokertopicmetrics_totalproducerequests_total {n}
# TYPE kafka_server_brokertopicmetrics_failedproducerequests_total counter
kafka_server_brokertopicmetrics_failedproducerequests_total {f}
# TYPE model_requests_total counter
model_requests_total{{model="churn",code="200"}} {n}
model_requests_total{{model="churn",code="500"}} {f}
# TYPE model_request_duration_seconds histogram
model_request_duration_seconds_bucket{{model="churn",le="0.15"}} {f}
model_request_duration_seconds_bucket{{model="churn",le="0.3"}} {n}
model_request_duration_seconds_bucket{{model="churn",le="+Inf"}} {n}
model_request_duration_seconds_count{{model="churn"}} {n}
model_request_duration_seconds_bucket{{model="fraud",le="0.15"}} {n}
model_request_duration_seconds_bucket{{model="fraud",le="0.3"}} {n}
model_request_duration_seconds_bucket{{model="fraud",le="+Inf"}} {n}
model_request_duration_seconds_count{{model="fraud"}} {n}
"""


@contextmanager
def warehouse() -> Iterator[str]:
    """A fresh PostgreSQL database with the example's tables, dropped afterwards."""
    require_postgres()
    name = f"wk_dash_{uuid.uuid4().hex[:10]}"
    psql(f"create database {name}")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        psql("create table orders (updated_at timestamptz)", url)
        psql("insert into orders values (now() - interval '10 minutes'), (now())", url)
        psql("create schema marts; create table marts.daily_sales (loaded_at timestamptz)", url)
        psql("insert into marts.daily_sales values (now() - interval '3 hours')", url)
        yield url
    finally:
        psql(f"drop database if exists {name} with (force)")


@contextmanager
def spark_driver() -> Iterator[str]:
    """A real pyspark driver (local mode) that ran two jobs and one failing job; yields its REST URL."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        if IN_CI:
            pytest.fail("pyspark is not installed: run scripts/bootstrap.sh")
        pytest.skip("pyspark is not installed")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    port = free_port()
    session = (
        SparkSession.builder.master("local[2]")
        .appName("orders-nightly-dashboards-test")  # claimed by orders-pipeline (re:^orders-.*)
        .config("spark.ui.port", str(port))
        .config("spark.port.maxRetries", "0")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        sc = session.sparkContext
        sc.parallelize(range(100), 4).count()
        sc.parallelize(range(10), 2).sum()
        with pytest.raises(Exception, match="ZeroDivisionError"):
            sc.parallelize([1, 2], 2).map(lambda x: x // 0).collect()
        yield f"http://127.0.0.1:{port}"
    finally:
        session.stop()


def seed_kafka(bootstrap: str) -> None:
    """The example's consumer groups on a topic, each with a commit behind the log end."""
    setup_topic(bootstrap, "orders", 2, 5)
    # Owned by data-engineering's, BI's (re:^analytics-.*) and mlops' claims.
    for group in ("orders-etl", "clickstream-sessionizer", "analytics-sessions", "analytics-churn-features"):
        c = consumer(bootstrap, group)
        commit(c, "orders", {0: 2, 1: 4})
        c.close()


def live_catalog(root: Path, urls: dict[str, str]) -> Path:
    """The example catalog with every endpoint it names pointed at the running stand-ins."""
    out = root / "catalog"
    out.mkdir()
    marker = root / "exec_kpis.hyper"
    marker.write_text("extract\n")
    for path in sorted(EXAMPLE_CATALOG.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        sources = doc.get("sources", {})
        for entry in sources.get("hdfs", []):
            entry["namenodes"] = [urls["hdfs"]]
        for entry in sources.get("yarn", []):
            entry["resourcemanagers"] = [urls["yarn"]]
        for entry in sources.get("spark", []):
            entry["url"] = urls["spark"]
        for entry in sources.get("kafka", []):
            entry["bootstrap"] = urls["kafka"]
            entry["poll_interval"] = "1s"
        for entry in sources.get("inference", []):
            entry["url"] = urls["model"]
            entry["interval"], entry["timeout"] = "1s", "900ms"
        for entry in sources.get("freshness", []):
            if "file" in entry:
                entry["file"]["path"] = str(marker)
            if "push" in entry:
                entry["push"]["pushgateway"] = urls["pushgateway"]
            if "airflow" in entry and entry["airflow"].get("api_version", 1) == 1:
                entry["airflow"]["url"] = urls["airflow"]
            elif "airflow" in entry:  # the recorded Airflow 3 (API v2) payloads are of DAG wk_ok
                entry["airflow"] |= {"url": urls["airflow2"], "dag_id": "wk_ok"}
        (out / path.name).write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


def _query(url: str, expr: str, instant: bool) -> dict[str, Any]:
    if instant:
        params = {"query": expr}
        path = "query"
    else:
        end = time.time()
        params = {"query": expr, "start": str(end - 60), "end": str(end), "step": "2"}
        path = "query_range"
    answer: dict[str, Any] = get_json(f"{url}/api/v1/{path}?{urllib.parse.urlencode(params)}", timeout=30)
    return answer


def _has_data(answer: dict[str, Any]) -> bool:
    return any(series.get("value") or series.get("values") for series in answer["data"]["result"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A Prometheus URL with everything above running, and the live catalog's dashboards."""
    prom = require_binary("prometheus")
    tmp = tmp_path_factory.mktemp("dashboards-live")
    start = time.time()

    def app_metrics() -> str:
        n = int((time.time() - start) * 50) + 100
        return APP_METRICS.format(n=n, f=n // 100)

    with ExitStack() as stack:
        urls = {
            "hdfs": stack.enter_context(serve(nn_routes())).url,
            "yarn": stack.enter_context(serve(yarn_routes())).url,
            "spark": stack.enter_context(spark_driver()),
            "kafka": stack.enter_context(tansu()).bootstrap,
            "model": stack.enter_context(model_server(log=tmp / "model.log")).url,
            "pushgateway": stack.enter_context(pushgateway(tmp)),
        }
        v1 = FIXTURES / "airflow/v1"
        airflow = FakeAirflow(
            1,
            {"orders_daily": json.loads((v1 / "dag_orders_daily.json").read_text())},
            {"orders_daily": json.loads((v1 / "runs_orders_daily.json").read_text())["dag_runs"]},
            "watchkeeper",
            "example",
            time.time,
        )
        urls["airflow"] = stack.enter_context(fake_airflow(airflow)).url
        v2 = FIXTURES / "airflow/v2"
        airflow2 = FakeAirflow(
            2,
            {"wk_ok": json.loads((v2 / "dag_wk_ok.json").read_text())},
            {"wk_ok": json.loads((v2 / "runs_wk_ok.json").read_text())["dag_runs"]},
            "watchkeeper",
            "example",
            time.time,
        )
        urls["airflow2"] = stack.enter_context(fake_airflow(airflow2)).url
        seed_kafka(urls["kafka"])
        catalog_dir = live_catalog(tmp, urls)
        env = {"WAREHOUSE_URL": stack.enter_context(warehouse()), "AIRFLOW_PASSWORD": "example"}
        pushed = subprocess.run(
            [
                str(EXE),
                "push",
                "freshness",
                "lake.clickstream_daily_rollup",
                "--catalog",
                str(catalog_dir),
                "--rows",
                "1000",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert pushed.returncode == 0, pushed.stderr
        exporter = stack.enter_context(running_exporter(catalog_dir, tmp / "exporter.log", env))
        app_url, _ = stack.enter_context(recorder(app_metrics))
        catalog = load_catalog(catalog_dir).catalog
        rule_files = write_rules(generate_rules(catalog).files, tmp / "rules")
        scrape: list[dict[str, Any]] = [
            {
                "job_name": m.EXPORTER_JOB,  # a few seconds: one collection takes over 1 s on a busy machine
                "scrape_interval": "3s",
                "scrape_timeout": "3s",
                "static_configs": [{"targets": [f"{exporter.host}:{exporter.port}"]}],
            },
            {
                "job_name": "pushgateway",
                "honor_labels": True,
                "static_configs": [{"targets": [urls["pushgateway"].removeprefix("http://")]}],
            },
        ]
        url = stack.enter_context(
            prometheus(prom, rule_files, tmp, [app_url.removeprefix("http://")], scrape_configs=scrape)
        )
        # Long enough for the chained recordings and for rates over a few scrapes of every source.
        wait_for(lambda: _has_data(_query(url, f"{m.KAFKA_GROUP_SUM_LAG_OFFSETS}", True)), 60, "lag series")
        time.sleep(20)
        yield url, dashboard_files(catalog)


def test_every_dashboard_query_runs_and_returns_data(stack: tuple[str, dict[str, str]]) -> None:
    import json

    url, files = stack
    errors: list[tuple[str, str, str, object]] = []
    has_data: dict[tuple[str, str, int], bool] = {}
    for text in files.values():
        dashboard = json.loads(text)

        def run(expr: str) -> list[dict[str, Any]]:
            result: list[dict[str, Any]] = _query(url, expr, True)["data"]["result"]
            return result

        # A team overview is tried with each team chosen: a panel has data if it has for some team.
        for chosen in choices(dashboard):
            values, queries = variable_values(dashboard, run, chosen)
            for query in queries + panel_queries(dashboard, values):
                try:
                    answer = _query(url, query.expr, query.instant)
                except OSError as exc:  # urllib's HTTPError: Prometheus refused the query (400/422)
                    errors.append((query.dashboard, query.panel, query.expr, str(exc)))
                    continue
                if answer.get("status") != "success" or answer.get("warnings"):
                    errors.append((query.dashboard, query.panel, query.expr, answer))
                key = (query.dashboard, query.panel, query.index)
                has_data[key] = has_data.get(key, False) or _has_data(answer)
    assert len(has_data) > 250
    assert errors == []

    def listed(key: tuple[str, str, int]) -> bool:
        uid, panel, index = key
        return (uid, panel, index) in NO_DATA or (uid, panel, None) in NO_DATA or panel in MAY_BE_EMPTY

    assert [key for key, data in has_data.items() if not data and not listed(key)] == []
    # Every listed exception is still true: its queries really return nothing.
    wrongly_listed = [
        key for key, data in has_data.items() if data and listed(key) and key[1] not in MAY_BE_EMPTY
    ]
    assert wrongly_listed == []
    assert all(any(k[:2] == (uid, panel) for k in has_data) for uid, panel, _ in NO_DATA)


# What each team of the example catalog owns, written by hand from examples/catalog/*.yaml: its sources
# (and datasets, which the Sources table lists by dataset), drift monitors, SLOs, and the parts of shared
# sources its services claim (the most specific claim wins: mlops' analytics-churn-features over BI's
# re:^analytics-.*).
OWNED_BY_HAND: dict[str, dict[str, set[str]]] = {
    "platform": {
        "source": {"prod", "history"},
        "dataset": set(),
        "monitor": set(),
        "slo": {"hdfs-namenode-rpc-availability", "yarn-app-success", "kafka-produce-availability"},
    },
    "bi": {
        "source": {"marts.daily_sales", "extracts.exec_kpis"},
        "dataset": {"marts.daily_sales", "extracts.exec_kpis"},
        "monitor": set(),
        "slo": {"daily-sales-freshness", "exec-kpis-freshness"},
    },
    "data-engineering": {
        "source": {
            "warehouse.orders",
            "airflow.orders_daily",
            "lake.clickstream_sessions",
            "lake.clickstream_daily_rollup",
        },
        "dataset": {
            "warehouse.orders",
            "airflow.orders_daily",
            "lake.clickstream_sessions",
            "lake.clickstream_daily_rollup",
        },
        "monitor": set(),
        "slo": {"orders-freshness", "orders-etl-lag", "clickstream-sessionizer-lag"},
        "group": {"orders-etl", "clickstream-sessionizer"},
        "topic": {"orders"},
    },
    "mlops": {
        "source": {"features.churn_daily", "churn-model", "fraud-model"},
        "dataset": {"features.churn_daily"},
        "monitor": {"churn-features", "fraud-features"},
        "slo": {"churn-latency", "churn-availability", "fraud-latency"},
        "group": {"analytics-churn-features"},
        "queue": {"root.ml"},
    },
}


NAMED_BY = {
    "Firing alerts": set(),  # a claimed part's alert names the shared source too: its `team` is checked
    "YARN queues: used capacity, failed applications": {"queue"},
    "Spark applications: running, failed jobs": set(),
    "Consumer groups: lag": {"group"},
    "Consumer groups: status": {"group"},
    "Topics: log-end offset": {"topic"},
}
"""Panels whose rows name a part of a shared source: only the part's own label is checked there."""


def test_each_team_overview_shows_only_that_team_s_rows(stack: tuple[str, dict[str, str]]) -> None:
    """Every row of every table on a team's overview belongs to that team: its `team` label (joined from
    ownership or SLO info) is the team's, and each name it carries is one the team owns (by hand, above).
    The team overview used to `or` one gated query per team without parentheses (`a or b and on() gate`),
    so every team but the last saw the others' sources, datasets, endpoints and monitors."""
    url, files = stack
    rows_seen: dict[str, int] = {}
    wrong: list[tuple[str, str, dict[str, str]]] = []
    for team, owned in OWNED_BY_HAND.items():
        dashboard = json.loads(files[f"{team}/wk-team-{team}.json"])
        assert dashboard["templating"]["list"] == []  # one overview per team: no `team` variable
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                if not target.get("instant") or panel["type"] != "table":
                    continue
                assert "$" not in target["expr"], (team, panel["title"])
                for series in _query(url, target["expr"], True)["data"]["result"]:
                    labels = series["metric"]
                    rows_seen[team] = rows_seen.get(team, 0) + 1
                    if labels.get("team", team) != team:
                        wrong.append((team, panel["title"], labels))
                    for label, names in owned.items():
                        if label not in NAMED_BY.get(panel["title"], {label}):
                            continue  # e.g. a claimed queue's row names its shared source, `prod`
                        if label in labels and labels[label] not in names:
                            wrong.append((team, panel["title"], labels))
    assert wrong == []
    # Every team sees rows of its own (SLOs, sources or datasets at least).
    assert set(rows_seen) == set(OWNED_BY_HAND), rows_seen
