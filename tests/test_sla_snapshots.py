"""Monthly snapshots and `watchkeeper sla backfill`, on the REAL Prometheus and backfill of
tests/test_sla_reports_prometheus.py (Oct 28 to now), on SQLite and PostgreSQL.

Hand computations for October 2026 (budget over the whole month, 31 x 1,440 = 44,640 min): samples
Oct 28 00:00:30 .. Oct 31 23:59:30 = 5,760, covering 1,152 five-minute steps = 5,760 min.
- pay (99.9%): ratio 0.0005: attainment 0.9995, consumed 0.0005 x 5,760 = 2.88 of 44.64 min. Healthy.
- find (99%): ratio 0.001 (its outage is in November): attainment 0.999, consumed 5.76 of 446.4 min.
- ghost: no data, not stored. September: no data at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine

from api.app import create_app
from api.service_state import ServiceSettings, ServiceState
from sla.report_math import Figures, Status
from sla.snapshots import Snapshot
from sla.store.engine import make_engine, resolve_url
from sla.store.migrate import upgrade
from sla.store.snapshots import OpenMonthError, read_snapshots, write_snapshots
from tests import test_sla_reports_prometheus as base
from tests.conftest import run_cli
from tests.sla_service import BACKENDS, TOKEN, database_url

stack = base.stack
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OCTOBER = {
    "pay": {"attainment": 0.9995, "consumed": 2.88, "total": 44.64},
    "find": {"attainment": 0.999, "consumed": 5.76, "total": 446.4},
}


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snapshots") / "catalog.yaml"
    path.write_text(yaml.safe_dump(base.CATALOG.model_dump(mode="json", exclude_unset=True)))
    return path


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    with database_url(request.param, tmp_path) as url:
        engine = make_engine(resolve_url(url))
        upgrade(engine)
        yield url, engine
        engine.dispose()


def _check_october(engine: Engine) -> None:
    stored = read_snapshots(engine)
    assert [(s.snapshot.month, s.snapshot.slo) for s in stored] == [("2026-10", "pay"), ("2026-10", "find")]
    for s in stored:
        f, want = s.snapshot.figures, OCTOBER[s.snapshot.slo]
        assert f.attainment == pytest.approx(want["attainment"])
        assert f.covered_minutes == 5760
        assert f.budget_consumed_minutes == pytest.approx(want["consumed"])
        assert f.budget_total_minutes == pytest.approx(want["total"])
        assert f.status is Status.HEALTHY


def test_backfill_writes_the_missing_closed_months_once(
    stack: tuple[str, int, int], catalog_file: Path, database: tuple[str, Engine]
) -> None:
    url, engine = database
    args = ("sla", "backfill", str(catalog_file), "--prometheus", stack[0], "--database", url)
    first = run_cli(*args, "--since", "2026-09")
    assert first.code == 0, first.output
    assert "2026-09: 0 snapshots written, 3 SLOs without data" in first.stderr
    assert "2026-10: 2 snapshots written, 1 SLOs without data" in first.stderr
    assert first.stdout.strip() == "2 snapshots written"
    _check_october(engine)
    again = run_cli(*args, "--since", "2026-10")
    assert again.code == 0 and again.stdout.strip() == "0 snapshots written"
    _check_october(engine)
    # Immutable: writing October again with other figures changes nothing; an open month is refused.
    pay = next(s.snapshot for s in read_snapshots(engine, slo="pay"))
    other = dataclasses.replace(pay, figures=dataclasses.replace(pay.figures, attainment=0.5))
    assert write_snapshots(engine, [other], datetime.now(UTC)) == 0
    _check_october(engine)
    november = dataclasses.replace(pay, month="2026-11")
    with pytest.raises(OpenMonthError, match="2026-11 has not ended"):
        write_snapshots(engine, [november], datetime(2026, 11, 30, 23, 59, tzinfo=UTC))


def test_backfill_errors_are_clear(catalog_file: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    bad = run_cli(
        "sla", "backfill", str(catalog_file), "--prometheus", "http://127.0.0.1:9", "--database", db
    )
    assert bad.code == 1 and "Prometheus is unreachable" in bad.stderr and "Traceback" not in bad.output
    month = run_cli(
        "sla", "backfill", str(catalog_file), "--prometheus", "x", "--database", db, "--since", "10-2026x"
    )
    assert month.code == 2 and "write it like 2026-10" in month.stderr


def _api(engine: Engine, prometheus_url: str) -> TestClient:
    settings = ServiceSettings(SecretStr(TOKEN), prometheus_url=prometheus_url)
    teams = {s.name: s.team for s in base.CATALOG.services}
    return TestClient(create_app(ServiceState(engine, settings, teams, catalog=base.CATALOG)))


def test_the_service_snapshots_the_closed_month_and_serves_history(
    stack: tuple[str, int, int], database: tuple[str, Engine]
) -> None:
    _, engine = database
    api = _api(engine, stack[0])
    assert api.get("/api/v1/reports/history").status_code == 401
    assert api.get("/api/v1/reports/history", headers=AUTH).json()["items"] == []
    # The first report after the month closed writes its snapshots.
    assert api.get("/api/v1/reports/slo/find", params={"window": "7d"}, headers=AUTH).status_code == 200
    _check_october(engine)
    items: list[dict[str, Any]] = api.get(
        "/api/v1/reports/history", params={"team": "payments"}, headers=AUTH
    ).json()["items"]
    assert [(i["month"], i["slo"], i["status"]) for i in items] == [("2026-10", "pay", "Healthy")]
    assert items[0]["budget_consumed_minutes"] == pytest.approx(2.88)


def test_previous_month_reports_fall_back_to_the_stored_snapshot(
    stack: tuple[str, int, int], database: tuple[str, Engine]
) -> None:
    _, engine = database
    # ghost has no data in Prometheus (as when retention dropped the month); its stored October is
    # reported, rollups included. pay has data: Prometheus' figures stand (0.9995), not the stored 0.5.
    ghost = Figures(
        0.995, 0.9991, 222.2, 5.184, 217.0, 0.0233, 0.9767, None, None, 0.18, None, 5760.0, Status.HEALTHY
    )
    pay = dataclasses.replace(ghost, objective=0.999, attainment=0.5)
    write_snapshots(
        engine,
        [
            Snapshot("search", "finder", "ghost", "2026-10", ghost, 0, 0),
            Snapshot("payments", "checkout", "pay", "2026-10", pay, 0, 0),
        ],
        datetime.now(UTC),
    )
    api = _api(engine, stack[0])
    at = datetime.fromtimestamp(stack[1], UTC).isoformat()
    body = api.get(
        "/api/v1/reports/platform", params={"window": "previous-month", "at": at}, headers=AUTH
    ).json()
    rows = {r["name"]: r for r in body["rows"]}
    assert rows["ghost"]["attainment"] == 0.9991 and rows["ghost"]["budget_consumed_minutes"] == 5.184
    assert rows["ghost"]["status"] == "Healthy"
    assert rows["pay"]["attainment"] == pytest.approx(0.9995)
    assert rows["search"]["covered_minutes"] == 2 * 5760  # find and ghost each 5,760 min
