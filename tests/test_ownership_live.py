"""Ownership end to end: the real exporter (Kafka lag from a Tansu broker, YARN from recorded payloads over
HTTP), the generated rules in a real Prometheus and the generated routes in a live Alertmanager.

Lag on the claimed group `orders-etl` reaches data engineering's receiver and not platform's; lag on an
unclaimed group reaches platform's; failed applications in `root.analytics` (a child queue of it) reach
BI's. Only the `for:` of the two alerts under test is shortened (to none), so the test takes seconds.

The YARN payloads are the recorded ones of tests/fixtures/yarn_rm (see PROVENANCE.md), changed here in two
ways only, both said where they are made: the capacity scheduler's queue `a` is renamed `analytics` (so its
child `a1`, where the recorded applications failed, is `root.analytics.a1`), and the applications'
`finishedTime` is moved to now, because the exporter counts only applications that ended within its
`applications_window` and the recorded ones ended in 2012.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from catalog import load_catalog
from rules.alertmanager import RoutingOptions, alertmanager_yaml
from rules.generate import generate_rules
from rules.render import write_rules
from tests.conftest import FIXTURES, require_binary
from tests.exporter_process import EXE, ROOT
from tests.kafka_broker import tansu
from tests.prometheus_stack import alertmanager, free_port, get_json, prometheus, recorder, stop, wait_for
from tests.test_kafka_lag import commit, consumer, produce, setup_topic

pytestmark = [pytest.mark.promtool, pytest.mark.kafka]

YARN = FIXTURES / "yarn_rm"
LAG_ALERT = "WatchkeeperKafkaConsumerLagging"
QUEUE_ALERT = "WatchkeeperYarnQueueAppsFailed"
CATALOG = """
teams:
  - {name: platform, owners: [p@example.com], channels: {webhook: {url: "HOOK/team/platform"}}}
  - {name: data-engineering, owners: [d@example.com], channels: {webhook: {url: "HOOK/team/data-engineering"}}}
  - {name: bi, owners: [b@example.com], channels: {webhook: {url: "HOOK/team/bi"}}}
services:
  - {name: kafka-prod, team: platform, tier: critical}
  - {name: yarn-prod, team: platform, tier: critical}
  - name: orders-pipeline
    team: data-engineering
    tier: high
    claims: {kafka: [{source: prod, groups: [orders-etl]}]}
  - name: sales-mart
    team: bi
    tier: medium
    claims: {yarn: [{source: prod, queues: [root.analytics]}]}
sources:
  kafka:
    - name: prod
      service: kafka-prod
      bootstrap: "BOOTSTRAP"
      poll_interval: 1s
      timeout: 2s
      alerts: {lag_seconds: {threshold: 3}}
  yarn:
    - {name: prod, service: yarn-prod, resourcemanagers: ["RM"], timeout: 2s, applications_window: 1h}
