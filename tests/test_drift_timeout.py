"""`drift run|serve --timeout SECONDS` (issue 14): a run that takes too long is abandoned with a clear
error and fails like a run on unusable input (`run_failed` 1 pushed to a real Pushgateway, no verdict, exit
3); `serve` goes on with its other monitors and the next slot; bad values are refused with exit 2.

The slow sources are slow by construction, not mocked: a SQLite query counting to 2·10⁹ in a recursive
CTE (minutes; the first test measures it), and `pg_sleep` on the local PostgreSQL, whose query must be
cancelled on the server, not left running."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from catalog.model.drift import DriftMonitor
from drift import names as n
from drift.run import RunOptions, run_monitor
from tests.conftest import ROOT, run_cli
from tests.freshness_helpers import pushgateway
from tests.prometheus_stack import wait_for
from tests.sla_service import _pg_admin
from tests.test_drift_pushgateway import _group

EXE = ROOT / ".venv" / "bin" / "watchkeeper"
COUNT_TO = 2_000_000_000
SLOW_QUERY = (
    f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {COUNT_TO}) "
    "SELECT x * 1.0 AS age FROM c WHERE x % 1000000007 = 0"
)
TIMEOUT = 2


def _catalog(root: Path, slow_sql: str, schedule: str = "1h") -> Path:
    """`a-slow` reads `slow_sql` (on a SQLite file unless it names its URL); `b-quick` compares the
    reference with itself. Both columns normal(40, 5), 300 rows."""
    rng = np.random.default_rng(5)
    pd.DataFrame({"age": rng.normal(40, 5, 300)}).to_parquet(root / "ref.parquet")
    sql = (
        slow_sql
        if slow_sql.startswith("{")
        else f'{{url: "sqlite:///{root / "slow.db"}", query: "{slow_sql}"}}'
    )
    path = root / "catalog.yaml"
    path.write_text(
        f"""
teams: [{{name: mlops, owners: [ml@example.com]}}]
services: [{{name: churn-serving, team: mlops, tier: high}}]
drift:
  - {{name: a-slow, service: churn-serving, schedule: {schedule}, columns: [age],
     reference: {{path: ref.parquet}}, current: {{sql: {sql}}}}}
  - {{name: b-quick, service: churn-serving, schedule: {schedule},
     reference: {{path: ref.parquet}}, current: {{path: ref.parquet}}}}
