"""Airflow freshness through the stable REST API: v1 (Airflow 2) and v2 (Airflow 3, JWT from /auth/token).

No Airflow runs in the default test environment, so a loopback server (tests/airflow_fixture_server.py)
serves stored objects with the filters the API documents:
- v1: objects written to the Airflow 2.10.5 OpenAPI spec (v1.yaml from the apache-airflow 2.10.5 wheel),
  validated here against that spec's schemas;
- v2: answers recorded from a real Airflow 3.0.6 (tests/airflow_real.py), validated against its spec.
With WATCHKEEPER_AIRFLOW pointing at an Airflow 3 installation, the last test runs a real Airflow: a DAG
run that succeeds and one that fails (about two minutes).
Expected values are worked out by hand from the fixtures, in the comments.
"""

from __future__ import annotations

import calendar
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from exporters import names as m
from exporters.freshness import FreshnessCollector
from tests.airflow_fixture_server import FakeAirflow, fake_airflow
from tests.conftest import FIXTURES
from tests.freshness_helpers import entry, errors, scrape, up

V1, V2 = FIXTURES / "airflow" / "v1", FIXTURES / "airflow" / "v2"
CLOCK_V1 = 1714636800.0  # 2024-05-02T08:00:00Z
CLOCK_V2 = 1795352400.0  # 2026-11-22T13:00:00Z, half an hour after the recording


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


