"""Retraining through Airflow's stable REST API: `POST /api/v1/dags/{dag_id}/dagRuns` (Airflow 2, basic auth)
and `POST /api/v2/dags/{dag_id}/dagRuns` with a JWT from `POST /auth/token` (Airflow 3).

No Airflow runs here by default, so these tests serve the documented API from a local server (as
tests/airflow_fixture_server.py does for the freshness probe, whose auth and JWT handling it reuses):
the trigger body is checked as Airflow's models check it (v1 `DAGRun`: `dag_run_id`, `conf`; v2
`TriggerDAGRunPostBody`: extra keys forbidden, `logical_date` required but nullable), an existing
`dag_run_id` is a 409 Conflict as in Airflow, and a new run is answered with the DAG-run object. The DAG
object comes from the recorded Airflow 3.0.6 answers in tests/fixtures/airflow/v2/.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from catalog.model.drift import DriftMonitor
from drift import trigger_store as store
from drift.triggers import build_trigger
from tests.airflow_fixture_server import FakeAirflow
from tests.conftest import FIXTURES
from tests.test_drift_triggers import BODY, Clock, migrated_engine

DAG = json.loads((FIXTURES / "airflow" / "v2" / "dag_wk_ok.json").read_text(encoding="utf-8"))
USER, PASSWORD = "watchkeeper", "wk-airflow-pass"
V1_FIELDS = {"dag_run_id", "logical_date", "execution_date", "conf", "note"}
V2_FIELDS = {
    "dag_run_id",
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "run_after",
    "conf",
    "note",
}


class TriggerableAirflow(FakeAirflow):
    """FakeAirflow's auth plus the documented DAG-run trigger endpoint."""

    def trigger(self, path: str, body: bytes, auth: str | None) -> tuple[int, Any]:
        if not self._authorized(auth):
            return 401, {"detail": "Not authenticated"}
        if self.status is not None:
            return self.status, {"detail": "broken on purpose"}
        prefix = f"/api/v{self.version}/dags/"
        dag_id, _, rest = path.removeprefix(prefix).partition("/")
        if not path.startswith(prefix) or rest != "dagRuns":
            return 404, {"detail": "Not Found"}
        if dag_id not in self.dags:
            return 404, {"detail": f"DAG with dag_id: '{dag_id}' not found"}
        try:
            doc = json.loads(body)
        except ValueError:
            return 400, {"detail": "body is not JSON"}
        allowed = V1_FIELDS if self.version == 1 else V2_FIELDS
        if not isinstance(doc, dict) or set(doc) - allowed:
            return (400 if self.version == 1 else 422), {
                "detail": f"unexpected fields {sorted(set(doc) - allowed)}"
            }
        if self.version == 2 and "logical_date" not in doc:
            return 422, {"detail": [{"type": "missing", "loc": ["body", "logical_date"]}]}
        if not isinstance(doc.get("conf", {}), dict):
            return 400, {"detail": "conf must be an object"}
        run_id = doc.get("dag_run_id") or f"manual__{time.time()}"
        with self.lock:
            runs = self.runs.setdefault(dag_id, [])
            if any(r["dag_run_id"] == run_id for r in runs):
                return 409, {
                    "detail": f"DAGRun with dag_id: '{dag_id}' and run_id: '{run_id}' already exists"
                }
            run = {"dag_run_id": run_id, "dag_id": dag_id, "state": "queued", "conf": doc.get("conf", {})}
            runs.append(run)
        return 200, run


@contextmanager
def airflow(version: int) -> Iterator[TriggerableAirflow]:
    state = TriggerableAirflow(version, {DAG["dag_id"]: DAG}, {}, USER, PASSWORD, time.time)

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, doc: Any) -> None:
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests.append(f"POST {self.path}")
            if self.path == "/auth/token" and state.version == 2:
                self._send(*state.login(body))
            else:
                self._send(*state.trigger(self.path, body, self.headers.get("Authorization")))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def monitor(url: str, version: int, password_env: str = "WK_TEST_AIRFLOW_PASSWORD") -> DriftMonitor:
    return DriftMonitor.model_validate(
        {
            "name": "churn",
            "service": "churn-serving",
            "reference": {"path": "ref.parquet"},
            "current": {"path": "cur.parquet"},
            "retrain": {
                "airflow": {
                    "url": url,
                    "dag_id": DAG["dag_id"],
                    "api_version": version,
                    "auth": {"basic": {"username": USER, "password_env": password_env}},
                },
                "cooldown": "1h",
            },
        }
    )