"""
    )
    return path


def test_the_slow_query_is_slow_by_construction() -> None:
    # the same recursion to a ten-thousandth of its end, timed: the full query takes 10,000 times as long
    # (about 1 µs a row here under load: over half an hour; minutes on the fastest machine)
    with sqlite3.connect(":memory:") as db:
        start = time.perf_counter()
        rows = db.execute(SLOW_QUERY.replace(str(COUNT_TO), str(COUNT_TO // 10_000))).fetchall()
        elapsed = time.perf_counter() - start
    assert rows == []  # 200,000 < 1,000,000,007: the filter keeps nothing so early
    assert elapsed * 10_000 > 30 * TIMEOUT


@pytest.mark.parametrize("command", ["run", "serve"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "--timeout '0': give the seconds a run may take, a number above 0 (e.g. 600)"),
        ("-5", "--timeout '-5': give the seconds a run may take, a number above 0"),
        ("-0.5", "a number above 0"),
        ("nan", "--timeout 'nan': give the seconds a run may take"),
        ("inf", "--timeout 'inf': give the seconds a run may take"),
        ("abc", "--timeout 'abc' is not a number of seconds, e.g. --timeout 600 for ten minutes"),
        ("", "--timeout '' is not a number of seconds"),
        ("10m", "--timeout '10m' is not a number of seconds: in seconds, that is --timeout 600"),
        ("1h30m", "in seconds, that is --timeout 5400"),
        ("604801", "--timeout '604801': at most 604800 seconds (7 days, the longest schedule)"),
    ],
)
def test_bad_timeouts_exit_2_before_anything_runs(
    tmp_path: Path, command: str, value: str, message: str
) -> None:
    catalog = _catalog(tmp_path, SLOW_QUERY)
    result = run_cli("drift", command, str(catalog), f"--timeout={value}")
    assert result.code == 2, result.output
    assert message in result.stderr
    assert result.stdout == "" and "serving" not in result.stderr  # nothing ran, nothing was served


def test_a_negative_timeout_as_its_own_argument_is_refused_too(tmp_path: Path) -> None:
    result = run_cli("drift", "run", str(_catalog(tmp_path, SLOW_QUERY)), "--timeout", "-1")
    assert result.code == 2 and "--timeout '-1': give the seconds a run may take" in result.stderr


def test_a_hung_sqlite_query_is_abandoned_counted_as_failed_and_the_other_monitor_runs(
    tmp_path: Path,
) -> None:
    catalog = _catalog(tmp_path, SLOW_QUERY)
    with pushgateway(tmp_path) as pgw:
        start = time.monotonic()
        result = run_cli(
            "drift", "run", str(catalog), "--timeout", str(TIMEOUT), "--pushgateway", pgw, "--format", "json"
        )
        elapsed = time.monotonic() - start
        assert result.code == 3, result.output
        slow, quick = (json.loads(line) for line in result.stdout.splitlines())
        assert slow["monitor"] == "a-slow" and slow["dataset_drift"] is None and slow["columns"] == []
        assert slow["error"].startswith(
            f"drift monitor a-slow: abandoned after --timeout {TIMEOUT} s while loading the current data "
            "(a SQL query): a hung query or too much data?"
        )
        assert quick["monitor"] == "b-quick" and quick["dataset_drift"] is False and "error" not in quick
        # abandoned within the timeout, the grace (sqlite ignores SIGINT: killed 3 s later) and start-up
        assert elapsed < 90
        # pushed as a run on unusable input is: run_failed 1 and the attempt's time, no verdict
        pushed = _group(pgw, "a-slow")
        assert pushed[n.DRIFT_RUN_FAILED] == 1.0 and n.DRIFT_LAST_ATTEMPT_TIMESTAMP in pushed
        assert n.DRIFT_DETECTED not in pushed and n.DRIFT_LAST_RUN_TIMESTAMP not in pushed
        assert _group(pgw, "b-quick")[n.DRIFT_RUN_FAILED] == 0.0


def test_within_the_timeout_the_verdict_is_the_same_as_without(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, SLOW_QUERY)
    plain = run_cli("drift", "run", str(catalog), "b-quick", "--format", "json")
    bounded = run_cli("drift", "run", str(catalog), "b-quick", "--format", "json", "--timeout", "600")
    assert plain.code == bounded.code == 0, bounded.output
    assert json.loads(plain.stdout) == json.loads(bounded.stdout)
    assert (
        "loaded 300 reference and 300 current rows" in bounded.stderr
    )  # the child's events reach the caller


@pytest.mark.postgres
def test_a_pg_sleep_query_is_abandoned_and_cancelled_on_the_server(tmp_path: Path) -> None:
    admin = _pg_admin()
    marker = f"wk_timeout_{uuid.uuid4().hex[:12]}"
    query = f"select 40.0 + g as age, pg_sleep(60) as {marker} from generate_series(1, 3) g"
    sql = f'{{url: "postgresql://postgres@127.0.0.1:5432/test", query: "{query}"}}'
    catalog = _catalog(tmp_path, sql)

    def running() -> list[str]:
        from sqlalchemy import text

        with admin.connect() as connection:
            rows = connection.execute(
                text("select state from pg_stat_activity where query like :q and pid <> pg_backend_pid()"),
                {"q": f"%{marker}%"},
            )
            return [r[0] for r in rows]

    try:
        result = run_cli(
            "drift", "run", str(catalog), "a-slow", "--timeout", str(TIMEOUT), "--format", "json"
        )
        assert result.code == 3, result.output
        error = json.loads(result.stdout)["error"]
        assert f"abandoned after --timeout {TIMEOUT} s while loading the current data (a SQL query)" in error
        assert "postgres@" not in error  # the URL is not in the message
        # psycopg cancelled the query when interrupted: the server is not left sleeping for 3 minutes
        wait_for(lambda: running() == [], 10, "the abandoned query to leave pg_stat_activity")
    finally:
        admin.dispose()


def _children() -> set[int]:
    pids: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        pids |= {int(p) for p in (task / "children").read_text().split()}
    return pids


def test_a_run_whose_process_is_killed_fails_clearly_and_the_caller_survives(tmp_path: Path) -> None:
    # What the kernel's out-of-memory killer does to a run on a huge file: SIGKILL, from outside.
    catalog = _catalog(tmp_path, SLOW_QUERY)
    from catalog import load_catalog

    monitor: DriftMonitor = load_catalog(catalog).catalog.drift[0]
    before = _children()
    killed: list[int] = []

    def kill_the_run() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            new = _children() - before
            if new:
                time.sleep(1)  # let it reach the query
                for pid in new:
                    os.kill(pid, signal.SIGKILL)
                killed.extend(new)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_run, daemon=True)
    killer.start()
    outcome = run_monitor(monitor, RunOptions(base=tmp_path, timeout=300))
    killer.join(5)
    assert killed, "no run process was seen"
    assert outcome.result is None and not outcome.ok
    assert outcome.error is not None and outcome.error.startswith(
        "drift monitor a-slow: the run's process was killed by SIGKILL; out of memory?"
    )
    import multiprocessing

    assert multiprocessing.active_children() == []


@pytest.mark.timeout(400)
def test_serve_abandons_a_slow_run_runs_the_others_and_tries_again_at_the_next_slot(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, SLOW_QUERY, schedule="1m")
    log = tmp_path / "serve.log"
    with pushgateway(tmp_path) as pgw, log.open("wb") as out:
        proc = subprocess.Popen(
            [str(EXE), "drift", "serve", str(catalog), "--timeout", str(TIMEOUT), "--pushgateway", pgw],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "300", "NO_COLOR": "1"},
        )
        abandoned = f"a-slow: no verdict: drift monitor a-slow: abandoned after --timeout {TIMEOUT} s"
        try:
            # the first round at start, then the next slot of the 1m grid: a-slow is abandoned twice
            wait_for(lambda: log.read_text().count(abandoned) >= 2, 240, "two abandoned runs of a-slow")
            assert proc.poll() is None, log.read_text()
            pushed = _group(pgw, "a-slow")
            assert pushed[n.DRIFT_RUN_FAILED] == 1.0 and n.DRIFT_DETECTED not in pushed
            assert _group(pgw, "b-quick")[n.DRIFT_DETECTED] == 0.0
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    text = log.read_text()
    assert proc.returncode == 0, text
    assert f"each run within {TIMEOUT} s" in text
    first = text.index(abandoned)
    assert "b-quick: no drift" in text[first:]  # after a-slow was given up, b-quick still ran
    assert text.rstrip().endswith("stopped")
