"""Corrections (planned maintenance) on a REAL Prometheus: a one-hour full outage backfilled with
`promtool tsdb create-blocks-from openmetrics` into last ISO week, for two SLOs with identical data. The
one whose catalog correction covers the outage stays Healthy; the other consumes the budget computed by
hand below. The API's `POST /api/v1/corrections` (SQLite and PostgreSQL) does the same for the second.

Data (both SLOs, objective 99.9, budget B = 0.001): 10 events/s, one sample a minute at :30 from the
previous week's Monday 00:00:30 (W0) to an hour past its end (W1 = W0 + 7 d); error ratio 1.0 for the 60
samples of [T0, T0 + 1 h) with T0 = W0 + 2 d 10 h, else 0. Window `previous-week` = [W0, W1]:
10,080 samples, 2,016 five-minute steps with data (the step at W0 has no sample in its 5 minutes).
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from api.app import create_app
from api.service_state import ServiceSettings, ServiceState
from catalog.model import Catalog
from rules import names
from sla.corrections import Correction, merge, minutes, per_slo
from sla.queries import QueryError, connect
from sla.report import Report, Row
from sla.report_math import Status
from sla.report_run import make_report
from sla.store.engine import make_engine, resolve_url
from sla.store.migrate import upgrade
from tests.conftest import require_binary
from tests.prometheus_stack import backfill, free_port, get_json, prometheus, wait_for
from tests.sla_service import BACKENDS, TOKEN, database_url

AUTH = {"Authorization": f"Bearer {TOKEN}"}
RATE = 10.0


def _week_start(now: datetime) -> datetime:
    monday = datetime(now.year, now.month, now.day, tzinfo=UTC) - timedelta(days=now.weekday())
    return monday - timedelta(days=7)


NOW = datetime.now(UTC)
W0 = _week_start(NOW)
W1 = W0 + timedelta(days=7)
T0 = W0 + timedelta(days=2, hours=10)
MAINT = (T0 - timedelta(minutes=10), T0 + timedelta(minutes=70))  # 80 min around the outage


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def catalog(extra: dict[str, Any] | None = None) -> Catalog:
    sli = {
        "events": {
            "errors": 'sum(rate(raw_total{code="500"}[{{window}}]))',
            "total": "sum(rate(raw_total[{{window}}]))",
        }
    }
    maint = {"start": _iso(MAINT[0]), "end": _iso(MAINT[1]), "reason": "database upgrade"}
    return Catalog.model_validate(
        {
            "teams": [{"name": "ops", "owners": ["o@example.com"]}],
            "services": [{"name": "shop", "team": "ops"}],
            "slos": [
                {"name": "maint", "service": "shop", "objective": 99.9, "sli": sli, "corrections": [maint]},
                {"name": "plain", "service": "shop", "objective": 99.9, "sli": sli},
            ],
            **(extra or {}),
        }
    )


CATALOG = catalog()


def ratio(t: int) -> float:
    return 1.0 if T0.timestamp() < t < T0.timestamp() + 3600 else 0.0


def openmetrics() -> str:
    lines = []
    first, last = int(W0.timestamp()) + 30, int(W1.timestamp()) + 3600
    for slo in ("maint", "plain"):
        labels = f'service="shop",slo="{slo}"'
        for t in range(first, last + 1, 60):
            lines.append(f"{names.SLI_ERRORS_RATE5M}{{{labels}}} {RATE * ratio(t)!r} {t}")
            lines.append(f"{names.SLI_TOTAL_RATE5M}{{{labels}}} {RATE} {t}")
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def week_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus holding last week's backfill (no rules: reports read the 5m recordings)."""
    binary = require_binary("prometheus")
    work = tmp_path_factory.mktemp("sla-corrections")
    backfill(openmetrics(), work)
    with prometheus(binary, [], work, extra_flags=("--storage.tsdb.retention.time=400d",)) as url:
        query = f"{url}/api/v1/query?query=count(count_over_time({names.SLI_TOTAL_RATE5M}[14d]))"
        wait_for(lambda: get_json(query)["data"]["result"], 30, "the backfilled blocks")
        yield url


def _row(report: Report, level: str, name: str) -> Row:
    return next(r for r in report.rows[level] if r.name == name)  # type: ignore[index]


