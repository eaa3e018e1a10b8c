"""HTML team pages on a slow Prometheus do not starve writes: the real `watchkeeper serve` (uvicorn, its
40-thread pool) reads the real Prometheus of tests/test_sla_burndown_prometheus.py through a proxy that
delays every answer (tests/slow_proxy.py).

A cached team report's burn-down is computed once and kept with it (one flight: two coarse and two fine
range queries, `fixed` has a correction), not once per page; team pages fetching a burn-down hold at most
4 threads (api/routers/reports.py HTML_THREADS). Before, each of 60 pages ran its own range queries on a
pool thread, and a correction POST waited behind them (measured on a loaded 2-core machine, 3 s per
Prometheus answer: 2.98 s before, 0.12 s now)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
import yaml

from tests import test_sla_burndown_prometheus as data
from tests.sla_service import TOKEN, Service, service
from tests.slow_proxy import Proxy, slow_proxy

burn_prometheus = data.burn_prometheus
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PAGES = 60
DELAY = 3.0
RANGE = "/api/v1/query_range"
TEAM_PAGE = "/api/v1/reports/team/ops?window=7d"


@pytest.fixture(scope="module")
def stack(burn_prometheus: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Proxy]]:
    work = tmp_path_factory.mktemp("burndown-load")
    catalog = work / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(data.CATALOG.model_dump(mode="json", exclude_unset=True)))
    with (
        slow_proxy(burn_prometheus) as proxy,
        service(
            f"sqlite:///{work / 'ledger.db'}", work, "--prometheus", proxy.url, catalog=catalog
        ) as running,
    ):
        yield running, proxy


def _post_correction(url: str) -> float:
    """Seconds a correction POST takes (the correction, outside the window, is deleted afterwards)."""
    start = data.E - timedelta(days=30)
    body = {"team": "ops", "start": data._iso(start), "end": data._iso(start + timedelta(minutes=5))}
    began = time.monotonic()
    posted = httpx.post(
        f"{url}/api/v1/corrections", json={**body, "reason": "load"}, headers=AUTH, timeout=60
    )
    took = time.monotonic() - began
    assert posted.status_code == 201, posted.text
    gone = httpx.delete(f"{url}/api/v1/corrections/{posted.json()['id']}", headers=AUTH, timeout=60)
    assert gone.status_code == 204
    return took


def _warm(url: str) -> None:
    answer = httpx.get(f"{url}{TEAM_PAGE}", headers=AUTH, timeout=60)
    assert answer.status_code == 200, answer.text


def _page(url: str, path: str, sent: threading.Semaphore) -> tuple[int, str]:
    """GET `path` on a raw socket: `sent` is released once the request is written, then the answer read."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=120) as sock:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(request.encode())
        sent.release()
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    text = b"".join(chunks).decode(errors="replace")
    return int(text.split(" ", 2)[1]), text


def test_a_correction_post_stays_fast_while_many_html_pages_wait_on_prometheus(
    stack: tuple[Service, Proxy],
) -> None:
    running, proxy = stack
    proxy.delay = 0.0
    alone = _post_correction(running.url)
    _warm(running.url)
    proxy.reset()
    proxy.delay = DELAY
    sent = threading.Semaphore(0)
    with ThreadPoolExecutor(PAGES) as pool:
        pages = [pool.submit(_page, running.url, f"{TEAM_PAGE}&format=html", sent) for _ in range(PAGES)]
        for _ in range(PAGES):
            assert sent.acquire(timeout=30)
        time.sleep(0.5)  # the service has read them all; the one burn-down flight is waiting on the proxy
        assert proxy.busy[RANGE] > 0
        during = _post_correction(running.url)
        answers = [p.result(timeout=120) for p in pages]
    proxy.delay = 0.0
    # The POST does not touch Prometheus: alone it takes a few hundredths of a second, and it must not wait
    # for a 3 s Prometheus answer (before: 2 x 3 s, behind 40 threads of burn-downs).
    assert during < min(DELAY / 2, alone + 1.0), (alone, during)
    assert {status for status, _ in answers} == {200}
    assert all('id="burndown-line"' in text for _, text in answers)
    # One burn-down for the 60 pages: 2 coarse + 2 fine range queries, no report query (cached).
    assert proxy.seen[RANGE] == 4, proxy.queries
    assert proxy.seen["/api/v1/query"] == 0, proxy.queries


def test_a_failed_burn_down_is_not_kept_with_the_report(stack: tuple[Service, Proxy]) -> None:
    running, proxy = stack
    proxy.delay, proxy.status = 0.0, 0
    _post_correction(running.url)  # a fresh cache entry, with no burn-down yet
    _warm(running.url)
    proxy.status = 503
    down = httpx.get(f"{running.url}{TEAM_PAGE}&format=html", headers=AUTH, timeout=60)
    assert down.status_code == 200
    assert "No burn-down: Prometheus range query failed: Prometheus answered HTTP 503" in down.text
    proxy.status = 0
    proxy.reset()
    up = httpx.get(f"{running.url}{TEAM_PAGE}&format=html", headers=AUTH, timeout=60)
    assert 'id="burndown-line"' in up.text and proxy.seen[RANGE] == 4 and proxy.seen["/api/v1/query"] == 0
    again = httpx.get(f"{running.url}{TEAM_PAGE}&format=html", headers=AUTH, timeout=60)
    assert again.text == up.text and proxy.seen[RANGE] == 4  # kept now


def test_team_pages_at_a_given_time_hold_at_most_four_burn_downs_at_once(
    stack: tuple[Service, Proxy],
) -> None:
    # With `at`, nothing is cached: each page computes its report, then its burn-down (4 range queries at
    # once). 12 pages: at most 4 burn-downs, so 16 range queries, wait on Prometheus together.
    running, proxy = stack
    proxy.status, proxy.delay = 0, 1.0
    proxy.reset()
    path = f"{TEAM_PAGE}&format=html&at={data.AT.isoformat().replace('+', '%2B')}"
    sent = threading.Semaphore(0)
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: _page(running.url, path, sent), range(12)))
    proxy.delay = 0.0
    assert {status for status, _ in answers} == {200}
    assert all('id="burndown-line"' in text for _, text in answers)
    assert proxy.seen[RANGE] == 12 * 4
    assert 4 < proxy.peak[RANGE] <= 16, proxy.peak
