"""Corrections at scale, on the REAL Prometheus of tests/test_sla_corrections.py (last week's backfill,
one full outage of an hour at T0 for the SLOs `maint` and `plain`), SQLite and PostgreSQL:

- every stored correction applies, also past 10,000 (a read limit used to drop the newest ones);
- at most MAX_PER_SCOPE / MAX_TOTAL are stored (409, nothing stored), the list is paginated;
- a report queries Prometheus only for the corrections of its own SLOs, merged and batched (counted by
  the real Prometheus' `prometheus_http_requests_total{handler="/api/v1/query"}`);
- `DELETE /api/v1/corrections/{id}` undoes a mistake.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import insert

import sla.store.corrections as store
from api.app import create_app
from api.service_state import ServiceSettings, ServiceState
from catalog.model import Catalog
from sla.queries import connect
from sla.report_math import Status
from sla.report_run import make_report
from sla.store.engine import make_engine, resolve_url
from sla.store.migrate import upgrade
from sla.store.models import CorrectionRow
from tests.conftest import run_cli
from tests.sla_service import BACKENDS, TOKEN, database_url
from tests.test_sla_corrections import NOW, T0, W0, _iso, week_prometheus  # noqa: F401 (fixture)

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SLI = {
    "events": {
        "errors": 'sum(rate(raw_total{code="500"}[{{window}}]))',
        "total": "sum(rate(raw_total[{{window}}]))",
    }
}
# Two teams: ops (shop: maint, plain; the backfilled data) and data (lake: other; no data at all).
CATALOG = Catalog.model_validate(
    {
        "teams": [
            {"name": "ops", "owners": ["o@example.com"]},
            {"name": "data", "owners": ["d@example.com"]},
        ],
        "services": [{"name": "shop", "team": "ops"}, {"name": "lake", "team": "data"}],
        "slos": [
            {"name": "maint", "service": "shop", "objective": 99.9, "sli": SLI},
            {"name": "plain", "service": "shop", "objective": 99.9, "sli": SLI},
            {"name": "other", "service": "lake", "objective": 99.0, "sli": SLI},
        ],
    }
)


@pytest.fixture(params=BACKENDS)
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def api(engine_url: str, week_prometheus: str) -> Iterator[tuple[TestClient, Any]]:  # noqa: F811
    engine = make_engine(resolve_url(engine_url))
    upgrade(engine)
    settings = ServiceSettings(SecretStr(TOKEN), prometheus_url=week_prometheus)
    state = ServiceState(engine, settings, {"shop": "ops", "lake": "data"}, catalog=CATALOG)
    yield TestClient(create_app(state), raise_server_exceptions=False), engine
    engine.dispose()


def _bulk(engine: Any, rows: list[tuple[str, str, datetime, datetime]]) -> None:
    """Rows written straight to the store (as a store filled before the maxima existed would hold)."""
    now = datetime.now(UTC)
    values = [
        {"scope": s, "name": n, "starts_at": a, "ends_at": b, "reason": "bulk", "created_at": now}
        for s, n, a, b in rows
    ]
    with engine.begin() as connection:
        connection.execute(insert(CorrectionRow), values)


def _plain(api: TestClient, path: str = "team/ops") -> dict[str, Any]:
    response = api.get(
        f"/api/v1/reports/{path}", params={"window": "previous-week", "at": _iso(NOW)}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    return next(r for r in response.json()["rows"] if r["name"] == "plain")


def _post(api: TestClient, start: datetime, minutes: float, slo: str = "plain") -> Any:
    body = {"slo": slo, "start": _iso(start), "end": _iso(start + timedelta(minutes=minutes)), "reason": "r"}
    return api.post("/api/v1/corrections", json=body, headers=AUTH)


def test_every_stored_correction_applies_past_ten_thousand(
    api: tuple[TestClient, Any],
    week_prometheus: str,  # noqa: F811
) -> None:
    client, engine = api
    # 10,000 touching 12 s corrections on maint from W0 (all starting before T0: the oldest), then the one
    # on plain covering the outage [T0, T0 + 1 h): 10,001 rows. A read limit of 10,000 (oldest first) lost
    # the last one. maint's merge into ONE interval [W0, W0 + 33 h 20 m): 3 queries, not 30,000.
    maint = [
        ("slo", "maint", W0 + timedelta(seconds=12 * i), W0 + timedelta(seconds=12 * (i + 1)))
        for i in range(10_000)
    ]
    _bulk(engine, [*maint, ("slo", "plain", T0, T0 + timedelta(hours=1))])
    report = make_report(CATALOG, connect(week_prometheus), "previous-week", NOW, engine)
    plain = next(r for r in report.rows["slo"] if r.name == "plain").figures
    # As in test_posted_corrections_are_stored_and_honoured: the 60 bad samples are the corrected ones;
    # 10,020 samples and 2,004 steps left -> 10,020 min; budget 0.001 x (10,080 - 60) = 10.02: Healthy.
    assert (plain.attainment, plain.covered_minutes, plain.excluded_minutes) == (1.0, 10_020, 60)
    assert plain.status is Status.HEALTHY
    m = next(r for r in report.rows["slo"] if r.name == "maint").figures
    assert m.excluded_minutes == 2000  # 10,000 x 12 s
    assert _plain(client)["status"] == "Healthy"
    # The store is full (10,001 >= MAX_TOTAL): a new correction is refused, nothing stored.
    refused = _post(client, T0 + timedelta(days=1), 5)
    assert refused.status_code == 409 and "nothing stored" in refused.text, refused.text


def test_at_most_max_per_scope_are_stored(
    api: tuple[TestClient, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = api
    monkeypatch.setattr(store, "MAX_PER_SCOPE", 3)
    codes = [_post(client, T0 + timedelta(minutes=10 * i), 5).status_code for i in range(3)]
    assert codes == [201, 201, 201]
    fourth = _post(client, T0 + timedelta(minutes=40), 5)
    assert fourth.status_code == 409, fourth.text
    assert "already has 3 corrections" in fourth.text and "DELETE /api/v1/corrections" in fourth.text
    assert _post(client, T0, 5).status_code == 200  # a repeat is still answered (idempotent)
    assert _post(client, T0, 5, slo="maint").status_code == 201  # another scope has room
    listed = client.get("/api/v1/corrections", headers=AUTH).json()
    assert len(listed["items"]) == 4 and listed["next_cursor"] is None


def test_the_list_is_paginated(api: tuple[TestClient, Any]) -> None:
    client, _ = api
    ids = [_post(client, T0 + timedelta(minutes=10 * i), 5).json()["id"] for i in range(7)]
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/corrections", params=params, headers=AUTH)
        assert page.status_code == 200, page.text
        seen += [c["id"] for c in page.json()["items"]]
        pages += 1
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert (seen, pages) == (ids, 3)  # 3 + 3 + 1, oldest first, each once
    for bad in ({"limit": 0}, {"limit": 1001}, {"cursor": "bm90LWEtY3Vyc29y"}, {"cursor": "%%%"}):
        response = client.get("/api/v1/corrections", params=bad, headers=AUTH)
        assert response.status_code == 422, (bad, response.text)
    default = client.get("/api/v1/corrections", headers=AUTH).json()
    assert len(default["items"]) == 7 and default["next_cursor"] is None


def test_a_correction_can_be_deleted(api: tuple[TestClient, Any]) -> None:
    client, _ = api
    assert _plain(client)["status"] == "Exhausted"
    posted = _post(client, T0, 60)
    assert posted.status_code == 201 and _plain(client)["status"] == "Healthy"
    path = f"/api/v1/corrections/{posted.json()['id']}"
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        assert client.delete(path, headers=headers).status_code == 401
    assert client.delete(path, headers=AUTH).status_code == 204
    assert client.delete(path, headers=AUTH).status_code == 404
    assert client.delete("/api/v1/corrections/0", headers=AUTH).status_code == 422
    assert client.get("/api/v1/corrections", headers=AUTH).json()["items"] == []
    # Back to the figures of test_a_catalog_correction_keeps_the_outage_out_of_the_budget's `plain`.
    row = _plain(client)
    assert row["status"] == "Exhausted" and row["budget_consumed_minutes"] == pytest.approx(60.0)


def _queries(prometheus_url: str) -> float:
    """Instant queries Prometheus has answered so far (its own counter, read from /metrics)."""
    with urllib.request.urlopen(f"{prometheus_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(r'prometheus_http_requests_total\{code="200",handler="/api/v1/query"\} (\S+)', text)
    return float(found.group(1)) if found else 0.0


def _count(api: TestClient, prometheus_url: str, path: str) -> float:
    before = _queries(prometheus_url)
    params = {"window": "previous-week", "at": _iso(NOW)}  # `at`: computed, never from the cache
    response = api.get(f"/api/v1/reports/{path}", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    return _queries(prometheus_url) - before


def test_corrections_of_other_slos_cost_a_report_nothing(
    api: tuple[TestClient, Any],
    week_prometheus: str,  # noqa: F811
) -> None:
    client, engine = api
    # Without corrections: 5 queries (errors, total, covered over the window; the 1h and 6h ratios).
    assert _count(client, week_prometheus, "team/ops") == 5
    # 1,000 disjoint 1-minute corrections on `other` (team data), 2 minutes apart: ops' report is unchanged.
    other = [
        ("slo", "other", W0 + timedelta(minutes=2 * i), W0 + timedelta(minutes=2 * i + 1))
        for i in range(1000)
    ]
    _bulk(engine, other)
    assert _count(client, week_prometheus, "team/ops") == 5
    # One correction on plain: 3 more (one batch of one interval).
    assert _post(client, T0, 60).status_code == 201
    assert _count(client, week_prometheus, "team/ops") == 8
    # data's own report: 1,000 intervals in batches of 50 -> 20 batches x 3 = 60, plus the 5.
    assert _count(client, week_prometheus, "team/data") == 65


def test_the_cli_reads_posted_corrections_with_database(
    api: tuple[TestClient, Any],
    engine_url: str,
    week_prometheus: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    client, _ = api
    catalog_file = tmp_path / "catalog.yaml"
    catalog_file.write_text(yaml.safe_dump(CATALOG.model_dump(mode="json", exclude_unset=True)))
    assert _post(client, T0, 60).status_code == 201
    common = [str(catalog_file), "--prometheus", week_prometheus, "--window", "previous-week"]
    common += ["--at", _iso(NOW), "--team", "ops", "--format", "json"]
    with_db = run_cli("report", *common, "--database", engine_url)
    assert with_db.code == 0, with_db.output
    assert "corrections posted to the API" not in with_db.stderr
    api_team = client.get(
        "/api/v1/reports/team/ops", params={"window": "previous-week", "at": _iso(NOW)}, headers=AUTH
    ).json()
    assert json.loads(with_db.stdout) == api_team  # the CLI and the API agree
    plain = next(r for r in json.loads(with_db.stdout)["rows"] if r["name"] == "plain")
    assert (plain["status"], plain["excluded_minutes"]) == ("Healthy", 60)  # figures as above
    without = run_cli("report", *common)
    assert without.code == 0, without.output
    assert "warning:" in without.stderr and "corrections posted to the API" in without.stderr
    plain = next(r for r in json.loads(without.stdout)["rows"] if r["name"] == "plain")
    assert (plain["status"], plain["excluded_minutes"]) == ("Exhausted", 0)
