"""Batch jobs push their freshness to a real Pushgateway; a real Prometheus scrapes it and fires the same
generated freshness alert as for scraped sources.

The Pushgateway adds `job` (and an empty `instance`) to what is pushed. Prometheus scrapes it twice here:
with `honor_labels: true` (the pushed job kept) and without (renamed `exported_job`, and `instance` set to
the Pushgateway's address). The alerts aggregate `by (dataset)`, so neither splits or renames an alert.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from exporters import names as m
from exporters.freshness import FreshnessCollector
from rules.generate import generate_rules
from rules.groups import Rule, RuleGroup
from rules.render import write_rules
from tests.conftest import require_binary, run_cli
from tests.freshness_helpers import entry, errors, pushgateway, running_exporter, samples, scrape, up
from tests.prometheus_stack import get_json, prometheus, wait_for

pytestmark = pytest.mark.promtool


def _get_text(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def test_push_freshness_and_read_it_back(tmp_path: Path) -> None:
    t = int(time.time()) - 5400  # the job's newest data is 90 minutes old
    with pushgateway(tmp_path) as url:
        result = run_cli(
            "push", "freshness", "lake.rollup", "--pushgateway", url, "--timestamp", str(t), "--rows", "1234"
        )
        assert result.code == 0, result.output
        assert "/metrics/job/watchkeeper_batch/dataset/lake.rollup" in result.stdout
        pushed = samples(_get_text(f"{url}/metrics"))
        key = frozenset({"dataset": "lake.rollup", "job": "watchkeeper_batch", "instance": ""}.items())
        assert pushed[(m.FRESHNESS_TIMESTAMP_SECONDS, key)] == t
        assert pushed[(m.FRESHNESS_ROWS, key)] == 1234

        # ISO 8601 with a zone is the same instant; a later push replaces the group
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t + 60))
        assert run_cli("push", "freshness", "lake.rollup", "--pushgateway", url, "--timestamp", iso).code == 0

        pushed_source = FreshnessCollector(entry("lake.rollup", push={"pushgateway": url}))
        never_pushed = FreshnessCollector(entry("lake.never", push={"pushgateway": url}))
        other_job = FreshnessCollector(entry("lake.rollup", push={"pushgateway": url, "job": "other_job"}))
        before = time.time()
        found = scrape(pushed_source, never_pushed)
        assert up(found, "lake.rollup") == 1
        assert found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset="lake.rollup") == t + 60
        age = found.value(m.FRESHNESS_AGE_SECONDS, dataset="lake.rollup")
        assert age is not None and before - (t + 60) - 1 <= age <= time.time() - (t + 60) + 1
        assert found.value(m.FRESHNESS_ROWS, dataset="lake.rollup") is None  # the second push had no --rows
        assert up(found, "lake.never") == 0 and errors(found, "lake.never") == {"not_found": 1}
        assert errors(scrape(other_job), "lake.rollup") == {"not_found": 1}
    gone = scrape(FreshnessCollector(entry("lake.rollup", push={"pushgateway": url})))
    assert errors(gone, "lake.rollup") == {"connection": 1}


def test_push_errors_are_clear(tmp_path: Path) -> None:
    result = run_cli("push", "freshness", "lake.rollup", "--pushgateway", "http://127.0.0.1:1")
    assert result.code == 3
    assert "cannot reach the Pushgateway at http://127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.output
    assert run_cli("push", "freshness", "d").code == 2  # no Pushgateway anywhere
    bad = run_cli(
        "push", "freshness", "d", "--pushgateway", "http://x:9091", "--timestamp", "2024-05-01T06:00:00"
    )
    assert bad.code == 2 and "no time zone" in bad.stderr
    catalog = tmp_path / "c.yaml"
    catalog.write_text(
        "teams: [{name: t, owners: [a@example.com]}]\nservices: [{name: s, team: t}]\n"
        "sources: {freshness: [{dataset: known, service: s, max_age: 1h, file: {path: /x}}]}\n"
    )
    missing = run_cli(
        "push", "freshness", "unknown", "--catalog", str(catalog), "--pushgateway", "http://x:9091"
    )
    assert missing.code == 2 and "datasets: known" in missing.stderr


def _at_once(rule: Rule) -> Rule:
    return replace(rule, for_=None) if rule.alert == "WatchkeeperDatasetStale" else rule


CATALOG = """
teams: [{{name: data, owners: [data@example.com]}}]
services: [{{name: batch, team: data, tier: high}}]
sources:
  freshness:
    - dataset: batch.stale
      service: batch
      max_age: 1h
      push: {{pushgateway: "{pgw}"}}
    - dataset: batch.fresh
      service: batch
      max_age: 1h
      push: {{pushgateway: "{pgw}"}}
    - dataset: files.stale
      service: batch
      max_age: 1h
      file: {{path: "{marker}"}}