@pytest.mark.parametrize("version", [1, 2])
def test_breach_triggers_one_dag_run_with_the_breach_as_run_id(
    version: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WK_TEST_AIRFLOW_PASSWORD", PASSWORD)
    with airflow(version) as server:
        engine = migrated_engine(f"sqlite:///{tmp_path / 'wk.db'}")
        clock = Clock()
        trigger = build_trigger(engine, monitor(server.url, version), clock=clock, sleep=clock.sleep)
        assert trigger is not None
        claim = trigger.breach(BODY)
        assert claim.breach is not None
        [run] = server.runs[DAG["dag_id"]]
        assert run["dag_run_id"] == f"watchkeeper_drift__{claim.breach.key}"
        assert run["conf"]["monitor"] == "churn" and run["conf"]["breach"] == claim.breach.key
        assert run["conf"]["drifted_columns"] == ["age"]
        expected = [f"POST /api/v{version}/dags/{DAG['dag_id']}/dagRuns"]
        assert server.requests == (["POST /auth/token"] if version == 2 else []) + expected
        # the same breach sent again (a restart after Airflow took it, before it was recorded): 409 = done
        outcome = trigger.sender.send(claim.breach.key, {"breach": claim.breach.key}, 5.0)
        assert outcome.ok and "409" in outcome.detail
        assert len(server.runs[DAG["dag_id"]]) == 1
        assert [d.decision for d in reversed(store.history(engine, "churn"))] == ["triggered", "succeeded"]


def test_v2_expired_jwt_is_renewed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WK_TEST_AIRFLOW_PASSWORD", PASSWORD)
    with airflow(2) as server:
        engine = migrated_engine(f"sqlite:///{tmp_path / 'wk.db'}")
        clock = Clock()
        trigger = build_trigger(engine, monitor(server.url, 2), clock=clock, sleep=clock.sleep)
        assert trigger is not None
        trigger.breach(BODY)
        server.revoke()  # the cached JWT is no longer accepted
        clock.now += 2 * 3600
        assert trigger.breach(BODY).breach is not None
        assert server.logins == 2
        assert len(server.runs[DAG["dag_id"]]) == 2


@pytest.mark.parametrize("version", [1, 2])
def test_wrong_password_fails_without_retries_and_is_audited(
    version: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WK_TEST_AIRFLOW_PASSWORD", "not-the-password")
    with airflow(version) as server:
        engine = migrated_engine(f"sqlite:///{tmp_path / 'wk.db'}")
        clock = Clock()
        trigger = build_trigger(engine, monitor(server.url, version), clock=clock, sleep=clock.sleep)
        assert trigger is not None
        trigger.breach(BODY)
        assert clock.sleeps == []  # 401 is not retried
        [breach] = store.breaches(engine, "churn")
        assert breach.state == "failed" and "HTTP 401" in (breach.last_error or "")
        assert "not-the-password" not in json.dumps([r.detail for r in store.history(engine)])
        assert DAG["dag_id"] not in server.runs


def test_airflow_unavailable_then_back_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WK_TEST_AIRFLOW_PASSWORD", PASSWORD)
    with airflow(1) as server:
        server.status = 503
        engine = migrated_engine(f"sqlite:///{tmp_path / 'wk.db'}")
        clock = Clock()

        def sleep(seconds: float) -> None:
            clock.sleep(seconds)
            server.status = None  # Airflow is back for the second attempt

        trigger = build_trigger(engine, monitor(server.url, 1), clock=clock, sleep=sleep, rng=lambda: 0.5)
        assert trigger is not None
        trigger.breach(BODY)
        assert clock.sleeps == [1.0]  # rng 0.5 x base 2 s x 2**0
        assert len(server.runs[DAG["dag_id"]]) == 1
        assert store.breaches(engine, "churn")[0].attempts == 2
