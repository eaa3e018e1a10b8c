"""Sources the exporter does not collect get no component alerts (they would fire forever with a misleading
cause), a warning from `generate rules` naming them, and a warning when the exporter starts.

Every kind the catalog accepts is collected now, so the warnings are proven with a kind taken out of the
collector table (in process), and the real commands are shown to warn about nothing."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from catalog import load_catalog
from rules.components import component_alerts, component_group
from rules.generate import generate_rules
from rules.render import write_rules, write_tests
from rules.unit_tests import component_tests
from tests.conftest import EXAMPLE_CATALOG, require_binary, run_cli
from tests.prometheus_stack import free_port

pytestmark = pytest.mark.promtool

# What the exporter collects today, written out here rather than imported from exporters/sources.py:
# hdfs.py, yarn.py, spark.py, kafka_lag.py, inference.py and freshness.py: every kind of the catalog.
COLLECTED_TODAY = {"hdfs", "yarn", "spark", "kafka", "inference", "freshness"}

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


def test_generate_rules_covers_every_collected_kind_without_warnings(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    (tmp_path / "c.yaml").write_text(CATALOG)
    out, tests = tmp_path / "rules", tmp_path / "tests"
    result = run_cli("generate", "rules", str(tmp_path / "c.yaml"), "--out", str(out), "--tests", str(tests))
    assert result.code == 0, result.output

    alerts = _alerts(out)
    components = {a["labels"]["component"] for a in alerts if "component" in a["labels"]}
    assert components == {"hdfs", "inference", "freshness"}
    absent = [a["labels"]["source"] for a in alerts if a["alert"] == "WatchkeeperSourceAbsent"]
    assert absent == ["prod", "warehouse.orders", "warehouse.refunds", "churn-model"]
    assert "no component alerts" not in result.stderr

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


def test_the_example_has_component_alerts_for_every_collected_kind() -> None:
    catalog = load_catalog(EXAMPLE_CATALOG).catalog
    assert catalog.sources.freshness and catalog.sources.inference  # the example has both
    rules = [
        r
        for name, groups in generate_rules(catalog, with_tests=False).files.items()
        if name.startswith("components-")
        for g in groups
        for r in g.rules
        if r.alert  # components files also record week-ago row counts
    ]
    kinds = {r.labels["component"] for r in rules} - {"drift"}  # drift jobs publish their own metrics
    assert kinds == COLLECTED_TODAY


def test_alerts_of_the_last_kinds_collected_pass_their_promtool_tests(tmp_path: Path) -> None:
    """The freshness and inference alerts, alone (`kinds=`), pass their generated promtool tests."""
    promtool = require_binary("promtool")
    catalog = load_catalog(EXAMPLE_CATALOG).catalog
    every_kind = component_alerts(catalog, "http://grafana:3000", kinds={"freshness", "inference"})
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


def test_a_kind_without_a_collector_is_named_by_both_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    from catalog.model import Catalog
    from exporters import sources
    from rules.components import uncollected_warnings

    catalog = Catalog.model_validate(yaml.safe_load(CATALOG))
    monkeypatch.setattr(
        sources, "COLLECTORS", {k: v for k, v in sources.COLLECTORS.items() if k != "freshness"}
    )
    (rules_warning,) = uncollected_warnings(catalog)
    built, (note,) = sources.build_sources(catalog, only={"hdfs"})
    assert [s.name for s in built] == ["prod"]
    for warning in (rules_warning, note):
        assert "freshness" in warning and "warehouse.orders, warehouse.refunds" in warning
    assert "no component alerts" in rules_warning and "not collected" in note


def test_the_exporter_starts_without_warning_about_any_source(tmp_path: Path) -> None:
    import os

    (tmp_path / "c.yaml").write_text(CATALOG)
    port = free_port()
    exe = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "watchkeeper"
    proc = subprocess.Popen(
        [str(exe), "exporter", str(tmp_path / "c.yaml"), "--listen", f"127.0.0.1:{port}"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "WAREHOUSE_URL": "postgresql://postgres@127.0.0.1:1/test"},
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
    assert not [w for w in warnings if "not collected" in w], stderr
