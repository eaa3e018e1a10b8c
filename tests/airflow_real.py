"""Start a real Airflow 3 (api-server, scheduler, dag-processor) from its own environment, run a DAG that
succeeds and one that fails, and hand back its URL and login.

Airflow is not a project dependency: point `WATCHKEEPER_AIRFLOW` at the `airflow` executable of a separate
environment, e.g.

    uv venv -p 3.11 /opt/airflow3
    VIRTUAL_ENV=/opt/airflow3 uv pip install apache-airflow==3.0.6 pyjwt==2.10.1 fastapi==0.116.1 \
        "starlette<0.48" pydantic==2.11.7 "cadwyn<5.5" msgspec==0.19.0 structlog==25.4.0
    export WATCHKEEPER_AIRFLOW=/opt/airflow3/bin/airflow

The pins stand in for Airflow's constraints file (not reachable from here): newer pyjwt refuses Airflow
3.0's token without an issuer, and newer fastapi/pydantic/cadwyn break its task-execution API. It takes
about two minutes to migrate its database, start and run both DAGs. `python -m tests.airflow_real record DIR` stores the
REST answers it gives, which is how `tests/fixtures/airflow/v2/` was recorded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tests.prometheus_stack import free_port, wait_for

USER, PASSWORD = "watchkeeper", "wk-airflow-pass"
DAGS = """
from datetime import datetime
from airflow.sdk import DAG
from airflow.providers.standard.operators.python import PythonOperator


def ok():
    return 1


def boom():
    raise RuntimeError("the failing DAG fails")


with DAG("wk_ok", start_date=datetime(2024, 1, 1), schedule=None, catchup=False, is_paused_upon_creation=False):
    PythonOperator(task_id="load", python_callable=ok)

with DAG("wk_fail", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False, is_paused_upon_creation=False):
    PythonOperator(task_id="load", python_callable=boom, retries=0)
"""


@dataclass
class RealAirflow:
    url: str
    token: str

    def get(self, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def count(self, path: str) -> int:
        """`total_entries` of a collection."""
        return int(self.get(path)["total_entries"])

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)


def login(url: str) -> str:
    request = urllib.request.Request(
        f"{url}/auth/token",
        data=json.dumps({"username": USER, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        token: str = json.load(response)["access_token"]
        return token


@contextmanager
def real_airflow(airflow: str) -> Iterator[RealAirflow]:
    """Airflow 3 on a free port with both DAGs run to their end (wk_ok succeeded, wk_fail failed)."""
    home = Path(tempfile.mkdtemp(prefix="wk-airflow-"))
    (home / "dags").mkdir()
    (home / "dags" / "wk_dags.py").write_text(DAGS)
    (home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(airflow).parent}:{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": "watchkeeper-test-secret",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    }
    subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, check=True, timeout=300)
    processes = []
    commands = [["api-server", "--workers", "1"], ["scheduler"], ["dag-processor"]]
    try:
        for command in commands:
            log = (home / f"{command[0]}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [airflow, *command], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: login(url), 180, "the Airflow api-server to log in", interval=1)
        api = RealAirflow(url, login(url))
        for dag in ("wk_ok", "wk_fail"):
            wait_for(partial(api.get, f"/api/v2/dags/{dag}"), 180, f"Airflow to parse {dag}", interval=1)
            api.post(f"/api/v2/dags/{dag}/dagRuns", {"logical_date": None})
        for dag, state in (("wk_ok", "success"), ("wk_fail", "failed")):
            ended = partial(api.count, f"/api/v2/dags/{dag}/dagRuns?state={state}")
            wait_for(ended, 240, f"{dag} to end {state}", interval=2)
            unfinished = partial(api.count, f"/api/v2/dags/{dag}/dagRuns?state=queued&state=running")
            wait_for(lambda u=unfinished: u() == 0, 240, f"every {dag} run to end", interval=2)  # type: ignore[misc]
        yield api
    finally:
        for process in processes:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(home, ignore_errors=True)


def record(out: Path) -> None:
    """Store the answers watchkeeper's Airflow probe reads, from a real Airflow 3 (see the module doc)."""
    airflow = os.environ["WATCHKEEPER_AIRFLOW"]
    with real_airflow(airflow) as api:
        out.mkdir(parents=True, exist_ok=True)
        version = api.get("/api/v2/version")
        pages = {
            "dag_wk_ok.json": "/api/v2/dags/wk_ok",
            "dag_wk_fail.json": "/api/v2/dags/wk_fail",
            "runs_wk_ok.json": "/api/v2/dags/wk_ok/dagRuns?order_by=-end_date",
            "runs_wk_fail.json": "/api/v2/dags/wk_fail/dagRuns?order_by=-end_date",
        }
        for name, path in pages.items():
            (out / name).write_text(json.dumps(api.get(path), indent=1) + "\n")
        (out / "version.json").write_text(json.dumps(version, indent=1) + "\n")
        print(f"recorded Airflow {version['version']} into {out}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "record":
        raise SystemExit("usage: python -m tests.airflow_real record DIR")
    record(Path(sys.argv[2]))