def _utc(text: str) -> float:
    """ISO 8601 UTC to Unix seconds with calendar.timegm: a reference apart from the code under test."""
    whole, _, fraction = text.replace("Z", "").replace("+00:00", "").partition(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float(f"0.{fraction or 0}")


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema (`type: [T, "null"]`, or null among the choices)."""
    if isinstance(node, dict):
        out = {k: _nullable(v) for k, v in node.items() if k not in ("nullable", "readOnly", "deprecated")}
        if node.get("nullable"):
            if "type" in out:
                out["type"] = [out["type"], "null"]
            elif "$ref" in out or "allOf" in out or "anyOf" in out:
                out = {"anyOf": [out, {"type": "null"}]}
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        return out
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


def _validate(doc: Any, spec: Path, name: str) -> None:
    defs = _nullable(_load(spec)["$defs"])
    jsonschema.validate(doc, {"$ref": f"#/$defs/{name}", "$defs": defs})


def test_the_fixtures_match_airflows_openapi_schemas() -> None:
    _validate(_load(V1 / "dag_orders_daily.json"), V1 / "openapi_schemas.json", "DAG")
    _validate(_load(V1 / "runs_orders_daily.json"), V1 / "openapi_schemas.json", "DAGRunCollection")
    for dag in ("wk_ok", "wk_fail"):  # recorded from Airflow 3.0.6: the spec and the server agree
        _validate(_load(V2 / f"dag_{dag}.json"), V2 / "openapi_schemas.json", "DAGResponse")
        _validate(_load(V2 / f"runs_{dag}.json"), V2 / "openapi_schemas.json", "DAGRunCollectionResponse")
    with pytest.raises(jsonschema.ValidationError):  # the check can fail: a run without its state
        broken = _load(V2 / "runs_wk_ok.json")
        del broken["dag_runs"][0]["state"]
        _validate(broken, V2 / "openapi_schemas.json", "DAGRunCollectionResponse")


def _v1() -> FakeAirflow:
    runs = _load(V1 / "runs_orders_daily.json")["dag_runs"]
    return FakeAirflow(
        1,
        {"orders_daily": _load(V1 / "dag_orders_daily.json")},
        {"orders_daily": runs},
        "wk",
        "pw",
        lambda: CLOCK_V1,
    )


def _v2(now: list[float]) -> FakeAirflow:
    dags = {d: _load(V2 / f"dag_{d}.json") for d in ("wk_ok", "wk_fail")}
    runs = {d: _load(V2 / f"runs_{d}.json")["dag_runs"] for d in ("wk_ok", "wk_fail")}
    return FakeAirflow(2, dags, runs, "watchkeeper", "wk-airflow-pass", lambda: now[0])


def _source(dataset: str, url: str, dag: str, version: int, password_env: str, user: str) -> dict[str, Any]:
    return {
        "airflow": {
            "url": url,
            "dag_id": dag,
            "api_version": version,
            "auth": {"basic": {"username": user, "password_env": password_env}},
        }
    }


def test_airflow2_v1_freshness_failures_running_and_lateness(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WK_AIRFLOW_PW", "pw")
    with fake_airflow(_v1()) as airflow:
        config = entry("orders", **_source("orders", airflow.url, "orders_daily", 1, "WK_AIRFLOW_PW", "wk"))
        found = scrape(FreshnessCollector(config, clock=lambda: CLOCK_V1))
    labels = {"dataset": "orders", "dag_id": "orders_daily"}
    assert up(found, "orders") == 1, errors(found, "orders")
    # last success ended 2024-05-01T01:09:41.283711Z = 1714521600 + 4181.283711 = 1714525781.283711
    assert found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset="orders") == pytest.approx(1714525781.283711)
    assert found.value(m.FRESHNESS_AGE_SECONDS, dataset="orders") == pytest.approx(111018.716289)
    # failed runs ending after 2024-05-01T08:00Z: only the 05-02T01:20 one (04-21 is outside the 1d lookback)
    assert found.value(m.AIRFLOW_FAILED_RUNS, **labels) == 1
    assert found.value(m.AIRFLOW_LAST_RUN_FAILED, **labels) == 1  # the newest finished run failed
    assert found.value(m.AIRFLOW_RUNNING_RUNS, **labels) == 1
    assert found.value(m.AIRFLOW_RUNNING_DURATION_SECONDS, **labels) == 5400  # running since 06:30
    assert found.value(m.AIRFLOW_NEXT_RUN_OVERDUE_SECONDS, **labels) == 7200  # due to start at 06:00
    assert found.value(m.AIRFLOW_DAG_PAUSED, **labels) == 0


def test_airflow3_v2_takes_a_jwt_once_and_logs_in_again_when_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WK_AIRFLOW_PW", "wk-airflow-pass")
    now = [CLOCK_V2]
    with fake_airflow(_v2(now)) as airflow:
        ok = FreshnessCollector(
            entry("ok", **_source("ok", airflow.url, "wk_ok", 2, "WK_AIRFLOW_PW", "watchkeeper")),
            clock=lambda: now[0],
        )
        failing = FreshnessCollector(
            entry("fail", **_source("fail", airflow.url, "wk_fail", 2, "WK_AIRFLOW_PW", "watchkeeper")),
            clock=lambda: now[0],
        )
        found = scrape(ok, failing)
        assert up(found, "ok") == 1 and up(found, "fail") == 1, (errors(found, "ok"), errors(found, "fail"))
        ended = _utc(_load(V2 / "runs_wk_ok.json")["dag_runs"][0]["end_date"])  # 2026-11-22T12:29:55.339688Z
        assert found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset="ok") == pytest.approx(ended)
        assert found.value(m.FRESHNESS_AGE_SECONDS, dataset="ok") == pytest.approx(CLOCK_V2 - ended)
        ok_labels, fail_labels = (
            {"dataset": "ok", "dag_id": "wk_ok"},
            {"dataset": "fail", "dag_id": "wk_fail"},
        )
        assert found.value(m.AIRFLOW_LAST_RUN_FAILED, **ok_labels) == 0
        assert found.value(m.AIRFLOW_LAST_RUN_FAILED, **fail_labels) == 1
        assert found.value(m.AIRFLOW_FAILED_RUNS, **fail_labels) == 2  # the scheduled and the manual run
        assert math.isinf(found.value(m.FRESHNESS_AGE_SECONDS, dataset="fail") or 0)  # never succeeded
        assert found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset="fail") is None
        assert found.value(m.AIRFLOW_NEXT_RUN_OVERDUE_SECONDS, **fail_labels) == 0  # next run due tomorrow
        assert found.value(m.AIRFLOW_NEXT_RUN_OVERDUE_SECONDS, **ok_labels) is None  # unscheduled DAG
        assert airflow.logins == 2  # one per source
        scrape(ok, failing)
        assert airflow.logins == 2  # the tokens are reused
        now[0] += 3600  # past the 1h token's expiry (less the minute's margin)
        assert up(scrape(ok, failing), "ok") == 1
        assert airflow.logins == 4
        airflow.revoke()  # Airflow restarted with a new secret: the first scrape fails, the next logs in
        assert errors(scrape(ok), "ok") == {"auth": 1}
        assert up(scrape(ok), "ok") == 1 and airflow.logins == 5


def test_airflow_faults_have_their_kinds_and_the_other_sources_keep_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WK_RIGHT", "wk-airflow-pass")
    monkeypatch.setenv("WK_WRONG", "not-it")
    marker = tmp_path / "_SUCCESS"
    marker.touch()
    now = [CLOCK_V2]
    with fake_airflow(_v2(now)) as v2, fake_airflow(_v1()) as v1, fake_airflow(_v2(now)) as broken:
        broken.status = 500

        def source(name: str, url: str, dag: str, version: int, env: str, user: str) -> FreshnessCollector:
            return FreshnessCollector(
                entry(name, **_source(name, url, dag, version, env, user)), clock=lambda: now[0]
            )

        sources = [
            source("wrong-jwt-login", v2.url, "wk_ok", 2, "WK_WRONG", "watchkeeper"),
            source("wrong-basic", v1.url, "orders_daily", 1, "WK_WRONG", "wk"),
            source("no-such-dag", v2.url, "nope", 2, "WK_RIGHT", "watchkeeper"),
            source("http-500", broken.url, "wk_ok", 2, "WK_RIGHT", "watchkeeper"),
            source("refused", "http://127.0.0.1:1", "wk_ok", 2, "WK_RIGHT", "watchkeeper"),
            source("good", v2.url, "wk_ok", 2, "WK_RIGHT", "watchkeeper"),
            FreshnessCollector(entry("file", file={"path": str(marker)})),
        ]
        found = scrape(*sources)
        v2.malformed = True
        truncated = scrape(sources[5])
    expected = {
        "wrong-jwt-login": "auth",  # POST /auth/token answered 401
        "wrong-basic": "auth",  # GET answered 401
        "no-such-dag": "not_found",
        "http-500": "http_status",
        "refused": "connection",
    }
    for dataset, kind in expected.items():
        assert up(found, dataset) == 0 and errors(found, dataset) == {kind: 1}, (
            dataset,
            errors(found, dataset),
        )
    assert up(found, "good") == 1 and up(found, "file") == 1
    assert errors(truncated, "good") == {"parse": 1}


@pytest.mark.skipif(
    not os.environ.get("WATCHKEEPER_AIRFLOW"), reason="set WATCHKEEPER_AIRFLOW (tests/airflow_real.py)"
)
def test_a_real_airflow3_run_that_succeeds_and_one_that_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.airflow_real import PASSWORD, USER, real_airflow

    monkeypatch.setenv("WK_AIRFLOW_PW", PASSWORD)
    with real_airflow(os.environ["WATCHKEEPER_AIRFLOW"]) as api:
        ok = FreshnessCollector(entry("ok", **_source("ok", api.url, "wk_ok", 2, "WK_AIRFLOW_PW", USER)))
        failing = FreshnessCollector(
            entry("fail", **_source("fail", api.url, "wk_fail", 2, "WK_AIRFLOW_PW", USER))
        )
        before = time.time()
        found = scrape(ok, failing)
        after = time.time()
        run = api.get("/api/v2/dags/wk_ok/dagRuns?state=success")["dag_runs"][0]
        failed = api.get("/api/v2/dags/wk_fail/dagRuns?state=failed")["total_entries"]
    ended = _utc(run["end_date"])
    assert up(found, "ok") == 1 and up(found, "fail") == 1, (errors(found, "ok"), errors(found, "fail"))
    assert found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset="ok") == pytest.approx(ended)
    age = found.value(m.FRESHNESS_AGE_SECONDS, dataset="ok")
    assert age is not None and before - ended - 1 <= age <= after - ended + 1
    assert found.value(m.AIRFLOW_LAST_RUN_FAILED, dataset="ok", dag_id="wk_ok") == 0
    assert found.value(m.AIRFLOW_LAST_RUN_FAILED, dataset="fail", dag_id="wk_fail") == 1
    assert found.value(m.AIRFLOW_FAILED_RUNS, dataset="fail", dag_id="wk_fail") == failed >= 1
    assert math.isinf(found.value(m.FRESHNESS_AGE_SECONDS, dataset="fail") or 0)
