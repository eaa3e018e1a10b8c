"""`GET /api/v1/reports/...` and `watchkeeper report` against the REAL Prometheus of
tests/test_sla_reports_prometheus.py (its backfill and its reference loops are reused, one Prometheus
per module), the app on a real SQLite ledger.

Expected numbers are hand computations (the previous month of `pay`, written out below) or the plain
loops over the written samples in that module (`reference`), never the report code.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.service_state import ServiceSettings, ServiceState
from sla.store.engine import make_engine, resolve_url
from sla.store.migrate import upgrade
from tests import test_sla_reports_prometheus as base
from tests.conftest import run_cli
from tests.prometheus_stack import free_port
from tests.sla_service import TOKEN

stack = base.stack  # the module-scoped real Prometheus with the backfill
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CATALOG = base.CATALOG
TEAMS = {s.name: s.team for s in CATALOG.services}
# The CSV's documented column order (docs/sla.md), typed out here rather than read from the code.
COLUMNS = [
    "level",
    "name",
    "service",
    "team",
    "window",
    "window_start",
    "window_end",
    "objective",
    "attainment",
    "budget_total_minutes",
    "budget_consumed_minutes",
    "budget_remaining_minutes",
    "budget_consumed_ratio",
    "budget_remaining_ratio",
    "burn_rate_1h",
    "burn_rate_6h",
    "period_burn_rate",
    "minutes_to_exhaustion",
    "covered_minutes",
    "status",
    "breach_count",
    "excluded_minutes",
]


def _client(tmp: Path, prometheus_url: str | None, public_read: bool = False) -> TestClient:
    engine = make_engine(resolve_url(f"sqlite:///{tmp / 'ledger.db'}"))
    upgrade(engine)
    settings = ServiceSettings(SecretStr(TOKEN), public_read=public_read, prometheus_url=prometheus_url)
    return TestClient(
        create_app(ServiceState(engine, settings, TEAMS, catalog=CATALOG)), raise_server_exceptions=False
    )


@pytest.fixture(scope="module")
def api(stack: tuple[str, int, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    client = _client(tmp_path_factory.mktemp("reports-api"), stack[0])
    yield client
    client.app.state.service.engine.dispose()  # type: ignore[attr-defined]


def _at(stack: tuple[str, int, int]) -> str:
    return datetime.fromtimestamp(stack[1], UTC).isoformat()


def get(api: TestClient, path: str, **params: Any) -> Any:
    response = api.get(f"/api/v1/reports/{path}", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def test_previous_month_slo_report_matches_the_hand_computation(
    api: TestClient, stack: tuple[str, int, int]
) -> None:
    body = get(api, "slo/pay", window="previous-month", at=_at(stack))
    # Oct 28 00:00:30 .. Oct 31 23:59:30: 5,760 samples at ratio 0.0005, covering 5,760 min; budget
    # 0.001 x 31 d x 1,440 = 44.64 min; consumed 0.0005 x 5,760 = 2.88; remaining 41.76 (93.5%).
    assert (body["level"], body["name"], body["window"]["name"]) == ("slo", "pay", "previous-month")
    assert (
        body["window"]["start"] == "2026-10-01T00:00:00Z" and body["window"]["end"] == "2026-11-01T00:00:00Z"
    )
    [row] = body["rows"]
    assert row["attainment"] == pytest.approx(0.9995)
    assert row["covered_minutes"] == 5760
    assert row["budget_total_minutes"] == pytest.approx(44.64)
    assert row["budget_consumed_minutes"] == pytest.approx(2.88)
    assert row["budget_remaining_ratio"] == pytest.approx(41.76 / 44.64)
    assert (row["status"], row["minutes_to_exhaustion"], row["breach_count"]) == ("Healthy", None, 0)


def test_service_and_team_reports_hold_their_rows(api: TestClient, stack: tuple[str, int, int]) -> None:
    _, at, data_end = stack
    service = get(api, "service/checkout", window="7d", at=_at(stack))
    assert [(r["level"], r["name"]) for r in service["rows"]] == [("service", "checkout"), ("slo", "pay")]
    ratio, covered = base.reference("pay", at - 7 * 86400, at, data_end)
    assert ratio is not None
    assert service["rows"][0]["attainment"] == pytest.approx(1 - ratio)  # a one-SLO rollup is the SLO
    assert service["rows"][1]["covered_minutes"] == pytest.approx(covered)
    team = get(api, "team/search", window="7d", at=_at(stack))
    assert [(r["level"], r["name"]) for r in team["rows"]] == [
        ("team", "search"),
        ("service", "finder"),
        ("slo", "find"),
        ("slo", "ghost"),
    ]
    assert team["rows"][0]["members"] == ["find", "ghost"]
    assert [r["status"] for r in team["rows"]][-1] == "No data"
    platform = get(api, "platform", window="7d", at=_at(stack))
    assert [r["level"] for r in platform["rows"]] == [
        "platform",
        "team",
        "team",
        "service",
        "service",
        *["slo"] * 3,
    ]
    # pay is At risk over 7d (a 1h burn of 20 empties the budget in hours, see the base module).
    assert platform["rows"][0]["status"] == "At risk"


def _csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


@pytest.mark.parametrize("how", ["accept", "query"])
def test_csv_parses_and_matches_the_json(api: TestClient, stack: tuple[str, int, int], how: str) -> None:
    params = {"window": "7d", "at": _at(stack)}
    as_json = get(api, "platform", **params)
    if how == "accept":
        response = api.get("/api/v1/reports/platform", params=params, headers={**AUTH, "Accept": "text/csv"})
    else:
        response = api.get("/api/v1/reports/platform", params={**params, "format": "csv"}, headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    header, rows = _csv_rows(response.text)
    assert header == COLUMNS
    assert len(rows) == len(as_json["rows"]) == 8
    for line, row in zip(rows, as_json["rows"], strict=True):
        assert line["window"] == "7d"
        for column in COLUMNS:
            if column in row and column not in {"status", "level", "name", "service", "team"}:
                expected = row[column]
                assert (float(line[column]) if line[column] else None) == expected, column
        assert (line["level"], line["name"], line["status"]) == (row["level"], row["name"], row["status"])
        assert line["service"] == (row["service"] or "") and line["team"] == (row["team"] or "")


@pytest.mark.parametrize("path", ["slo/pay", "service/checkout", "team/payments", "platform"])
def test_reads_need_the_token_unless_public_read(
    api: TestClient, path: str, stack: tuple[str, int, int], tmp_path: Path
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = api.get(f"/api/v1/reports/{path}", headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    public = _client(tmp_path, stack[0], public_read=True)
    assert public.get(f"/api/v1/reports/{path}", params={"window": "7d"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "code", "says"),
    [
        ("team/paymnts", {}, 404, "did you mean 'payments'"),
        ("service/chekout", {}, 404, "did you mean 'checkout'"),
        ("slo/nope", {}, 404, "unknown SLO 'nope'"),
        ("platform", {"window": "9d"}, 422, "previous-month"),
        ("platform", {"format": "xml"}, 422, "csv"),
        ("platform", {"at": "2026-11-01T00:00:00"}, 422, "timezone"),
    ],
)
def test_unknown_names_and_bad_parameters_are_clear_4xx(
    api: TestClient, path: str, params: dict[str, str], code: int, says: str
) -> None:
    response = api.get(f"/api/v1/reports/{path}", params=params, headers=AUTH)
    assert response.status_code == code, response.text
    assert says in response.text


def test_prometheus_down_or_missing_is_a_503(tmp_path: Path) -> None:
    down = _client(tmp_path, f"http://127.0.0.1:{free_port()}")
    response = down.get("/api/v1/reports/team/payments", headers=AUTH)
    assert response.status_code == 503
    assert "cannot compute the report: Prometheus query failed" in response.json()["detail"]
    assert "Traceback" not in response.text
    (tmp_path / "x").mkdir()
    none = _client(tmp_path / "x", None)
    response = none.get("/api/v1/reports/platform", headers=AUTH)
    assert response.status_code == 503 and "--prometheus" in response.json()["detail"]


def test_team_reports_are_cached_briefly(api: TestClient) -> None:
    first = get(api, "team/payments", window="28d")
    second = get(api, "team/payments", window="28d")
    assert second["generated_at"] == first["generated_at"]  # the same computation, served from memory
    other = get(api, "service/checkout", window="28d")
    assert other["generated_at"] != first["generated_at"]  # other levels are computed each time


def test_breaches_posted_to_the_ledger_appear_in_the_report(
    api: TestClient, stack: tuple[str, int, int]
) -> None:
    at = datetime.fromtimestamp(stack[1], UTC)
    starts = (at - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    ends = (at - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    alert = {
        "status": "resolved",
        "labels": {"alertname": "SLOBurnRateFast", "service": "checkout", "slo": "pay", "severity": "page"},
        "annotations": {},
        "startsAt": starts,
        "endsAt": ends,
    }
    body = {"version": "4", "status": "resolved", "receiver": "ledger", "alerts": [alert]}
    posted = api.post(
        "/api/v1/alerts", content=json.dumps(body), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert posted.status_code == 200, posted.text
    report = get(api, "team/payments", window="7d", at=at.isoformat())
    for row in report["rows"]:  # team payments, service checkout, slo pay: all carry it
        assert row["breach_count"] == 1
        [breach] = row["breaches"]
        assert (breach["alertname"], breach["team"], breach["duration_seconds"]) == (
            "SLOBurnRateFast",
            "payments",
            3600,
        )
    assert get(api, "slo/find", window="7d", at=at.isoformat())["rows"][0]["breach_count"] == 0
    # Outside the window: the previous month has none.
    assert get(api, "slo/pay", window="previous-month", at=at.isoformat())["rows"][0]["breach_count"] == 0


# The CLI: same content as the API (the previous month: no ledger breach in it, the CLI reads no ledger).


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reports-cli") / "catalog.yaml"
    path.write_text(yaml.safe_dump(CATALOG.model_dump(mode="json", exclude_unset=True)))
    return path


def test_cli_json_and_csv_equal_the_api(
    api: TestClient, stack: tuple[str, int, int], catalog_file: Path
) -> None:
    url, at = stack[0], _at(stack)
    common = [str(catalog_file), "--prometheus", url, "--window", "previous-month", "--at", at]
    cli = run_cli("report", *common, "--format", "json")
    assert cli.code == 0, cli.output
    assert json.loads(cli.stdout) == get(api, "platform", window="previous-month", at=at)
    cli_team = run_cli("report", *common, "--team", "payments", "--format", "csv")
    assert cli_team.code == 0, cli_team.output
    api_csv = api.get(
        "/api/v1/reports/team/payments",
        params={"window": "previous-month", "at": at, "format": "csv"},
        headers=AUTH,
    )
    assert cli_team.stdout == api_csv.text
    header, rows = _csv_rows(cli_team.stdout)
    assert header == COLUMNS and [r["name"] for r in rows] == ["payments", "checkout", "pay"]
    assert float(rows[2]["budget_consumed_minutes"]) == pytest.approx(2.88)  # hand computation above


def test_cli_table_and_errors(stack: tuple[str, int, int], catalog_file: Path) -> None:
    url, at = stack[0], _at(stack)
    table = run_cli(
        "report",
        str(catalog_file),
        "--prometheus",
        url,
        "--slo",
        "pay",
        "--window",
        "previous-month",
        "--at",
        at,
    )
    assert table.code == 0, table.output
    # 0.9995 -> 99.950%; remaining 41.76 min.
    assert (
        "pay" in table.stdout
        and "99.950%" in table.stdout
        and "41.8" in table.stdout
        and "Healthy" in table.stdout
    )
    unknown = run_cli("report", str(catalog_file), "--prometheus", url, "--team", "paymnts")
    assert unknown.code == 1 and "did you mean 'payments'" in unknown.stderr
    down = run_cli("report", str(catalog_file), "--prometheus", f"http://127.0.0.1:{free_port()}")
    assert down.code == 1 and "cannot compute the report" in down.stderr and "Traceback" not in down.output
    usage = run_cli("report", str(catalog_file), "--prometheus", url, "--window", "9d")
    assert usage.code == 2 and "previous-month" in usage.stderr
    both = run_cli("report", str(catalog_file), "--prometheus", url, "--team", "payments", "--slo", "pay")
    assert both.code == 2 and "at most one" in both.stderr


def test_cli_table_is_never_cut_and_names_are_checked_first(
    stack: tuple[str, int, int], catalog_file: Path
) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    url, at = stack[0], _at(stack)
    # In a pipe (CliRunner is not a terminal) and COLUMNS=80: the table is as wide as it needs.
    narrow = CliRunner().invoke(
        app,
        ["report", str(catalog_file), "--prometheus", url, "--window", "previous-month", "--at", at],
        env={"COLUMNS": "80", "NO_COLOR": "1"},
    )
    assert narrow.exit_code == 0, narrow.output
    assert "…" not in narrow.stdout and "exhausted in (h)" in narrow.stdout and "breaches" in narrow.stdout
    assert max(len(line) for line in narrow.stdout.splitlines()) > 80
    for line in narrow.stdout.splitlines():
        if "│ slo " in line and " pay " in line:  # one SLO row, on one line, ending with its breach count
            assert "99.950%" in line and "Healthy" in line and line.rstrip().endswith("│")
    # Every period of the catalog's closed list, to date and the previous one.
    for window in ("week", "previous-week", "previous-quarter", "90d"):
        result = run_cli(
            "report", str(catalog_file), "--prometheus", url, "--window", window, "--format", "json"
        )
        assert result.code == 0, result.output
        assert json.loads(result.stdout)["window"]["name"] == window
    # A typo is caught from the catalog, before Prometheus (here down) is contacted.
    down = f"http://127.0.0.1:{free_port()}"
    typo = run_cli("report", str(catalog_file), "--prometheus", down, "--team", "paymnts")
    assert typo.code == 1 and "did you mean 'payments'" in typo.stderr and "Prometheus" not in typo.stderr
