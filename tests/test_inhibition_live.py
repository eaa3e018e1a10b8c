"""Inhibition proven on a live Alertmanager: a page mutes the ticket of the same SLO (or the same component
source) only, never another SLO's or another source's ticket.

The alerts posted are the labels of the rules the generator writes for a small catalog, and the routing is
the generated `alertmanager.yml`; the verdict comes from what the real Alertmanager delivers to a webhook.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from catalog import load_catalog
from rules.alertmanager import RoutingOptions, alertmanager_yaml
from rules.generate import generate_rules
from rules.groups import Rule
from rules.names import SLO_BURN_ALERT
from tests.conftest import require_binary
from tests.prometheus_stack import alertmanager, get_json, recorder, wait_for

pytestmark = pytest.mark.promtool

CATALOG = """
teams:
  - name: storage
    owners: [storage@example.com]
    channels: {webhook: {url: "HOOK/team"}}
services:
  - {name: hdfs-prod, team: storage, tier: critical}
slos:
  - name: writes
    service: hdfs-prod
    objective: 99.9
    sli: {events: {errors: 'sum(rate(w_err[{{window}}]))', total: 'sum(rate(w_all[{{window}}]))'}}
  - name: reads
    service: hdfs-prod
    objective: 99.9
    sli: {events: {errors: 'sum(rate(r_err[{{window}}]))', total: 'sum(rate(r_all[{{window}}]))'}}
sources:
  hdfs:
    - {name: east, service: hdfs-prod, namenodes: ["http://nn-east:9870"]}
    - name: west
      service: hdfs-prod
      namenodes: ["http://nn-west:9870"]
      alerts: {missing_blocks: {severity: warning}}
"""
COMPONENT_ALERT = "WatchkeeperHdfsMissingBlocks"
# group_wait and group_interval of 1s: a notification is sent about a second after an alert arrives.
FAST = {"group_wait": "1s", "group_interval": "1s"}
# After the last expected delivery, wait this long for anything that should NOT arrive: several group
# intervals, so a ticket that was not muted would certainly have been flushed.
GRACE_SECONDS = 3


def _generated_alerts(catalog_path: Path) -> dict[tuple[str, str, str], dict[str, str]]:
    """(alertname, slo or source, severity) -> the alert's labels, as the generated rules carry them."""
    ruleset = generate_rules(load_catalog(catalog_path).catalog, with_tests=False)
    rules: list[Rule] = [r for groups in ruleset.files.values() for g in groups for r in g.rules if r.alert]
    found = {}
    for rule in rules:
        labels = {"alertname": rule.alert or "", **rule.labels}
        key = labels.get("slo") or labels.get("source") or ""
        found[(labels["alertname"], key, labels["severity"])] = labels
    return found


def _post(url: str, alerts: list[dict[str, str]]) -> None:
    body = json.dumps([{"labels": labels, "annotations": {"summary": "test"}} for labels in alerts])
    request = urllib.request.Request(
        f"{url}/api/v2/alerts",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def _delivered(posts: list[Any]) -> set[tuple[str, str, str]]:
    out = set()
    for payload in posts:
        for alert in payload["alerts"]:
            labels = alert["labels"]
            key = labels.get("slo") or labels.get("source") or ""
            out.add((labels["alertname"], key, labels["severity"]))
    return out


def _state(url: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Alertmanager's own view: each alert's status (active or suppressed, and what inhibits it)."""
    out = {}
    for alert in get_json(f"{url}/api/v2/alerts"):
        labels = alert["labels"]
        key = labels.get("slo") or labels.get("source") or ""
        out[(labels["alertname"], key, labels["severity"])] = alert["status"]
    return out


def test_a_page_mutes_only_its_own_slos_ticket_and_its_own_sources_warning(tmp_path: Path) -> None:
    binary = require_binary("prometheus-alertmanager")
    with recorder() as (hook, received):
        catalog_path = tmp_path / "catalog.yaml"
        catalog_path.write_text(CATALOG.replace("HOOK", hook))
        generated = _generated_alerts(catalog_path)
        page_writes = generated[(SLO_BURN_ALERT, "writes", "critical")]
        ticket_writes = generated[(SLO_BURN_ALERT, "writes", "warning")]
        ticket_reads = generated[(SLO_BURN_ALERT, "reads", "warning")]
        critical_east = generated[(COMPONENT_ALERT, "east", "critical")]
        warning_west = generated[(COMPONENT_ALERT, "west", "warning")]
        # The same component alert of the same source at warning (what an override to warning would send).
        warning_east = {**critical_east, "severity": "warning"}

        # The webhooks send the API token from a file (as deployed); Alertmanager must be able to read it.
        api_token = tmp_path / "api-token"
        api_token.write_text("test-token\n")
        config = alertmanager_yaml(
            load_catalog(catalog_path).catalog,
            RoutingOptions(watchkeeper_url=hook, api_token_file=str(api_token), **FAST),
        )
        (tmp_path / "am").mkdir()
        with alertmanager(binary, config, tmp_path / "am") as url:
            # The sources of inhibition first, so the inhibitor knows them before any target arrives.
            _post(url, [page_writes, critical_east])
            wait_for(lambda: len(_state(url)) == 2, 10, "Alertmanager to hold both critical alerts")
            _post(url, [ticket_writes, ticket_reads, warning_east, warning_west])

            should_arrive = {
                (SLO_BURN_ALERT, "writes", "critical"),
                (SLO_BURN_ALERT, "reads", "warning"),  # another SLO of the same service: not muted
                (COMPONENT_ALERT, "east", "critical"),
                (COMPONENT_ALERT, "west", "warning"),  # another source of the same service: not muted
            }
            muted = {(SLO_BURN_ALERT, "writes", "warning"), (COMPONENT_ALERT, "east", "warning")}
            try:
                wait_for(lambda: should_arrive <= _delivered(received.received("/team")), 20, "deliveries")
            except AssertionError:
                got = _delivered(received.received("/team"))
                raise AssertionError(
                    f"never delivered: {sorted(should_arrive - got)}; got {sorted(got)}"
                ) from None
            state = _state(url)
            time.sleep(GRACE_SECONDS)
            delivered = _delivered(received.received("/team"))
            ledger = _delivered(received.received("/api/v1/alerts"))

    assert delivered == should_arrive, f"muted alerts reached the team: {sorted(delivered & muted)}"
    assert ledger == should_arrive
    for key in muted:
        assert state[key]["state"] == "suppressed", (key, state[key])
        assert state[key]["inhibitedBy"], (key, state[key])
    for key in should_arrive:
        assert state[key]["state"] == "active", (key, state[key])
