"""The drift alerts' cases the generated tests do not cover, checked with the real promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from drift import names as drift_names
from tests.conftest import EXAMPLE_CATALOG, require_binary, run_cli

pytestmark = pytest.mark.promtool

# From examples/catalog/mlops.yaml: monitor churn-features of service churn-serving (team mlops, tier critical).
LABELS = {
    "alertname": "WatchkeeperDriftJobStale",
    "component": "drift",
    "service": "churn-serving",
    "severity": "warning",
    "source": "churn-features",
    "team": "mlops",
    "tier": "critical",
    "monitor": "churn-features",
}
ANNOTATIONS = {
    "summary": "The drift job churn-features has not produced a verdict",
    "description": "The drift job churn-features has produced no verdict for longer than the alert's limit "
    "(schedule 6h), or never has.",
    "runbook_url": "https://runbooks.example.com/churn-serving",
    "dashboard_url": "http://grafana:3000/d/wk-component-drift?var-monitor=churn-features",
}


def _promtool(tmp_path: Path, tests: list[dict[str, object]]) -> subprocess.CompletedProcess[str]:
    promtool = require_binary("promtool")
    out = tmp_path / "rules"
    result = run_cli("generate", "rules", str(EXAMPLE_CATALOG), "--out", str(out))
    assert result.code == 0, result.output
    spec = {
        "rule_files": [str(out / "components-mlops.rules.yml")],
        "evaluation_interval": "1m",
        "tests": tests,
    }
    path = tmp_path / "drift_test.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False)


def test_a_monitor_that_never_produced_a_verdict_is_stale(tmp_path: Path) -> None:
    # No last-run sample at all for churn-features: the absent arm fires, after the alert's 15m `for:`.
    other = drift_names.DRIFT_LAST_RUN_TIMESTAMP + '{monitor="fraud-features"}'
    never = {
        "interval": "1m",
        "input_series": [{"series": other, "values": "0+60x30"}],
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": "WatchkeeperDriftJobStale", "exp_alerts": []},
            {
                "eval_time": "20m",
                "alertname": "WatchkeeperDriftJobStale",
                "exp_alerts": [{"exp_labels": LABELS, "exp_annotations": ANNOTATIONS}],
            },
        ],
    }
    result = _promtool(tmp_path, [never])
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_monitor_with_a_fresh_verdict_is_not_stale(tmp_path: Path) -> None:
    # A verdict every minute for 30 minutes: neither arm may fire (the mutation check for the test above).
    series = [
        {"series": drift_names.DRIFT_LAST_RUN_TIMESTAMP + f'{{monitor="{monitor}"}}', "values": "0+60x30"}
        for monitor in ("churn-features", "fraud-features")
    ]
    case = {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [{"eval_time": "25m", "alertname": "WatchkeeperDriftJobStale", "exp_alerts": []}],
    }
    result = _promtool(tmp_path, [case])
    assert result.returncode == 0, result.stdout + result.stderr
