"""A live Alertmanager, configured by the generated alertmanager.yml, delivers a real firing and resolved
pair to the running `watchkeeper serve`, authenticating with the token file the config references.

The expectation comes from Alertmanager: the startsAt/endsAt we gave it, and the fingerprint it computes
(which also checks sla.fingerprint, used for senders that omit it)."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from catalog import load_catalog
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
