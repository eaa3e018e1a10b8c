"""`WatchkeeperDriftTriggerFailed` (issue 14): a drift monitor whose retraining was not delivered pages
nobody but tickets its service's team. The generated rule is proven with the real promtool (fires on
`watchkeeper_drift_trigger_failed` 1, silent on 0 and when absent, resolved by the next good run), then
end to end: `watchkeeper drift run` against a real webhook receiver that refuses, pushing into a real
Pushgateway that a real Prometheus scrapes and evaluates the generated rules on."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from catalog import load_catalog
from drift import names as n
from rules.generate import generate_rules
from rules.render import write_rules
from tests.conftest import require_binary, run_cli
from tests.freshness_helpers import pushgateway
from tests.prometheus_stack import get_json, prometheus, wait_for
from tests.test_drift_cli import _data
from tests.test_drift_pushgateway import _group
from tests.test_drift_triggers import receiver

pytestmark = pytest.mark.promtool
ALERT = "WatchkeeperDriftTriggerFailed"


def _catalog(root: Path, churn_hook: str, steady_hook: str) -> Path:
    """churn drifts (age moved by 4 sd, tests/test_drift_cli.py's data); steady compares the reference
    with itself; plain has no retrain: and so no trigger alert."""
    _data(root)
    path = root / "catalog.yaml"
    path.write_text(
        f"""
teams: [{{name: mlops, owners: [ml@example.com]}}, {{name: other, owners: [o@example.com]}}]
services:
  - {{name: churn-serving, team: mlops, tier: high, runbook: "https://runbooks.example.com/churn"}}
  - {{name: steady-serving, team: other, tier: low}}
drift:
  - name: churn
    service: churn-serving
    reference: {{path: ref.parquet}}
    current: {{path: cur.csv}}
    columns: [age, plan]
    retrain: {{webhook: {{url: "{churn_hook}"}}, cooldown: 1h}}
  - name: steady
    service: steady-serving
    reference: {{path: ref.parquet}}
    current: {{path: same.csv}}
    retrain: {{airflow: {{url: "{steady_hook}", dag_id: train_steady}}}}
  - name: plain
    service: steady-serving
    reference: {{path: ref.parquet}}
    current: {{path: same.csv}}
"""
    )
    return path


# Written from the catalog above and the alert's contract (issue 14), not read from the generator.
LABELS = {
    "alertname": ALERT,
    "component": "drift",
    "monitor": "churn",
    "service": "churn-serving",
    "severity": "warning",
    "source": "churn",
    "team": "mlops",
    "tier": "high",
}
ANNOTATIONS = {
    "summary": "The retraining trigger of churn failed",
    "description": "A retraining of churn (a webhook) was not delivered: refused, given up after its "
    "retries, or the trigger database failed. `watchkeeper drift run` prints why; `watchkeeper drift "
    "history churn` shows each attempt's answer. A failed breach releases the cooldown, so the next run "
    "that still finds drift triggers again; the alert clears with the next run that has a verdict.",
    "runbook_url": "https://runbooks.example.com/churn",
    "dashboard_url": "http://grafana:3000/d/wk-component-drift?var-monitor=churn",
}


def _rules(tmp_path: Path, catalog: Path) -> list[dict[str, Any]]:
    result = run_cli("generate", "rules", str(catalog), "--out", str(tmp_path / "rules"))
    assert result.code == 0, result.output
    return [
        rule
        for path in sorted((tmp_path / "rules").glob("components-*.rules.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if rule.get("alert") == ALERT
    ]


def _promtool(tmp_path: Path, series: list[dict[str, str]], checks: list[dict[str, Any]]) -> str:
    spec = {
        "rule_files": [str(p) for p in sorted((tmp_path / "rules").glob("components-*.rules.yml"))],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}],
    }
    path = tmp_path / "trigger_test.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run(
        [require_binary("promtool"), "test", "rules", str(path)], capture_output=True, text=True, check=False
    )
    return "" if done.returncode == 0 else done.stdout + done.stderr


def _pushed(monitor: str, values: str) -> dict[str, str]:
    """The gauge as Prometheus scrapes it from the Pushgateway (`honor_labels`: job and empty instance)."""
    return {
        "series": f'{n.DRIFT_TRIGGER_FAILED}{{job="{n.DRIFT_JOB}",instance="",monitor="{monitor}"}}',
        "values": values,
    }


def test_the_rule_exists_only_for_monitors_with_retrain(tmp_path: Path) -> None:
    rules = _rules(tmp_path, _catalog(tmp_path, "http://127.0.0.1:9/h", "http://127.0.0.1:9"))
    assert sorted(r["labels"]["source"] for r in rules) == ["churn", "steady"]
    churn = next(r for r in rules if r["labels"]["source"] == "churn")
    assert churn["expr"] == f'max by (monitor) ({n.DRIFT_TRIGGER_FAILED}{{monitor="churn"}}) == 1'
    assert "for" not in churn  # the failure is already final (retries exhausted): no need to wait
    steady = next(r for r in rules if r["labels"]["source"] == "steady")
    assert "an Airflow DAG run" in steady["annotations"]["description"]
    assert steady["labels"]["team"] == "other" and steady["labels"]["severity"] == "warning"


def test_promtool_fires_on_1_stays_silent_on_0_and_absent_and_resolves(tmp_path: Path) -> None:
    _rules(tmp_path, _catalog(tmp_path, "http://127.0.0.1:9/h", "http://127.0.0.1:9"))
    fired = [{"exp_labels": LABELS, "exp_annotations": ANNOTATIONS}]

    def check(at: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
        return {"eval_time": at, "alertname": ALERT, "exp_alerts": alerts}

    # churn: 0 (a good run), then 1 from minute 10 (a trigger failed), then 0 again from minute 20 (the
    # next run with a verdict); steady: 0 throughout; plain never pushes the gauge.
    series = [_pushed("churn", "0x9 1x9 0x10"), _pushed("steady", "0x30")]
    checks = [check("5m", []), check("10m", fired), check("19m", fired), check("20m", []), check("25m", [])]
    assert _promtool(tmp_path, series, checks) == ""
    # absent: no gauge at all (a monitor that never ran, or a Pushgateway that lost its groups)
    assert _promtool(tmp_path, [], [check("5m", [])]) == ""
    # the mutation check: the same cases with the expectation reversed must fail
    assert _promtool(tmp_path, [_pushed("churn", "0x30")], [check("5m", fired)]) != ""
    assert _promtool(tmp_path, [_pushed("churn", "1x30")], [check("5m", [])]) != ""


def test_a_refused_trigger_fires_the_alert_in_prometheus_until_a_delivered_one(tmp_path: Path) -> None:
    binary = require_binary("prometheus")
    database = f"sqlite:///{tmp_path / 'wk.db'}"
    # churn's receiver refuses once (400: not retried), then accepts; steady's never gets a request
    with pushgateway(tmp_path) as pgw, receiver([400]) as hook:
        catalog = _catalog(tmp_path, hook.url, "http://127.0.0.1:9")
        args = ("drift", "run", str(catalog), "--database", database, "--pushgateway", pgw)
        failed = run_cli(*args, "churn", "steady", "--format", "json")
        assert failed.code == 3, failed.output
        assert "HTTP 400" in failed.stdout and len(hook.requests) == 1
        assert _group(pgw, "churn")[n.DRIFT_TRIGGER_FAILED] == 1.0
        assert _group(pgw, "steady")[n.DRIFT_TRIGGER_FAILED] == 0.0  # no drift: nothing to trigger

        ruleset = generate_rules(load_catalog(catalog).catalog, with_tests=False)
        rule_files = write_rules(ruleset.files, tmp_path / "rules")
        jobs = [
            {
                "job_name": "pushgateway",
                "honor_labels": True,
                "static_configs": [{"targets": [pgw.removeprefix("http://")]}],
            }
        ]
        with prometheus(binary, list(rule_files), tmp_path, scrape_configs=jobs) as prom:

            def firing() -> list[dict[str, str]]:
                query = quote(f'ALERTS{{alertname="{ALERT}",alertstate="firing"}}')
                return [r["metric"] for r in get_json(f"{prom}/api/v1/query?query={query}")["data"]["result"]]

            alerts = wait_for(firing, 60, f"{ALERT} to fire")
            assert [{k: v for k, v in a.items() if k not in ("__name__", "alertstate")} for a in alerts] == [
                LABELS
            ]
            # the receiver is healthy again: the next run's breach is delivered (the failed one released
            # the cooldown) and its verdict replaces trigger_failed with 0
            delivered = run_cli(*args, "churn")
            assert delivered.code == 1, delivered.output  # drift, retraining delivered
            assert _group(pgw, "churn")[n.DRIFT_TRIGGER_FAILED] == 0.0 and len(hook.requests) == 2
            wait_for(lambda: firing() == [], 60, f"{ALERT} to resolve")
            time.sleep(2)  # a few more evaluations: it stays resolved
            assert firing() == []
