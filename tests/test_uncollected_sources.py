"""Sources the exporter does not collect yet get no component alerts (they would fire forever with a
misleading cause), a warning from `generate rules` naming them, and a warning when the exporter starts."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from catalog import load_catalog
from rules.component_alerts import component_alerts, component_group
from rules.generate import generate_rules
from rules.render import write_rules, write_tests
from rules.slo_alerts import dashboard_uid
from rules.unit_tests import component_tests
from tests.conftest import EXAMPLE_CATALOG, require_binary, run_cli
from tests.prometheus_stack import free_port

pytestmark = pytest.mark.promtool

# What the exporter collects today, written out here rather than imported from exporters/sources.py:
# exporters/ has collectors for these four kinds only (hdfs.py, yarn.py, spark.py, kafka_lag.py).
COLLECTED_TODAY = {"hdfs", "yarn", "spark", "kafka"}

CATALOG = """
teams: [{name: data, owners: [data@example.com], channels: {webhook: {url: "http://hook/"}}}]
services:
  - {name: warehouse, team: data, tier: critical}
  - {name: churn, team: data, tier: high}
sources:
  hdfs: [{name: prod, service: warehouse, namenodes: ["http://127.0.0.1:1"]}]
  freshness:
    - dataset: warehouse.orders
      service: warehouse
      max_age: 2h
      sql: {url_env: WAREHOUSE_URL, query: "select max(updated_at) from orders"}
    - dataset: warehouse.refunds
      service: warehouse
      max_age: 1d
      file: {path: /data/refunds}
  inference:
    - {name: churn-model, service: churn, url: "http://127.0.0.1:1/v1/predict"}
"""


def _alerts(rules_dir: Path) -> list[dict]:
    out = []
    for path in sorted(rules_dir.glob("*.rules.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            out += [r for r in group["rules"] if "alert" in r]
    return out


def test_generate_rules_skips_uncollected_sources_and_names_them(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    (tmp_path / "c.yaml").write_text(CATALOG)
    out, tests = tmp_path / "rules", tmp_path / "tests"
    result = run_cli("generate", "rules", str(tmp_path / "c.yaml"), "--out", str(out), "--tests", str(tests))
    assert result.code == 0, result.output

    alerts = _alerts(out)
    components = {a["labels"]["component"] for a in alerts if "component" in a["labels"]}
    assert components == {"hdfs"}
    absent = [a["labels"]["source"] for a in alerts if a["alert"] == "WatchkeeperSourceAbsent"]
    assert absent == ["prod"]
    warning = next(line for line in result.stderr.splitlines() if "warehouse.orders" in line)
    assert warning.startswith("warning:")
    for name in ("freshness", "warehouse.orders", "warehouse.refunds"):
        assert name in warning
    inference = next(line for line in result.stderr.splitlines() if "churn-model" in line)
    assert inference.startswith("warning:") and "inference" in inference
    assert "no component alerts" in warning and "no component alerts" in inference

    check = subprocess.run(
        [promtool, "check", "rules", *map(str, sorted(out.glob("*.yml")))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    for path in sorted(tests.glob("*.test.yml")):
        run = subprocess.run(
            [promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, f"{path.name}: {run.stdout}{run.stderr}"


def test_the_example_has_no_component_alerts_for_uncollected_kinds() -> None:
    catalog = load_catalog(EXAMPLE_CATALOG).catalog
    assert catalog.sources.freshness and catalog.sources.inference  # the example has both
    rules = [
        r
        for name, groups in generate_rules(catalog, with_tests=False).files.items()
        if name.startswith("components-")
        for g in groups
        for r in g.rules
    ]
    kinds = {r.labels["component"] for r in rules} - {"drift"}  # drift jobs publish their own metrics
    assert kinds == COLLECTED_TODAY


def test_alerts_of_kinds_not_collected_yet_still_pass_their_promtool_tests(tmp_path: Path) -> None:
    """The freshness and inference alerts are kept, tested, for the day their collectors land."""
    promtool = require_binary("promtool")
    catalog = load_catalog(EXAMPLE_CATALOG).catalog
    every_kind = component_alerts(
        catalog, "http://grafana:3000", dashboard_uid, kinds={"freshness", "inference"}
    )
    assert every_kind, "the example has freshness and inference sources"
    files = {f"components-{team}.rules.yml": alerts for team, alerts in every_kind.items()}
    groups = {name: [component_group(name, alerts)] for name, alerts in files.items()}
    kinds = {a.rule.labels["component"] for alerts in files.values() for a in alerts}
    assert kinds == {"freshness", "inference", "drift"}  # drift is not an exporter source: always there
    write_rules(groups, tmp_path / "rules")
    written = write_tests(
        {name: component_tests(alerts) for name, alerts in files.items()},
        groups,
        tmp_path / "rules",
        tmp_path,
    )
    for path in written:
        run = subprocess.run(
            [promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, f"{path.name}: {run.stdout}{run.stderr}"


def test_the_exporter_warns_at_start_up_about_sources_it_cannot_collect(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CATALOG)
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
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, "exporter exited"
                assert time.monotonic() < deadline, "exporter did not start"
                time.sleep(0.1)
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    warnings = [line for line in stderr.splitlines() if "level=warning" in line]
    freshness = next((w for w in warnings if "warehouse.orders" in w), None)
    assert freshness is not None, stderr
    assert "warehouse.refunds" in freshness and "freshness" in freshness
    inference = next((w for w in warnings if "churn-model" in w), None)
    assert inference is not None, stderr