def test_a_catalog_correction_keeps_the_outage_out_of_the_budget(week_prometheus: str) -> None:
    report = make_report(CATALOG, connect(week_prometheus), "previous-week", NOW)
    assert (report.window.start, report.window.end) == (W0, W1)
    # maint: the 80 corrected samples (T0 - 9m30s .. T0 + 69m30s) hold all 60 bad ones: 10,000 good
    # samples left, error ratio 0. Steps: 2,016 - the 16 in (T0 - 10 m, T0 + 70 m] = 2,000 -> 10,000 min.
    # Budget total 0.001 x (10,080 - 80) = 10.0 min, nothing consumed: Healthy.
    maint = _row(report, "slo", "maint").figures
    assert maint.attainment == 1.0
    assert maint.covered_minutes == 10_000
    assert maint.excluded_minutes == 80
    assert maint.budget_total_minutes == pytest.approx(10.0)
    assert maint.budget_consumed_minutes == 0
    assert maint.status is Status.HEALTHY
    assert [c.reason for c in _row(report, "slo", "maint").corrections] == ["database upgrade"]
    # plain: 60 bad of 10,080 samples, e = 1/168; consumed e x 10,080 = 60 min of a 10.08 min budget:
    # remaining -49.92, Exhausted.
    plain = _row(report, "slo", "plain").figures
    assert plain.attainment == pytest.approx(1 - 1 / 168)
    assert plain.covered_minutes == 10_080
    assert plain.excluded_minutes == 0 and plain.budget_total_minutes == pytest.approx(10.08)
    assert plain.budget_consumed_minutes == pytest.approx(60.0)
    assert plain.budget_remaining_minutes == pytest.approx(-49.92)
    assert plain.status is Status.EXHAUSTED
    assert _row(report, "slo", "plain").corrections == ()
    # The service: attainment (1.0 x 10,000 + (1 - 1/168) x 10,080) / 20,080 = 20,020 / 20,080.
    shop = _row(report, "service", "shop")
    assert shop.figures.attainment == pytest.approx(20_020 / 20_080)
    assert shop.figures.excluded_minutes == 80
    assert shop.figures.budget_total_minutes == pytest.approx(20.08)
    assert shop.figures.status is Status.EXHAUSTED
    assert len(shop.corrections) == 1


def test_a_correction_on_the_whole_window_leaves_no_data(week_prometheus: str) -> None:
    whole = {"start": _iso(W0 - timedelta(days=1)), "end": _iso(W1 + timedelta(days=1)), "reason": "move"}
    moved = catalog({"teams": [{"name": "ops", "owners": ["o@example.com"], "corrections": [whole]}]})
    report = make_report(moved, connect(week_prometheus), "previous-week", NOW)
    for row in (*report.rows["slo"], *report.rows["team"], *report.rows["platform"]):
        f = row.figures
        # Nothing left to measure: No data (also for the rollups: not "Healthy" with no attainment).
        assert (f.status, f.attainment, f.covered_minutes) == (Status.NO_DATA, None, 0), row.name
        assert f.budget_total_minutes == 0
    assert report.rows["slo"][0].figures.excluded_minutes == 7 * 1440


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path: Path, week_prometheus: str) -> Iterator[TestClient]:
    with database_url(request.param, tmp_path) as url:
        engine = make_engine(resolve_url(url))
        upgrade(engine)
        settings = ServiceSettings(SecretStr(TOKEN), prometheus_url=week_prometheus)
        state = ServiceState(engine, settings, {"shop": "ops"}, catalog=CATALOG)
        yield TestClient(create_app(state), raise_server_exceptions=False)
        engine.dispose()


