"""The drift runs' Pushgateway path end to end: `watchkeeper drift run --pushgateway` pushes into a real
Pushgateway, a real Prometheus scrapes it (`honor_labels: true`) and evaluates the generated
`drift_detected` and `drift_stale` alerts (their `for:` dropped so the test takes seconds; promtool tests
prove `for`). A run with bad input adds only `run_failed` and its attempt time: the last good verdict and
its (old) time stay, so the stale alert fires instead of anything looking healthy."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest

from catalog import load_catalog
from drift import names as n
from drift.publish import push, verdict_samples
from drift.result import ColumnDrift, DriftResult
from rules.generate import generate_rules
from rules.groups import Rule, RuleGroup
from rules.render import write_rules
from tests.conftest import require_binary, run_cli
from tests.freshness_helpers import pushgateway
from tests.prometheus_stack import get_json, prometheus, wait_for

pytestmark = pytest.mark.promtool
N = 400
ALERTS = {"WatchkeeperDataDrift", "WatchkeeperDriftJobStale"}
CATALOG = """
teams: [{name: mlops, owners: [ml@example.com]}]
services: [{name: churn-serving, team: mlops, tier: high}]
drift:
  - {name: drifting, service: churn-serving, reference: {path: ref.parquet}, current: {path: shifted.parquet}}
  - {name: stable, service: churn-serving, reference: {path: ref.parquet}, current: {path: same.parquet}}
  - {name: broken, service: churn-serving, reference: {path: ref.parquet}, current: {path: gone.parquet}}
"""


def _data(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"age": rng.normal(40, 5, N), "plan": rng.choice(["a", "b"], N)})
    ref.to_parquet(tmp_path / "ref.parquet")
    # shifted: the mean of age moves by 3 standard deviations and plan becomes all "b": both drift
    pd.DataFrame({"age": rng.normal(55, 5, N), "plan": ["b"] * N}).to_parquet(tmp_path / "shifted.parquet")
    pd.DataFrame({"age": rng.normal(40, 5, N), "plan": rng.choice(["a", "b"], N)}).to_parquet(
        tmp_path / "same.parquet"
    )


def _group(gateway: str, monitor: str) -> dict[str, float]:
    """The pushed values of a monitor's group: {metric{labels}: value} as the Pushgateway reports them."""
    out: dict[str, float] = {}
    for group in get_json(f"{gateway}/api/v1/metrics")["data"]:
        if group["labels"].get("monitor") != monitor or group["labels"].get("job") != n.DRIFT_JOB:
            continue
        for name, family in group.items():
            if not isinstance(family, dict) or "metrics" not in family:
                continue
            for sample in family["metrics"]:
                extra = {k: v for k, v in sample["labels"].items() if k not in ("job", "monitor", "instance")}
                key = name + "".join(f"{{{k}={v}}}" for k, v in sorted(extra.items()))
                out[key] = float(sample["value"])
    return out


def _at_once(rule: Rule) -> Rule:
    return replace(rule, for_=None) if rule.alert in ALERTS else rule


def test_pushed_runs_fire_the_generated_drift_alerts(tmp_path: Path) -> None:
    binary = require_binary("prometheus")
    _data(tmp_path)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    now = time.time()
    with pushgateway(tmp_path) as pgw:
        # "broken" ran well four hours ago (3 x its 1h schedule is the stale limit) ...
        old = DriftResult("fast", [ColumnDrift("age", "num", "ks", 0.4, 0.05, False)], 0.5, N, N)
        push(pgw, verdict_samples("broken", old, now - 4 * 3600, 1.5), replace=True)
        result = run_cli("drift", "run", str(catalog), "--pushgateway", pgw, "--format", "json")
        assert result.code == 3, result.output  # "broken" has no verdict
        assert "gone.parquet does not exist" in result.stdout

        drifting, stable, broken = (_group(pgw, m) for m in ("drifting", "stable", "broken"))
        assert drifting[n.DRIFT_DETECTED] == 1.0 and drifting[n.DRIFT_SHARE] == 1.0
        assert drifting[f"{n.DRIFT_COLUMN_DRIFTED}{{column=age}}{{stattest=ks}}"] == 1.0
        assert drifting[f"{n.DRIFT_ROWS}{{dataset=current}}"] == N
        assert drifting[n.DRIFT_RUN_FAILED] == 0.0
        assert abs(drifting[n.DRIFT_LAST_RUN_TIMESTAMP] - now) < 120
        assert drifting[n.DRIFT_RUN_DURATION] > 0
        assert stable[n.DRIFT_DETECTED] == 0.0
        # ... and now failed: run_failed 1, the old verdict and its old time kept, nothing new and healthy
        assert broken[n.DRIFT_RUN_FAILED] == 1.0
        assert broken[n.DRIFT_LAST_RUN_TIMESTAMP] == pytest.approx(now - 4 * 3600, abs=1e-3)
        assert broken[n.DRIFT_LAST_ATTEMPT_TIMESTAMP] > now - 1
        assert broken[n.DRIFT_DETECTED] == 0.0  # from the run four hours ago, not refreshed

        ruleset = generate_rules(load_catalog(catalog).catalog, with_tests=False)
        files = {
            name: [RuleGroup(g.name, [_at_once(r) for r in g.rules], g.interval) for g in groups]
            for name, groups in ruleset.files.items()
        }
        rule_files = write_rules(files, tmp_path / "rules")
        jobs: list[dict[str, Any]] = [
            {
                "job_name": "pushgateway",
                "honor_labels": True,
                "static_configs": [{"targets": [pgw.removeprefix("http://")]}],
            }
        ]
        with prometheus(binary, list(rule_files), tmp_path, scrape_configs=jobs) as prom:

            def firing() -> list[tuple[str, str]]:
                query = quote('ALERTS{alertstate="firing"}')
                result = get_json(f"{prom}/api/v1/query?query={query}")["data"]["result"]
                found = sorted(
                    (r["metric"]["alertname"], r["metric"]["monitor"])
                    for r in result
                    if r["metric"]["alertname"] in ALERTS
                )
                return found

            # Until the first scrape of the Pushgateway every monitor has no verdict at all, so the stale
            # alert's never-ran arm fires for all three (its `for:` is dropped here): wait for the scrape.
            expected = [("WatchkeeperDataDrift", "drifting"), ("WatchkeeperDriftJobStale", "broken")]
            wait_for(lambda: firing() == expected, 90, "the drift alerts to fire")
            time.sleep(3)  # a few more evaluations: nothing else may fire
            alerts = firing()
    assert alerts == expected
