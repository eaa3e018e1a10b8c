"""The generated freshness rules under the real promtool: the volume-drop alert over a real week of samples
(`offset 1w`), and pushed timestamps read exactly like the exporter's age by the stale alert and the SLI.

Expected alerts, labels and descriptions are written out by hand from the catalog below.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog import load_catalog
from rules.generate import generate_rules
from rules.groups import RuleGroup
from rules.render import write_rules
from tests.conftest import require_binary

pytestmark = pytest.mark.promtool

CATALOG = """
teams: [{name: data, owners: [data@example.com]}]
services: [{name: warehouse, team: data, tier: high}]
sources:
  freshness:
    - {dataset: orders, service: warehouse, max_age: 1h, sql: {url_env: X, query: q, count_query: c}}
    - dataset: strict
      service: warehouse
      max_age: 1h
      sql: {url_env: X, query: q, count_query: c}
      alerts: {volume_drop: {threshold: 0.2}}
    - {dataset: pushed, service: warehouse, max_age: 1h, push: {pushgateway: "http://pgw:9091"}}
slos:
  - name: pushed-fresh
    service: warehouse
    objective: 99
    sli: {freshness: {dataset: pushed, max_age: 1h}}
"""
WEEK = 7 * 24 * 60  # one-minute samples in a week
PUSHED = '{dataset="pushed", instance="", job="watchkeeper_batch"}'


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[RuleGroup]]]:
    tmp = tmp_path_factory.mktemp("freshness-rules")
    (tmp / "catalog.yaml").write_text(CATALOG)
    ruleset = generate_rules(load_catalog(tmp / "catalog.yaml").catalog, with_tests=False)
    return tmp, ruleset.files


def _only(files: dict[str, list[RuleGroup]], name: str, alert: str) -> list[RuleGroup]:
    """The components file's recording groups and just `alert`: a week of evaluations stays cheap."""
    out = []
    for group in files[name]:
        rules = [r for r in group.rules if r.record or r.alert == alert]
        out.append(RuleGroup(group.name, rules, group.interval))
    return out