"""


def test_prometheus_fires_the_generated_stale_alert_for_pushed_and_scraped_freshness(tmp_path: Path) -> None:
    import os

    binary = require_binary("prometheus")
    now = int(time.time())
    marker = tmp_path / "_SUCCESS"
    marker.touch()
    os.utime(marker, (now - 3 * 3600, now - 3 * 3600))  # the scraped dataset: 3h old
    with pushgateway(tmp_path) as pgw:
        catalog = tmp_path / "catalog.yaml"
        catalog.write_text(CATALOG.format(pgw=pgw, marker=marker))
        from catalog import load_catalog

        ruleset = generate_rules(load_catalog(catalog).catalog, with_tests=False)
        # The generated rules as they are, but for the stale alert's `for: 5m` (promtool tests prove `for`):
        # here it fires on the first evaluation, so the test takes seconds.
        files = {
            name: [RuleGroup(g.name, [_at_once(r) for r in g.rules], g.interval) for g in groups]
            for name, groups in ruleset.files.items()
        }
        rule_files = write_rules(files, tmp_path / "rules")
        assert (
            run_cli(
                "push", "freshness", "batch.stale", "--catalog", str(catalog), "--timestamp", str(now - 7200)
            ).code
            == 0
        )
        assert run_cli("push", "freshness", "batch.fresh", "--catalog", str(catalog)).code == 0
        with running_exporter(catalog, tmp_path / "exporter.log") as exporter:
            target = f"127.0.0.1:{exporter.port}"
            pgw_target = pgw.removeprefix("http://")
            jobs: list[dict[str, Any]] = [
                {"job_name": "watchkeeper-exporter", "static_configs": [{"targets": [target]}]},
                {
                    "job_name": "pushgateway",
                    "honor_labels": True,
                    "static_configs": [{"targets": [pgw_target]}],
                },
                {"job_name": "pushgateway-plain", "static_configs": [{"targets": [pgw_target]}]},
            ]
            with prometheus(binary, list(rule_files), tmp_path, scrape_configs=jobs) as prom:

                def firing() -> list[dict[str, str]]:
                    query = quote('ALERTS{alertname="WatchkeeperDatasetStale",alertstate="firing"}')
                    result = get_json(f"{prom}/api/v1/query?query={query}")["data"]["result"]
                    found = [r["metric"] for r in result]
                    return found if len(found) >= 2 else []

                alerts = wait_for(firing, 60, "the stale alerts to fire")
                time.sleep(3)  # a few more evaluations: nothing else may fire
                alerts = firing()
                selector = quote(m.FRESHNESS_TIMESTAMP_SECONDS + '{dataset="batch.stale"}')
                pushed = get_json(f"{prom}/api/v1/query?query={selector}")["data"]["result"]
    assert sorted(a["dataset"] for a in alerts) == ["batch.stale", "files.stale"]  # one alert each
    for alert in alerts:
        assert {"job", "instance", "exported_job", "exported_instance"}.isdisjoint(alert)
        assert alert["team"] == "data" and alert["service"] == "batch" and alert["severity"] == "critical"
    # the same pushed time, three ways: kept job (honor_labels), exported_job (plain), and the exporter's copy
    jobs_seen = sorted((s["metric"].get("job", ""), s["metric"].get("exported_job", "")) for s in pushed)
    assert jobs_seen == [
        ("pushgateway-plain", "watchkeeper_batch"),
        ("watchkeeper-exporter", ""),
        ("watchkeeper_batch", ""),
    ]
    assert {float(s["value"][1]) for s in pushed} == {now - 7200}