"""


def _recorded(name: str) -> str:
    return (YARN / name).read_text()


def _apps_now(text: str) -> bytes:
    """The recorded applications with `finishedTime` moved to now (see the module docstring)."""
    data = json.loads(text)
    now_ms = int(time.time() * 1000)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "finishedTime" in node:
                node["finishedTime"] = now_ms - 1000
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return json.dumps(data).encode()


@contextmanager
def resource_manager() -> Iterator[str]:
    """A loopback ResourceManager serving the recorded payloads; the apps query is answered by its states."""
    scheduler = _recorded("ws_v1_cluster_scheduler_capacity.json").replace(
        '"queueName": "a",', '"queueName": "analytics",'
    )
    assert '"queueName": "analytics"' in scheduler
    fixed = {
        "/ws/v1/cluster/metrics": _recorded("ws_v1_cluster_metrics.json").encode(),
        "/ws/v1/cluster/scheduler": scheduler.encode(),
        "/ws/v1/cluster/info": _recorded("ws_v1_cluster_info.json").encode(),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            states = parse_qs(parts.query).get("states", [""])[0]
            if parts.path in fixed:
                body = fixed[parts.path]
            elif parts.path == "/ws/v1/cluster/apps" and states == "FAILED,KILLED":
                body = _apps_now(_recorded("ws_v1_cluster_apps_failed_killed.DERIVED.json"))
            elif parts.path == "/ws/v1/cluster/apps" and states == "FINISHED":
                body = _apps_now(_recorded("ws_v1_cluster_apps_finished_failed.DERIVED.json"))
            elif parts.path == "/ws/v1/cluster/apps":
                body = _recorded("ws_v1_cluster_apps_running.DERIVED.json").encode()
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def exporter_process(catalog: Path, workdir: Path) -> Iterator[str]:
    port = free_port()
    log = workdir / "exporter.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(EXE), "exporter", str(catalog), "--listen", f"127.0.0.1:{port}"], stderr=err, cwd=ROOT
        )
    try:
        wait_for(lambda: _healthy(f"http://127.0.0.1:{port}/healthz"), 30, "the exporter to start")
        yield f"127.0.0.1:{port}"
    finally:
        stop(proc)


def _firing(received: Any, team: str, alertname: str) -> list[dict[str, str]]:
    return [
        alert["labels"]
        for body in received.received(f"/team/{team}")
        for alert in body["alerts"]
        if alert["labels"]["alertname"] == alertname and alert["status"] == "firing"
    ]


def test_alerts_about_claimed_parts_reach_the_claiming_team(tmp_path: Path) -> None:
    prom_bin = require_binary("prometheus")
    am_bin = require_binary("prometheus-alertmanager")
    stop_producing = threading.Event()
    with tansu() as broker, resource_manager() as rm, recorder() as (hook, received):
        _, producer = setup_topic(broker.bootstrap, "orders", 1, 2)
        for group in ("orders-etl", "billing-sync"):  # both caught up, then idle while records keep coming
            c = consumer(broker.bootstrap, group)
            commit(c, "orders", {0: 2})
            c.close()

        def keep_producing() -> None:
            while not stop_producing.wait(0.5):
                produce(broker.bootstrap, "orders", 1, 1, producer)

        threading.Thread(target=keep_producing, daemon=True).start()
        path = tmp_path / "catalog.yaml"
        path.write_text(
            CATALOG.replace("HOOK", hook).replace("BOOTSTRAP", broker.bootstrap).replace("RM", rm)
        )
        catalog = load_catalog(path).catalog
        files = generate_rules(catalog, with_tests=False).files
        for rule_groups in files.values():  # no `for:` on the two alerts under test
            for rule_group in rule_groups:
                rule_group.rules[:] = [
                    dataclasses.replace(r, for_=None) if r.alert in {LAG_ALERT, QUEUE_ALERT} else r
                    for r in rule_group.rules
                ]
        rule_files = write_rules(files, tmp_path / "rules")
        token = tmp_path / "api-token"
        token.write_text("test-token\n")
        routing = alertmanager_yaml(
            catalog,
            RoutingOptions(
                watchkeeper_url=hook, group_wait="1s", group_interval="1s", api_token_file=str(token)
            ),
        )
        (tmp_path / "am").mkdir()
        (tmp_path / "prom").mkdir()
        try:
            with (
                exporter_process(path, tmp_path) as target,
                alertmanager(am_bin, routing, tmp_path / "am") as am_url,
                prometheus(prom_bin, rule_files, tmp_path / "prom", [target], am_url) as prom_url,
            ):

                def arrived() -> bool:
                    lag_de = {a["group"] for a in _firing(received, "data-engineering", LAG_ALERT)}
                    lag_pl = {a["group"] for a in _firing(received, "platform", LAG_ALERT)}
                    queue_bi = {a["queue"] for a in _firing(received, "bi", QUEUE_ALERT)}
                    return (
                        "orders-etl" in lag_de
                        and "billing-sync" in lag_pl
                        and "root.analytics.a1" in queue_bi
                    )

                wait_for(arrived, 120, "the three alerts at their owners' receivers", interval=0.5)
                time.sleep(3)  # several group intervals: anything misrouted would have arrived by now
                firing = get_json(f"{prom_url}/api/v1/alerts")["data"]["alerts"]
        finally:
            stop_producing.set()

    data_eng = _firing(received, "data-engineering", LAG_ALERT)
    platform = _firing(received, "platform", LAG_ALERT)
    bi = _firing(received, "bi", QUEUE_ALERT)
    assert {a["group"] for a in data_eng} == {"orders-etl"}
    assert {(a["team"], a["service"], a["tier"]) for a in data_eng} == {
        ("data-engineering", "orders-pipeline", "high")
    }
    # Platform hears of the unclaimed group only: never of orders-etl.
    assert {a["group"] for a in platform} == {"billing-sync"}
    assert {(a["team"], a["service"]) for a in platform} == {("platform", "kafka-prod")}
    # The recorded failures are in a1, a child of the claimed root.analytics: BI's, not platform's.
    assert {a["queue"] for a in bi} == {"root.analytics.a1"}
    assert {(a["team"], a["service"]) for a in bi} == {("bi", "sales-mart")}
    assert _firing(received, "platform", QUEUE_ALERT) == []
    # No condition fires twice: one alert per group (and per queue) in Prometheus itself.
    lag_groups = [a["labels"]["group"] for a in firing if a["labels"]["alertname"] == LAG_ALERT]
    assert sorted(lag_groups) == sorted(set(lag_groups))
    queues = [a["labels"]["queue"] for a in firing if a["labels"]["alertname"] == QUEUE_ALERT]
    assert queues == ["root.analytics.a1"]
