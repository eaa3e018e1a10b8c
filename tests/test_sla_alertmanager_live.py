"""A live Alertmanager, configured by the generated alertmanager.yml, delivers a real firing and resolved
pair to the running `watchkeeper serve`, authenticating with the token file the config references.

The expectation comes from Alertmanager: the startsAt/endsAt we gave it, and the fingerprint it computes
(which also checks sla.fingerprint, used for senders that omit it)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog import load_catalog
from catalog.model import Catalog
from rules.alertmanager import API_TOKEN_ENV, LEDGER_PATH, RoutingOptions, alertmanager_yaml
from sla.fingerprint import label_fingerprint
from tests.conftest import EXAMPLE_CATALOG, require_binary
from tests.prometheus_stack import alertmanager, get_json, wait_for
from tests.sla_service import BACKENDS, TOKEN, Service, database_url, service

pytestmark = pytest.mark.promtool
LABELS = {
    "alertname": "WatchkeeperSLOErrorBudgetBurn",
    "team": "platform",
    "service": "kafka-ingest",
    "slo": "availability",
    "severity": "info",  # routed to the ledger and the null receiver: no PagerDuty or Slack secrets needed
}


def _push(am_url: str, starts: datetime, ends: datetime) -> None:
    body = json.dumps(
        [
            {
                "labels": LABELS,
                "annotations": {"summary": "burning"},
                "startsAt": starts.isoformat(),
                "endsAt": ends.isoformat(),
            }
        ]
    ).encode()
    request = urllib.request.Request(
        f"{am_url}/api/v2/alerts", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def _ledger(running: Service) -> list[dict[str, Any]]:
    return running.breaches(service="kafka-ingest")


@pytest.mark.parametrize("backend", BACKENDS)
def test_live_alertmanager_delivers_firing_then_resolved_to_the_ledger(backend: str, tmp_path: Path) -> None:
    binary = require_binary("prometheus-alertmanager")
    amtool = require_binary("amtool")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / API_TOKEN_ENV).write_text(TOKEN + "\n")
    with database_url(backend, tmp_path) as url, service(url, tmp_path) as running:
        options = RoutingOptions(
            watchkeeper_url=running.url, secrets_dir=str(secrets), group_wait="1s", group_interval="1s"
        )
        config = alertmanager_yaml(load_catalog(EXAMPLE_CATALOG).catalog, options)
        assert f"url: {running.url}{LEDGER_PATH}" in config
        assert f"credentials_file: {secrets / API_TOKEN_ENV}" in config
        (tmp_path / "check.yml").write_text(config)
        checked = subprocess.run(
            [amtool, "check-config", str(tmp_path / "check.yml")], check=False, capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        with alertmanager(binary, config, tmp_path) as am_url:
            starts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
            _push(am_url, starts, datetime.now(UTC) + timedelta(hours=1))
            [firing] = wait_for(lambda: _ledger(running), 30, "the firing alert in the ledger")
            assert firing["status"] == "firing" and firing["ends_at"] is None
            [am_alert] = get_json(f"{am_url}/api/v2/alerts")
            am_fingerprint = am_alert["fingerprint"]  # computed by Alertmanager itself
            ends = datetime.now(UTC).replace(microsecond=0)
            _push(am_url, starts, ends)
            resolved = wait_for(
                lambda: [b for b in _ledger(running) if b["status"] == "resolved"], 30, "the resolved alert"
            )
        assert len(_ledger(running)) == 1
        [breach] = resolved
        assert breach["starts_at"] == starts.isoformat().replace("+00:00", "Z")
        assert breach["ends_at"] == ends.isoformat().replace("+00:00", "Z")
        assert breach["labels"] == LABELS and breach["team"] == "platform"
        assert breach["fingerprint"] == am_fingerprint == label_fingerprint(LABELS)
        log = running.output()
        assert 'POST /api/v1/alerts HTTP/1.1" 200' in log and " 401" not in log


def test_a_team_webhook_to_the_ledger_never_401s(tmp_path: Path) -> None:
    """The example catalog's team webhook is the ledger itself with WATCHKEEPER_WEBHOOK_TOKEN (a token the
    service does not accept): on a real Alertmanager every team delivery used to be answered 401. The
    generated config leaves it to the ledger route, so a warning reaches the ledger once, and nothing 401s."""
    binary = require_binary("prometheus-alertmanager")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / API_TOKEN_ENV).write_text(TOKEN + "\n")
    (secrets / "WATCHKEEPER_WEBHOOK_TOKEN").write_text("not-the-api-token\n")
    with database_url("sqlite", tmp_path) as url, service(url, tmp_path) as running:
        data = load_catalog(EXAMPLE_CATALOG).catalog.model_dump(mode="json", exclude_unset=True)
        hook = {"url": f"{running.url}{LEDGER_PATH}", "token_env": "WATCHKEEPER_WEBHOOK_TOKEN"}
        for team in data["teams"]:
            team["channels"] = {"webhook": hook}  # as examples/catalog/teams.yaml, on this service's URL
        options = RoutingOptions(
            watchkeeper_url=running.url, secrets_dir=str(secrets), group_wait="1s", group_interval="1s"
        )
        config = alertmanager_yaml(Catalog.model_validate(data), options)
        assert "WATCHKEEPER_WEBHOOK_TOKEN" not in config
        with alertmanager(binary, config, tmp_path) as am_url:
            starts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
            warning = {**LABELS, "severity": "warning"}  # routed to the ledger AND platform-warning
            body = [
                {
                    "labels": warning,
                    "startsAt": starts.isoformat(),
                    "endsAt": (starts + timedelta(hours=2)).isoformat(),
                }
            ]
            request = urllib.request.Request(
                f"{am_url}/api/v2/alerts",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 200
            wait_for(lambda: _ledger(running), 30, "the firing alert in the ledger")
            time.sleep(3)  # group_wait 1 s, group_interval 1 s: every receiver has been notified by now
            status = get_json(f"{am_url}/api/v2/alerts")[0]["receivers"]
            assert {r["name"] for r in status} == {"watchkeeper-ledger", "platform-warning"}
        assert len(_ledger(running)) == 1
        log = running.output()
        assert 'POST /api/v1/alerts HTTP/1.1" 200' in log and " 401" not in log
