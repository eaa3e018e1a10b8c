"""End to end on the real Prometheus and Alertmanager: generated rules load and evaluate cleanly, and a
synthetic SLO breach pages the owning team's webhook (and only that team's)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from catalog import load_catalog
from rules.alertmanager import RoutingOptions, alertmanager_yaml
from rules.generate import generate_rules
from rules.names import SLO_BURN_ALERT
from rules.render import write_rules
from tests.conftest import EXAMPLE_CATALOG, require_binary
from tests.prometheus_stack import alertmanager, get_json, prometheus, recorder, wait_for

pytestmark = pytest.mark.promtool


def _rule_health(url: str, expected_groups: int) -> list[dict]:
    groups = get_json(f"{url}/api/v1/rules")["data"]["groups"]
    evaluated = [g for g in groups if g["lastEvaluation"] > "2000"]
    return groups if len(groups) == expected_groups and len(evaluated) == expected_groups else []


def test_example_rules_load_and_evaluate_without_errors(tmp_path: Path) -> None:
    binary = require_binary("prometheus")
    ruleset = generate_rules(load_catalog(EXAMPLE_CATALOG).catalog)
    files = write_rules(ruleset.files, tmp_path / "rules")
    expected = sum(len(groups) for groups in ruleset.files.values())
    with prometheus(binary, files, tmp_path) as url:
        groups = wait_for(lambda: _rule_health(url, expected), 30, "every rule group to be evaluated")
        # Two more rounds, so chained recordings read each other's output.
        time.sleep(2.5)
        groups = get_json(f"{url}/api/v1/rules")["data"]["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert len(rules) == sum(len(g.rules) for gs in ruleset.files.values() for g in gs)
    broken = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert broken == []


E2E_CATALOG = """
teams:
  - name: payments
    owners: [payments@example.com]
    channels: {webhook: {url: "HOOK/team/payments"}}
  - name: search
    owners: [search@example.com]
    channels: {webhook: {url: "HOOK/team/search"}}
services:
  - {name: pay-api, team: payments, tier: critical}
  - {name: search-api, team: search, tier: critical}
slos:
  - name: pay-availability
    service: pay-api
    objective: 99.9
    sli:
      events:
        errors: sum(rate(e2e_requests_total{service="pay",code="500"}[{{window}}]))
        total: sum(rate(e2e_requests_total{service="pay"}[{{window}}]))
    alerting:
      page: {for: 1m}     # the generated default is 2m; 1m is the shortest the catalog takes (whole minutes)
  - name: search-availability
    service: search-api
    objective: 99.9
    sli:
      events:
        errors: sum(rate(e2e_requests_total{service="search",code="500"}[{{window}}]))
        total: sum(rate(e2e_requests_total{service="search"}[{{window}}]))
    alerting:
      page: {for: 1m}
"""


def test_a_breach_fires_the_slo_alert_and_pages_the_owning_team(tmp_path: Path) -> None:
    prom_bin = require_binary("prometheus")
    am_bin = require_binary("prometheus-alertmanager")
    start = time.time()

    def metrics() -> str:
        # 100 req/s to each service; pay-api fails 20% of them (200x its 0.1% budget), search-api none.
        n = int((time.time() - start) * 100)
        return (
            "# TYPE e2e_requests_total counter\n"
            f'e2e_requests_total{{service="pay",code="200"}} {n * 0.8}\n'
            f'e2e_requests_total{{service="pay",code="500"}} {n * 0.2}\n'
            f'e2e_requests_total{{service="search",code="200"}} {n}\n'
            f'e2e_requests_total{{service="search",code="500"}} 0\n'
        )

    with recorder(metrics) as (hook, received):
        (tmp_path / "c.yaml").write_text(E2E_CATALOG.replace("HOOK", hook))
        catalog = load_catalog(tmp_path / "c.yaml").catalog
        files = write_rules(generate_rules(catalog).files, tmp_path / "rules")
        api_token = tmp_path / "api-token"  # the ledger webhook sends the API token from a file, as deployed
        api_token.write_text("test-token\n")
        routing = alertmanager_yaml(
            catalog, RoutingOptions(watchkeeper_url=hook, group_wait="1s", api_token_file=str(api_token))
        )
        with (
            alertmanager(am_bin, routing, tmp_path) as am_url,
            prometheus(prom_bin, files, tmp_path, [hook.removeprefix("http://")], am_url) as prom_url,
        ):

            def paged() -> list[dict]:
                return [
                    alert
                    for body in received.received("/team/payments")
                    for alert in body["alerts"]
                    if alert["labels"]["alertname"] == SLO_BURN_ALERT and alert["status"] == "firing"
                ]

            alerts = wait_for(paged, 180, "the page to reach the payments webhook", interval=0.5)
            firing = get_json(f"{prom_url}/api/v1/alerts")["data"]["alerts"]
            rules = get_json(f"{prom_url}/api/v1/rules")["data"]["groups"]

    labels = alerts[0]["labels"]
    assert labels["severity"] == "critical"
    assert labels["team"] == "payments"
    assert labels["service"] == "pay-api"
    assert labels["slo"] == "pay-availability"
    assert labels["burn"] == "page"
    assert alerts[0]["annotations"]["runbook_url"].startswith("http://grafana:3000/d/wk-slo-pay-api")
    # The healthy team is not paged, and the SLA ledger got a copy of the page.
    burn_for_search = [
        a
        for body in received.received("/team/search")
        for a in body["alerts"]
        if a["labels"]["alertname"] == SLO_BURN_ALERT
    ]
    assert burn_for_search == []
    assert any(
        a["labels"]["alertname"] == SLO_BURN_ALERT
        for body in received.received("/api/v1/alerts")
        for a in body["alerts"]
    )
    assert not [
        a
        for a in firing
        if a["labels"].get("slo") == "search-availability" and a["labels"]["alertname"] == SLO_BURN_ALERT
    ]
    assert all(r["health"] == "ok" for g in rules for r in g["rules"]), [
        (r["name"], r.get("lastError")) for g in rules for r in g["rules"] if r["health"] != "ok"
    ]
