"""Hostile requests from the review of issue 13, on SQLite and PostgreSQL: each gets a clear 4xx and
stores nothing. Wrong Content-Type (415), JSON nested too deep (400), a ledger time outside 1970-2200
(422), a month 13 (422), `sla backfill --since 1900-01` (exit 2); and HEAD on GET endpoints (200)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.body_guard import MAX_DEPTH
from api.service_state import ServiceSettings, ServiceState
from sla.store.engine import make_engine, resolve_url
from sla.store.migrate import upgrade
from tests.conftest import run_cli
from tests.sla_service import BACKENDS, TOKEN, database_url, payload
from tests.test_sla_corrections_scale import CATALOG

AUTH = {"Authorization": f"Bearer {TOKEN}"}
CORRECTION = {"slo": "plain", "start": "2026-11-02T00:00:00Z", "end": "2026-11-02T01:00:00Z", "reason": "r"}


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    with database_url(request.param, tmp_path) as url:
        engine = make_engine(resolve_url(url))
        upgrade(engine)
        state = ServiceState(engine, ServiceSettings(SecretStr(TOKEN)), {"shop": "ops"}, catalog=CATALOG)
        yield TestClient(create_app(state), raise_server_exceptions=False)
        engine.dispose()


def _nothing_stored(api: TestClient) -> None:
    assert api.get("/api/v1/corrections", headers=AUTH).json()["items"] == []
    assert api.get("/api/v1/breaches", headers=AUTH).json()["items"] == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
@pytest.mark.parametrize("path", ["/api/v1/corrections", "/api/v1/alerts"])
def test_a_body_that_is_not_declared_json_is_415(
    api: TestClient, path: str, content_type: str | None
) -> None:
    body = json.dumps(CORRECTION if path.endswith("corrections") else payload("bot_firing.json"))
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
    response = api.post(path, content=body.encode(), headers=headers)
    assert response.status_code == 415, response.text
    assert "send application/json" in response.json()["detail"]
    _nothing_stored(api)
    # The same body declared as JSON (also with a charset) is taken.
    ok = api.post(
        path, content=body.encode(), headers={**AUTH, "Content-Type": "application/json; charset=utf-8"}
    )
    assert ok.status_code in {200, 201}, ok.text


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
@pytest.mark.parametrize("path", ["/api/v1/corrections", "/api/v1/alerts"])
def test_json_nested_too_deep_is_400(api: TestClient, path: str, depth: int) -> None:
    body = '{"reason": ' + "[" * depth + "]" * depth + "}"
    response = api.post(path, content=body.encode(), headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert f"nested deeper than {MAX_DEPTH} levels" in detail and "nothing stored" in detail
    _nothing_stored(api)
    # Brackets inside a string are text, not nesting: this one is parsed (and refused for its content).
    inside = {**CORRECTION, "reason": "[" * 1000}
    assert api.post(path, json=inside, headers=AUTH).status_code in {201, 422}


def test_head_answers_every_get_endpoint(api: TestClient) -> None:
    for path in ("/healthz", "/api/v1/corrections", "/api/v1/breaches", "/api/v1/reports/history"):
        got = api.get(path, headers=AUTH)
        head = api.head(path, headers=AUTH)
        assert head.status_code == got.status_code == 200, (path, head.status_code)
        assert head.content == b"" and head.headers["content-length"] == str(len(got.content)), path
    assert api.head("/api/v1/corrections").status_code == 401  # HEAD needs the token as GET does


@pytest.mark.parametrize(
    ("field", "when"),
    [
        ("startsAt", "9999-12-31T00:00:00Z"),
        ("startsAt", "1969-12-31T23:59:59Z"),
        ("startsAt", "2200-01-02T00:00:00Z"),
        ("endsAt", "9999-12-31T00:00:00Z"),  # after startsAt (2018): only the range refuses it
    ],
)
def test_ledger_times_outside_1970_to_2200_are_422(api: TestClient, field: str, when: str) -> None:
    body: dict[str, Any] = copy.deepcopy(payload("bot_firing.json"))
    body["alerts"][0][field] = when
    if field == "endsAt":
        body["alerts"][0]["status"] = body["status"] = "resolved"
    response = api.post("/api/v1/alerts", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert "between 1970-01-01 and 2200-01-01" in response.text and "nothing stored" in response.text
    _nothing_stored(api)


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-1", "26-10"])
def test_history_refuses_a_month_that_does_not_exist(api: TestClient, month: str) -> None:
    response = api.get("/api/v1/reports/history", params={"month": month}, headers=AUTH)
    assert response.status_code == 422, response.text
    ok = api.get("/api/v1/reports/history", params={"month": "2026-12"}, headers=AUTH)
    assert ok.status_code == 200 and ok.json()["items"] == []


@pytest.mark.parametrize("since", ["1900-01", "1999-12"])
def test_backfill_refuses_months_before_2000(since: str, tmp_path: Path) -> None:
    catalog_file = tmp_path / "catalog.yaml"
    catalog_file.write_text(yaml.safe_dump(CATALOG.model_dump(mode="json", exclude_unset=True)))
    db = tmp_path / "x.db"
    result = run_cli(
        "sla", "backfill", str(catalog_file), "--prometheus", "http://127.0.0.1:9", "--database", f"sqlite:///{db}",
        "--since", since,
    )  # fmt: skip
    assert result.code == 2, result.output
    assert "months before 2000-01 are refused" in result.stderr and "Traceback" not in result.output
    assert not db.exists()  # refused before the database is touched
