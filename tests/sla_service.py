"""Helpers for the SLA service tests: a database per test on SQLite or the local PostgreSQL (a fresh
schema, dropped afterwards), the real `watchkeeper serve` as a subprocess, and the recorded payloads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import EXAMPLE_CATALOG, FIXTURES, IN_CI, ROOT
from tests.prometheus_stack import free_port

EXE = ROOT / ".venv" / "bin" / "watchkeeper"
WEBHOOKS = FIXTURES / "alertmanager_webhook"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOKEN = "wk-test-token-" + uuid.uuid4().hex  # unique, so finding it in a log is never a coincidence
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((WEBHOOKS / name).read_text(encoding="utf-8"))
    return data


def _pg_admin() -> Any:
    from sqlalchemy import create_engine

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except Exception as exc:
        engine.dispose()
        message = f"PostgreSQL is not reachable at 127.0.0.1:5432 ({type(exc).__name__})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return engine


@contextmanager
def database_url(backend: str, tmp_path: Path, password: str = "") -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema dropped afterwards.
    `password` goes into the PostgreSQL URL (trust auth ignores it) so tests can look for it in logs."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    from sqlalchemy import text

    admin = _pg_admin()
    schema = f"wk_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    user = f"postgres:{password}" if password else "postgres"
    try:
        yield f"postgresql+psycopg://{user}@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def post(self, body: Any, token: str | None = TOKEN) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{self.url}/api/v1/alerts", json=body, headers=headers, timeout=30)

    def breaches(self, **params: str) -> list[dict[str, Any]]:
        response = httpx.get(
            f"{self.url}/api/v1/breaches",
            params=params,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)


@contextmanager
def service(
    database: str, workdir: Path, *args: str, log_name: str = "serve.log", catalog: Path = EXAMPLE_CATALOG
) -> Iterator[Service]:
    """Run the real `watchkeeper serve` on `database` (for `catalog`); wait for /healthz; kill it afterwards."""
    port = free_port()
    log = workdir / log_name
    env = {**os.environ, "WATCHKEEPER_API_TOKEN": TOKEN, "NO_COLOR": "1", "COLUMNS": "200"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(EXE),
                "serve",
                str(catalog),
                "--listen",
                f"127.0.0.1:{port}",
                "--database",
                database,
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=workdir,
        )
    running = Service(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{running.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise AssertionError(f"watchkeeper serve exited with {proc.returncode}: {running.output()}")
            assert time.monotonic() < deadline, f"watchkeeper serve did not start: {running.output()}"
            time.sleep(0.1)
        yield running
    finally:
        running.kill()
