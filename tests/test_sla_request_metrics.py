"""The service's request histogram: one observation per request, labelled with the method as sent, the
route template (never the raw path, so a scan cannot explode the series) and the status actually sent,
including answers that never reach a route (the write guard's 401 is labelled with the route its path
matches, an unknown path's 404 "unmatched"). tests/test_sla_review13b_request_metrics.py: "other" for
methods outside the usual seven, and the guard's 413 and 415."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from api.app import create_app
from api.service_state import ServiceSettings, ServiceState
from rules.alertmanager import LEDGER_PATH
from sla.names import HTTP_REQUEST_DURATION
from sla.store.engine import make_engine, resolve_url
from sla.store.migrate import upgrade
from tests.sla_service import TOKEN, database_url
from tests.test_sla_corrections_scale import CATALOG

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    with database_url("sqlite", tmp_path) as url:
        engine = make_engine(resolve_url(url))
        upgrade(engine)
        state = ServiceState(engine, ServiceSettings(SecretStr(TOKEN)), {"shop": "ops"}, catalog=CATALOG)
        yield TestClient(create_app(state), raise_server_exceptions=False)
        engine.dispose()


def _counts(api: TestClient) -> dict[tuple[str, str, str], float]:
    text = api.get("/metrics").text
    out: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == f"{HTTP_REQUEST_DURATION}_count":
                labels = sample.labels
                out[(labels["method"], labels["route"], labels["code"])] = sample.value
    return out


def test_each_request_is_counted_once_by_template_and_status(api: TestClient) -> None:
    for _ in range(3):
        assert api.get("/healthz").status_code == 200
    assert api.head("/healthz").status_code == 200
    assert api.get("/api/v1/breaches", headers=AUTH).status_code == 200
    assert api.get("/api/v1/corrections/12345", headers=AUTH).status_code in (404, 405)
    assert api.get("/no/such/path/9f3a").status_code == 404
    assert api.post(LEDGER_PATH, json={}).status_code == 401  # refused by the guard, before routing
    counts = _counts(api)
    assert counts[("GET", "/healthz", "200")] == 3
    assert counts[("HEAD", "/healthz", "200")] == 1
    assert counts[("GET", "/api/v1/breaches", "200")] == 1
    assert counts[("GET", "unmatched", "404")] == 1
    assert counts[("POST", LEDGER_PATH, "401")] == 1  # a broken Alertmanager token shows on its route
    assert not any("9f3a" in route for _, route, _ in counts)


def test_the_histogram_observes_real_durations(api: TestClient) -> None:
    api.get("/healthz")
    text = api.get("/metrics").text
    sums = [
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == f"{HTTP_REQUEST_DURATION}_sum" and s.labels["route"] == "/healthz"
    ]
    assert len(sums) == 1 and 0 < sums[0] < 5


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/healthz", "GET, HEAD"),
        ("PUT", "/api/v1/corrections", "GET, HEAD, POST"),
        ("GET", "/api/v1/alerts", "POST"),
        ("PUT", "/api/v1/corrections/17", "DELETE"),
    ],
)
def test_a_405_lists_every_method_the_path_has(api: TestClient, method: str, path: str, allow: str) -> None:
    # RFC 9110 15.5.6: a 405 MUST carry Allow with the target's methods (it was empty under FastAPI 0.165).
    headers = {**AUTH, "Content-Type": "application/json"}
    response = api.request(method, path, headers=headers, content=b"{}")
    assert response.status_code == 405
    assert response.headers["allow"] == allow
