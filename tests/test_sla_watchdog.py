"""The Watchdog heartbeat endpoint the generated Alertmanager config sends the dead-man's switch to.

Found by a new-user trial: the generated config routed `alertname="Watchdog"` to a path the service did not
serve (404 every minute). The path is the generator's own constant, so the two cannot drift apart again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from catalog.loader import load_catalog
from rules.alertmanager import alertmanager_yaml
from tests.sla_service import payload
from tests.test_sla_ledger import AUTH, _client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    test_client = _client(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield test_client
    test_client.app.state.service.engine.dispose()  # type: ignore[attr-defined]


def _watchdog_path() -> str:
    """The path the generated config sends the Watchdog to, read from the generated YAML itself."""
    result = load_catalog(Path(__file__).resolve().parent.parent / "examples" / "catalog")
    assert result.catalog is not None
    config = yaml.safe_load(alertmanager_yaml(result.catalog))
    urls = [
        hook["url"]
        for receiver in config["receivers"]
        if "watchdog" in receiver["name"].lower()
        for hook in receiver.get("webhook_configs", [])
    ]
    assert len(urls) == 1, urls
    return "/" + urls[0].split("://", 1)[1].split("/", 1)[1]


def test_the_generated_watchdog_route_is_served_and_recorded(client: TestClient) -> None:
    path = _watchdog_path()
    before = time.time()
    response = client.post(path, json=payload("bot_firing.json"), headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["received"] == 1
    metrics = client.get("/metrics").text
    line = next(
        ln
        for ln in metrics.splitlines()
        if ln.startswith("watchkeeper_api_watchdog_last_seen_timestamp_seconds ")
    )
    assert float(line.split()[1]) >= before
    # A heartbeat is not a breach: the ledger stays empty.
    assert client.get("/api/v1/breaches", headers=AUTH).json()["items"] == []


def test_the_watchdog_needs_the_token(client: TestClient) -> None:
    path = _watchdog_path()
    assert client.post(path, json=payload("bot_firing.json")).status_code == 401
    assert (
        client.post(path, json=payload("bot_firing.json"), headers={"Authorization": "Bearer x"}).status_code
        == 401
    )