def _plain(api: TestClient, path: str = "slo/plain") -> dict[str, Any]:
    response = api.get(f"/api/v1/reports/{path}", params={"window": "previous-week"}, headers=AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return next(r for r in body["rows"] if r["name"] == "plain")


def test_posted_corrections_are_stored_and_honoured(api: TestClient) -> None:
    before = _plain(api, "team/ops")  # cached for 30 s: the post below must drop it
    assert before["status"] == "Exhausted"
    body = {
        "slo": "plain",
        "start": _iso(T0),
        "end": _iso(T0 + timedelta(hours=1)),
        "reason": "failover test",
    }
    first = api.post("/api/v1/corrections", json=body, headers=AUTH)
    assert first.status_code == 201, first.text
    again = api.post("/api/v1/corrections", json=body, headers=AUTH)
    assert again.status_code == 200 and again.json() == first.json()  # idempotent
    assert first.json()["scope"] == "slo" and first.json()["source"] == "api"
    # The 60 bad samples (T0 + 30 s .. T0 + 59m30s) are exactly the corrected ones: 10,020 good samples
    # left; steps 2,016 - 12 = 2,004 -> 10,020 min; budget 0.001 x (10,080 - 60) = 10.02 min: Healthy.
    for path in ("slo/plain", "team/ops"):
        row = _plain(api, path)
        assert (row["attainment"], row["covered_minutes"], row["excluded_minutes"]) == (1.0, 10_020, 60)
        assert row["budget_total_minutes"] == pytest.approx(10.02)
        assert row["status"] == "Healthy"
        assert [c["reason"] for c in row["corrections"]] == ["failover test"]
    listed = api.get("/api/v1/corrections", headers=AUTH)
    assert listed.status_code == 200 and [c["id"] for c in listed.json()["items"]] == [first.json()["id"]]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"service": "shop"}, "exactly one of slo, service and team"),
        ({"slo": None}, "exactly one of slo, service and team"),
        ({"slo": "plian"}, "did you mean 'plain'"),
        ({"end": "2026-01-01T00:00:00Z"}, "end must be after start"),
        ({"start": "2026-01-01T00:00:00"}, "timezone"),
        ({"reason": ""}, "reason"),
        ({"reason": "a\x00b"}, "NUL"),
        ({"start": "0001-01-01T00:00:00+01:00"}, "between 1970"),
        ({"end": "2099-01-01T00:00:00Z"}, "at most 366 days"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_corrections_are_refused_and_nothing_is_stored(
    api: TestClient, change: dict[str, Any], says: str
) -> None:
    body = {"slo": "plain", "start": _iso(T0), "end": _iso(T0 + timedelta(hours=1)), "reason": "x", **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = api.post("/api/v1/corrections", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert says in response.text
    assert api.get("/api/v1/corrections", headers=AUTH).json()["items"] == []


def test_corrections_need_the_token(api: TestClient) -> None:
    body = {"team": "ops", "start": _iso(T0), "end": _iso(T0 + timedelta(hours=1)), "reason": "x"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        response = api.post("/api/v1/corrections", json=body, headers=headers)
        assert response.status_code == 401 and TOKEN not in response.text
        assert api.get("/api/v1/corrections", headers=headers).status_code == 401
    assert api.get("/api/v1/corrections", headers=AUTH).json()["items"] == []


# Pure: merging and scoping (hand-made cases, and invariants over random intervals).

D = datetime(2026, 11, 2, tzinfo=UTC)


def _c(scope: str, name: str, start_h: float, end_h: float) -> Correction:
    return Correction(
        scope,  # type: ignore[arg-type]
        name,
        D + timedelta(hours=start_h),
        D + timedelta(hours=end_h),
        "r",
        "catalog",
    )


def test_overlapping_corrections_of_different_scopes_count_once() -> None:
    # ops (team) 1h-3h, shop (service) 2h-4h, plain (SLO) 10h-11h; window [0h, 12h], period to 24h.
    # plain: merged 1h-4h and 10h-11h = 4 h = 240 min; maint: 1h-4h = 180 min.
    cs = [_c("team", "ops", 1, 3), _c("service", "shop", 2, 4), _c("slo", "plain", 10, 11)]
    applied = per_slo(CATALOG, cs, D, D + timedelta(hours=12), D + timedelta(hours=24))
    assert minutes(applied[("shop", "plain")].period) == 240
    assert minutes(applied[("shop", "maint")].period) == 180
    assert len(applied[("shop", "plain")].corrections) == 3
    # A correction partly after the report time: measured up to the end, excluded up to the period end.
    late = per_slo(CATALOG, [_c("slo", "plain", 11, 14)], D, D + timedelta(hours=12), D + timedelta(hours=24))
    assert minutes(late[("shop", "plain")].measured) == 60 and minutes(late[("shop", "plain")].period) == 180
    assert (
        per_slo(CATALOG, [_c("slo", "nope", 1, 2)], D, D + timedelta(hours=12), D + timedelta(hours=24)) == {}
    )


intervals = st.lists(
    st.tuples(st.integers(0, 1000), st.integers(1, 100)).map(lambda t: (t[0], t[0] + t[1])), max_size=20
)


@given(intervals)
def test_merged_intervals_are_disjoint_and_cover_the_same_minutes(raw: list[tuple[int, int]]) -> None:
    merged = merge((D + timedelta(minutes=a), D + timedelta(minutes=b)) for a, b in raw)
    assert all(merged[i][1] < merged[i + 1][0] for i in range(len(merged) - 1))
    covered = {m for a, b in raw for m in range(a, b)}  # reference: a set of whole minutes
    assert minutes(merged) == len(covered)


# Failing fast: prometheus-api-client's default retries made a 503 take about 6 s.


class _Unavailable(http.server.BaseHTTPRequestHandler):
    """Answers every request 503 like a Prometheus that is not ready (a stand-in: a real Prometheus
    cannot be held in that state on demand)."""

    def do_GET(self) -> None:
        self.send_response(503)
        self.end_headers()
        self.wfile.write(b"Service Unavailable")

    def log_message(self, *args: Any) -> None:
        pass


def test_an_unavailable_prometheus_fails_fast_and_says_why() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Unavailable)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        with pytest.raises(QueryError, match="answered HTTP 503") as error:
            make_report(CATALOG, connect(f"http://127.0.0.1:{server.server_port}"), "7d", NOW)
        assert time.monotonic() - started < 1.5
        assert "Retry" not in str(error.value)
        started = time.monotonic()
        with pytest.raises(QueryError, match="unreachable"):
            make_report(CATALOG, connect(f"http://127.0.0.1:{free_port()}"), "7d", NOW)
        assert time.monotonic() - started < 1.5
    finally:
        server.shutdown()
        server.server_close()
