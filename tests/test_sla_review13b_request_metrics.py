"""The request histogram's labels stay bounded (review 13b): a method outside GET, HEAD, POST, PUT, PATCH,
DELETE and OPTIONS is labelled "other" (uvicorn's h11 passes any token through, so random methods each
used to add series), and a write the guard refuses before routing (401, 413, 415) is labelled with the
route it was sent to, so a broken Alertmanager token shows on the ledger's route."""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
KNOWN = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with database_url("sqlite", tmp_path_factory.mktemp("metrics")) as url:
        engine = make_engine(resolve_url(url))
        upgrade(engine)
        state = ServiceState(engine, ServiceSettings(SecretStr(TOKEN)), {"shop": "ops"}, catalog=CATALOG)
        yield TestClient(create_app(state), raise_server_exceptions=False)
        engine.dispose()


def _series(api: TestClient) -> dict[tuple[str, str, str], float]:
    out: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(api.get("/metrics").text):
        for sample in family.samples:
            if sample.name == f"{HTTP_REQUEST_DURATION}_count":
                labels = sample.labels
                out[(labels["method"], labels["route"], labels["code"])] = sample.value
    return out


METHODS = st.text(alphabet=string.ascii_uppercase, min_size=3, max_size=16).filter(lambda m: m not in KNOWN)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=METHODS)
def test_unknown_methods_share_one_label(api: TestClient, method: str) -> None:
    before = _series(api)
    response = api.request(method, "/healthz")
    assert response.status_code == 405
    after = _series(api)
    assert not any(m == method for m, _, _ in after)
    grown = {k: after[k] - before.get(k, 0.0) for k in after if after[k] != before.get(k, 0.0)}
    # The /metrics read of `before` is counted in `after` too.
    assert grown == {("other", "/healthz", "405"): 1.0, ("GET", "/metrics", "200"): 1.0}


def test_a_hundred_random_methods_add_one_series(api: TestClient) -> None:
    before = set(_series(api))
    for i in range(100):
        assert api.request(f"X{i:03d}RANDOM", "/healthz").status_code == 405
        assert api.request(f"Y{i:03d}RANDOM", "/no/such/path").status_code == 404
    added = set(_series(api)) - before
    assert added <= {("other", "/healthz", "405"), ("other", "unmatched", "404"), ("GET", "/metrics", "200")}
    assert {m for m, _, _ in _series(api)} <= KNOWN | {"other"}


def test_known_methods_keep_their_label(api: TestClient) -> None:
    before = _series(api)
    assert api.options("/healthz").status_code == 405
    assert api.put("/healthz", headers=AUTH).status_code == 405
    after = _series(api)
    assert after[("OPTIONS", "/healthz", "405")] == before.get(("OPTIONS", "/healthz", "405"), 0.0) + 1
    assert after[("PUT", "/healthz", "405")] == before.get(("PUT", "/healthz", "405"), 0.0) + 1


def test_writes_refused_by_the_guard_are_labelled_with_their_route(api: TestClient) -> None:
    before = _series(api)
    assert api.post(LEDGER_PATH, json={}).status_code == 401  # a broken Alertmanager token
    assert api.post(LEDGER_PATH, json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401
    too_big = {**AUTH, "Content-Length": str(17 * 1024 * 1024)}
    assert api.post(LEDGER_PATH, content=b"{}", headers=too_big).status_code == 413
    text = {**AUTH, "Content-Type": "text/plain"}
    assert api.post("/api/v1/corrections", content=b"hello", headers=text).status_code == 415
    assert api.delete("/api/v1/corrections/7").status_code == 401
    assert api.post("/api/v1/nowhere/at/all", json={}).status_code == 401  # refused, and no route
    after = _series(api)

    def grew(key: tuple[str, str, str]) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew(("POST", LEDGER_PATH, "401")) == 2
    assert grew(("POST", LEDGER_PATH, "413")) == 1
    assert grew(("POST", "/api/v1/corrections", "415")) == 1
    assert grew(("DELETE", "/api/v1/corrections/{correction_id}", "401")) == 1
    assert grew(("POST", "unmatched", "401")) == 1
    assert not any("/7" in route or "nowhere" in route for _, route, _ in after)


def test_a_head_request_refused_or_unmatched_keeps_head(api: TestClient) -> None:
    before = _series(api)
    assert api.head("/no/such/path").status_code == 404
    after = _series(api)
    assert after[("HEAD", "unmatched", "404")] == before.get(("HEAD", "unmatched", "404"), 0.0) + 1


def test_uvicorn_with_h11_keeps_the_series_bounded(tmp_path: Path) -> None:
    """The reviewer's methods2.py against the app served by uvicorn with h11 (which, unlike httptools,
    passes any method token to the app): 40 random methods, then /metrics."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    from tests.prometheus_stack import free_port

    with database_url("sqlite", tmp_path) as url:
        engine = make_engine(resolve_url(url))
        upgrade(engine)
        state = ServiceState(engine, ServiceSettings(SecretStr(TOKEN)), {"shop": "ops"}, catalog=CATALOG)
        port = free_port()
        config = uvicorn.Config(
            create_app(state), host="127.0.0.1", port=port, http="h11", log_level="warning"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while not server.started:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.05)
            first_lines = set()
            for i in range(40):
                with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                    request = f"Z{i:02d}METHOD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    sock.sendall(request.encode())
                    first_lines.add(sock.recv(200).split(b"\r\n")[0])
            body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        finally:
            server.should_exit = True
            thread.join(30)
            engine.dispose()
    assert first_lines == {b"HTTP/1.1 405 Method Not Allowed"}  # h11 let every one through to the app
    methods = {
        s.labels["method"]
        for f in text_string_to_metric_families(body)
        for s in f.samples
        if s.name == f"{HTTP_REQUEST_DURATION}_count"
    }
    assert "other" in methods and methods <= {"other", "GET"}