def _promtool(tmp: Path, rule_file: str, tests: list[dict[str, Any]], order: list[str]) -> None:
    path = tmp / f"{rule_file}.test.yml"
    doc = {"rule_files": [rule_file], "evaluation_interval": "1m", "group_eval_order": order, "tests": tests}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    run = subprocess.run(
        [require_binary("promtool"), "test", "rules", path.name],
        cwd=tmp,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def _labels(dataset: str, severity: str) -> dict[str, str]:
    return {
        "alertname_unused": "",
        "component": "freshness",
        "dataset": dataset,
        "service": "warehouse",
        "severity": severity,
        "source": dataset,
        "team": "data",
        "tier": "high",
    }


def _expected(rule: dict[str, Any], labels: dict[str, str], summary: str, description: str) -> dict[str, Any]:
    """By hand, but for the links (runbook and dashboard URLs), which other tests cover."""
    labels = {k: v for k, v in labels.items() if k != "alertname_unused"}
    links = {k: rule["annotations"][k] for k in ("runbook_url", "dashboard_url")}
    return {
        "exp_labels": labels,
        "exp_annotations": {**links, "summary": summary, "description": description},
    }


def test_volume_drop_over_a_real_week(generated: tuple[Path, dict[str, list[RuleGroup]]]) -> None:
    tmp, files = generated
    groups = _only(files, "components-data.rules.yml", "WatchkeeperDatasetVolumeDrop")
    write_rules({"volume.rules.yml": groups}, tmp)
    alerts = [
        r
        for g in yaml.safe_load((tmp / "volume.rules.yml").read_text())["groups"]
        for r in g["rules"]
        if "alert" in r
    ]
    # each dataset's alert links to its own dataset on the component dashboard
    orders_rule = next(r for r in alerts if r["labels"]["source"] == "orders")
    pushed_rule = next(r for r in alerts if r["labels"]["source"] == "pushed")
    tail = "rows, under the alert's share of the rows it had at the same hour one week earlier."
    drop, fewer = "Dataset", "loaded far fewer rows than a week ago"
    firing = {
        "name": "a week of 1000 rows an hour, then a drop",
        "interval": "1m",
        "input_series": [
            # 250 < 0.5 x 1000: fires
            {"series": 'watchkeeper_freshness_rows{dataset="orders"}', "values": f"1000x{WEEK} 250x60"},
            # 250 >= 0.2 x 1000 (the override): silent
            {"series": 'watchkeeper_freshness_rows{dataset="strict"}', "values": f"1000x{WEEK} 250x60"},
            # pushed counts carry the Pushgateway's job label, which the alert aggregates away: fires
            {"series": f"watchkeeper_freshness_rows{PUSHED}", "values": f"1000x{WEEK} 150x60"},
        ],
        "alert_rule_test": [
            # the drop starts at 1w+1m; `for: 30m` has passed at 1w+40m, and the count a week earlier was 1000
            {
                "eval_time": "7d40m",
                "alertname": "WatchkeeperDatasetVolumeDrop",
                "exp_alerts": [
                    _expected(
                        orders_rule,
                        _labels("orders", "warning"),
                        f"{drop} orders {fewer}",
                        f"orders reports 250 {tail}",
                    ),
                    _expected(
                        pushed_rule,
                        _labels("pushed", "warning"),
                        f"{drop} pushed {fewer}",
                        f"pushed reports 150 {tail}",
                    ),
                ],
            },
            # 20 minutes into the drop: pending, not yet firing
            {"eval_time": "7d21m", "alertname": "WatchkeeperDatasetVolumeDrop", "exp_alerts": []},
        ],
    }
    steady = {
        "name": "the same volume as a week earlier",
        "interval": "1m",
        "input_series": [
            {"series": f'watchkeeper_freshness_rows{{dataset="{d}"}}', "values": f"1000x{WEEK + 60}"}
            for d in ("orders", "strict")
        ],
        "alert_rule_test": [
            {"eval_time": "7d40m", "alertname": "WatchkeeperDatasetVolumeDrop", "exp_alerts": []}
        ],
    }
    _promtool(tmp, "volume.rules.yml", [firing, steady], [g.name for g in groups])


def test_a_pushed_timestamp_is_as_stale_as_a_scraped_age(
    generated: tuple[Path, dict[str, list[RuleGroup]]],
) -> None:
    tmp, files = generated
    groups = _only(files, "components-data.rules.yml", "WatchkeeperDatasetStale")
    write_rules({"stale.rules.yml": groups}, tmp)
    rules = [
        r
        for g in yaml.safe_load((tmp / "stale.rules.yml").read_text())["groups"]
        for r in g["rules"]
        if "alert" in r
    ]
    pushed_rule = next(r for r in rules if r["labels"]["source"] == "pushed")
    orders_rule = next(r for r in rules if r["labels"]["source"] == "orders")
    tests = [
        {
            "name": "pushed two hours before time 0, and an exporter age of 2h",
            "interval": "1m",
            "input_series": [
                # at 10m, time() - (-7200) = 7800 s = 2h 10m: over the 1h limit
                {"series": f"watchkeeper_freshness_timestamp_seconds{PUSHED}", "values": "-7200x20"},
                # the exporter's copy of the same push (younger, as read at its scrape): one alert, the max
                {
                    "series": 'watchkeeper_freshness_age_seconds{dataset="pushed", job="watchkeeper-exporter"}',
                    "values": "3700x20",
                },
                {"series": 'watchkeeper_freshness_age_seconds{dataset="orders"}', "values": "7200x20"},
            ],
            "alert_rule_test": [
                {
                    "eval_time": "10m",
                    "alertname": "WatchkeeperDatasetStale",
                    "exp_alerts": [
                        _expected(
                            pushed_rule,
                            _labels("pushed", "critical"),
                            "Dataset pushed is stale",
                            "The newest data in pushed is 2h 10m 0s old (limit 1h).",
                        ),
                        _expected(
                            orders_rule,
                            _labels("orders", "critical"),
                            "Dataset orders is stale",
                            "The newest data in orders is 2h 0m 0s old (limit 1h).",
                        ),
                    ],
                }
            ],
        },
        {
            "name": "a job pushing every minute stays fresh",
            "interval": "1m",
            "input_series": [
                {"series": f"watchkeeper_freshness_timestamp_seconds{PUSHED}", "values": "0+60x20"}
            ],
            "alert_rule_test": [
                {"eval_time": "10m", "alertname": "WatchkeeperDatasetStale", "exp_alerts": []}
            ],
        },
    ]
    _promtool(tmp, "stale.rules.yml", tests, [g.name for g in groups])


def test_the_freshness_sli_reads_a_pushed_timestamp(
    generated: tuple[Path, dict[str, list[RuleGroup]]],
) -> None:
    tmp, files = generated
    write_rules({"slo.rules.yml": files["slo-data.rules.yml"]}, tmp)
    errors = 'sum(slo:sli_errors:rate5m{slo="pushed-fresh"})'
    total = 'sum(slo:sli_total:rate5m{slo="pushed-fresh"})'
    tests = [
        {
            "name": f"pushed {pushed}",
            "interval": "1m",
            "input_series": [
                {"series": f"watchkeeper_freshness_timestamp_seconds{PUSHED}", "values": values}
            ],
            "promql_expr_test": [
                {"expr": errors, "eval_time": "10m", "exp_samples": [{"labels": "{}", "value": bad}]},
                {"expr": total, "eval_time": "10m", "exp_samples": [{"labels": "{}", "value": 1}]},
            ],
        }
        for pushed, values, bad in (
            ("2h before time 0: bad", "-7200x20", 1),
            ("every minute: good", "0+60x20", 0),
        )
    ]
    _promtool(tmp, "slo.rules.yml", tests, [g.name for g in files["slo-data.rules.yml"]])
