"""Reports against a real Prometheus and against broken ones (review 13b):

- a NaN or +Inf in an SLO's recorded error or event rates (backfilled with `promtool tsdb
  create-blocks-from openmetrics`, as OpenMetrics spells them) makes that SLO **No data**, never a
  perfect, Healthy attainment (they used to count as zero errors), while a clean SLO beside it keeps its
  hand-computed figures;
- credentials in `--prometheus` (`http://user:password@host`) never reach a 503's body, the service's
  log or a QueryError: the URL is shown with its user and password masked; a connection the proxy drops
  without answering is one short reason, not urllib3's dump with the query URL.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import load_catalog
from catalog.model import Catalog
from rules import names
from rules.generate import generate_rules
from rules.render import write_rules
from sla import queries
from sla.queries import QueryError, RangeData, WindowData, connect, run
from sla.report import measured
from sla.report_math import Status
from sla.report_run import make_report
from tests.conftest import EXAMPLE_CATALOG, require_binary
from tests.prometheus_stack import backfill, free_port, prometheus
from tests.sla_service import TOKEN, database_url, service

RATE = 10.0
SLI = {
    "events": {
        "errors": 'sum(rate(raw_total{code="500"}[{{window}}]))',
        "total": "sum(rate(raw_total[{{window}}]))",
    }
}
# The error rate of each SLO per sample; the sample at `BAD_AT` minutes before the end is replaced.
BROKEN: dict[str, tuple[str, str]] = {
    "clean": ("errors", ""),
    "nan-errors": ("errors", "NaN"),
    "inf-errors": ("errors", "+Inf"),
    "nan-total": ("total", "NaN"),
}
BAD_AT = 90
CATALOG = Catalog.model_validate(
    {
        "teams": [{"name": "ops", "owners": ["o@example.com"]}],
        "services": [{"name": "shop", "team": "ops"}],
        "slos": [{"name": n, "service": "shop", "objective": 99.0, "sli": SLI} for n in BROKEN],
    }
)
ERROR_SHARE = 0.001  # 0.1% of events fail, every minute, every SLO


def openmetrics(start: int, end: int) -> str:
    lines = []
    for slo, (which, bad) in BROKEN.items():
        labels = f'service="shop",slo="{slo}"'
        for t in range(start, end + 1, 60):
            errors, total = repr(RATE * ERROR_SHARE), repr(RATE)
            if bad and t == end - BAD_AT * 60:
                errors, total = (bad, total) if which == "errors" else (errors, bad)
            lines.append(f"{names.SLI_ERRORS_RATE5M}{{{labels}}} {errors} {t}")
            lines.append(f"{names.SLI_TOTAL_RATE5M}{{{labels}}} {total} {t}")
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def nan_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    binary = require_binary("prometheus")
    work = tmp_path_factory.mktemp("nan-prom")
    now = int(time.time())
    end = now - now % 60 - 60 + 30  # a :30 in the past minute
    start = end - 6 * 3600
    backfill(openmetrics(start, end), work)
    files = write_rules(generate_rules(CATALOG, with_tests=False).files, work / "rules")
    with prometheus(binary, files, work) as url:
        yield url, end


def test_a_nan_or_inf_sum_is_no_data_never_healthy(nan_prometheus: tuple[str, int]) -> None:
    url, end = nan_prometheus
    client = connect(url, timeout_seconds=10)
    # The series really hold NaN and +Inf: Prometheus' own sums over the window say so.
    at = f"@ {end + 5}"
    errors = run(
        client,
        f"sum by (service, slo) (sum_over_time({names.SLI_ERRORS_RATE5M}[7d] {at}))",
        datetime.now(UTC),
    )
    total = run(
        client, f"sum by (service, slo) (sum_over_time({names.SLI_TOTAL_RATE5M}[7d] {at}))", datetime.now(UTC)
    )
    assert str(errors[("shop", "nan-errors")]) == "nan" and errors[("shop", "inf-errors")] == float("inf")
    assert str(total[("shop", "nan-total")]) == "nan"
    report = make_report(CATALOG, client, "7d", datetime.fromtimestamp(end + 5, UTC))
    rows = {r.name: r.figures for r in report.rows["slo"]}
    # The clean SLO: every sample has 0.1% errors, so attainment is 1 - 0.001; covered: the 5m steps of
    # the window (multiples of 300 s up to the report time) with a sample in the 5 minutes before them.
    clean = rows["clean"]
    assert clean.attainment == pytest.approx(1 - ERROR_SHARE, rel=1e-9)
    assert clean.status == Status.HEALTHY
    written = range(end - 6 * 3600, end + 1, 60)
    steps = range(end + 5 - (end + 5) % 300, end + 5 - 7 * 86400, -300)
    covered = sum(1 for step in steps if any(step - 300 <= t <= step for t in written))
    assert covered == 72
    assert clean.covered_minutes == covered * 5
    for broken in ("nan-errors", "inf-errors", "nan-total"):
        figures = rows[broken]
        assert figures.status == Status.NO_DATA, broken
        assert figures.attainment is None, broken
        assert figures.budget_consumed_minutes == 0.0 and figures.covered_minutes == 0.0, broken
        assert figures.period_burn_rate is None, broken
    # The rollup weighs the clean SLO only: its attainment, not a broken SLO's perfect one.
    service = report.rows["service"][0].figures
    assert service.attainment == pytest.approx(1 - ERROR_SHARE, rel=1e-9)


FINITE = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    sums=st.lists(FINITE, min_size=4, max_size=4),
    broken=st.sampled_from(["window errors", "window total", "part errors", "part total"]),
    value=st.sampled_from([math.nan, math.inf, -math.inf]),
)
def test_a_broken_sum_anywhere_is_no_data(sums: list[float], broken: str, value: float) -> None:
    """Pure: a NaN or infinite sum in the window or in a corrected interval's part is No data, whatever
    the other sums are; the burn rates (recorded ratios) are still given."""
    key = ("shop", "clean")
    w_errors, w_total, p_errors, p_total = sums
    cells = {
        "window errors": w_errors,
        "window total": w_total,
        "part errors": p_errors,
        "part total": p_total,
    }
    cells[broken] = value
    data = WindowData(
        {key: cells["window errors"]}, {key: cells["window total"]}, {key: 100.0}, {key: 0.002}, {key: 0.001}
    )
    parts = RangeData({key: cells["part errors"]}, {key: cells["part total"]}, {key: 10.0})
    interval = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))
    seen = measured(key, 0.01, data, [interval], parts)
    assert seen.error_ratio is None and seen.covered_minutes == 0.0
    assert seen.burn_rate_1h == pytest.approx(0.2) and seen.burn_rate_6h == pytest.approx(0.1)


# --- credentials in the Prometheus URL --------------------------------------------------------------

USER, PASSWORD = "admin", "s3cretpw-" + TOKEN[-8:]


@contextmanager
def dropping_server() -> Iterator[int]:
    """Accepts each connection, reads the request, closes without answering (a proxy whose upstream is
    down, the reviewer's proxy.py in "down" mode)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                with suppress(OSError):
                    conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@contextmanager
def failing_server(status: int, body: bytes) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _secret_free(text: str) -> None:
    assert PASSWORD not in text
    assert f"{USER}:" not in text and f"{USER}@" not in text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://admin:pw@host:9090", "http://***:***@host:9090"),
        ("https://admin@host:9090/prom/", "https://***@host:9090/prom/"),
        ("http://host:9090", "http://host:9090"),
        ("http://:tok@[::1]:9090/x?y=1", "http://***:***@[::1]:9090/x?y=1"),
        ("http://user%40corp:p%3Aw@host", "http://***:***@host"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert queries.redact_url(url) == expected


def test_a_dropped_connection_is_a_short_reason_without_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with dropping_server() as port:
        client = connect(f"http://{USER}:{PASSWORD}@127.0.0.1:{port}", timeout_seconds=5)
        with pytest.raises(QueryError) as caught:
            run(client, f"sum({names.SLI_TOTAL_RATE5M})", datetime.now(UTC))
    message = str(caught.value)
    _secret_free(message)
    _secret_free(caplog.text)
    assert message == (
        f"Prometheus query failed at http://***:***@127.0.0.1:{port}: "
        "Prometheus closed the connection without answering"
    )


@pytest.mark.parametrize("kind", ["refused", "503"])
def test_other_failures_never_show_the_secret(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    @contextmanager
    def target() -> Iterator[int]:
        if kind == "refused":
            yield free_port()
        else:
            with failing_server(503, b"upstream unavailable") as port:
                yield port

    with target() as port:
        client = connect(f"http://{USER}:{PASSWORD}@127.0.0.1:{port}", timeout_seconds=5)
        with pytest.raises(QueryError) as caught:
            run(client, f"sum({names.SLI_TOTAL_RATE5M})", datetime.now(UTC))
    message = str(caught.value)
    _secret_free(message)
    _secret_free(caplog.text)
    assert f"http://***:***@127.0.0.1:{port}" in message
    reason = {
        "refused": "Prometheus is unreachable (connection refused or unknown host)",
        "503": "Prometheus answered HTTP 503",
    }[kind]
    assert reason in message


def test_the_service_never_shows_the_prometheus_password(tmp_path: Path) -> None:
    """`watchkeeper serve --prometheus http://admin:PASSWORD@…` behind a proxy that drops connections:
    the 503s (JSON, CSV, HTML; team, service and platform reports, and the monthly snapshot's warning in
    the log) name the masked URL and the short reason, never the password."""
    team = load_catalog(EXAMPLE_CATALOG).catalog.teams[0].name
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        dropping_server() as port,
        database_url("sqlite", tmp_path) as url,
        service(url, tmp_path, "--prometheus", f"http://{USER}:{PASSWORD}@127.0.0.1:{port}") as running,
    ):
        answers = [
            httpx.get(f"{running.url}/api/v1/reports/team/{team}", params=p, headers=headers, timeout=60)
            for p in ({"window": "7d"}, {"window": "7d", "format": "csv"}, {"format": "html"})
        ]
        answers.append(httpx.get(f"{running.url}/api/v1/reports/platform", headers=headers, timeout=60))
        answers.append(
            httpx.get(
                f"{running.url}/api/v1/reports/platform",
                params={"at": "2026-11-01T00:00:00Z"},
                headers=headers,
                timeout=60,
            )
        )
        ready = httpx.get(f"{running.url}/readyz", timeout=60)
        log = running.output()
    for answer in answers:
        assert answer.status_code == 503, answer.text
        _secret_free(answer.text)
        detail = answer.json()["detail"]
        assert detail == (
            f"cannot compute the report: Prometheus query failed at http://***:***@127.0.0.1:{port}: "
            "Prometheus closed the connection without answering"
        )
    assert ready.status_code == 503
    _secret_free(ready.text)
    _secret_free(log)
    assert "not written yet" in log  # the snapshot's warning was logged, masked
