"""`watchkeeper drift run | serve | history`: output formats, exit codes, bad arguments and catalogs, the
retraining trigger through the CLI (a real local webhook receiver), and `serve` as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, run_cli
from tests.prometheus_stack import wait_for
from tests.sla_service import BACKENDS, database_url
from tests.test_drift_triggers import receiver

EXE = ROOT / ".venv" / "bin" / "watchkeeper"
N = 300
HEAD = """
teams: [{name: mlops, owners: [ml@example.com]}]
services: [{name: churn-serving, team: mlops, tier: high}]
"""


def _data(root: Path) -> None:
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({"age": rng.normal(40, 5, N), "plan": rng.choice(["a", "b", "c"], N)})
    ref.to_parquet(root / "ref.parquet")
    # age shifted by 4 standard deviations: K-S p-value ~ 0 (drift); plan drawn like the reference
    cur = pd.DataFrame({"age": rng.normal(60, 5, N), "plan": rng.choice(["a", "b", "c"], N)})
    cur.to_csv(root / "cur.csv", index=False)
    ref.to_csv(root / "same.csv", index=False)


def _catalog(root: Path, extra: str = "", drift_share: float = 0.5) -> Path:
    _data(root)
    path = root / "catalog.yaml"
    path.write_text(
        HEAD
        + f"""
drift:
  - name: churn
    service: churn-serving
    reference: {{path: ref.parquet}}
    current: {{path: cur.csv}}
    columns: [age, plan]
    drift_share: {drift_share}
{extra}
  - name: steady
    service: churn-serving
    reference: {{path: ref.parquet}}
    current: {{path: same.csv}}
"""
    )
    return path


def test_run_table_shows_column_test_score_threshold_verdict(tmp_path: Path) -> None:
    result = run_cli("drift", "run", str(_catalog(tmp_path)), "churn")
    assert result.code == 1, result.output  # dataset drift: 1 of 2 columns >= 0.5
    header = next(line for line in result.stdout.splitlines() if "column" in line and "verdict" in line)
    assert [w for w in header.replace("┃", " ").split()] == [
        "column",
        "test",
        "score",
        "threshold",
        "verdict",
    ]
    age = next(line for line in result.stdout.splitlines() if line.strip("│ ").startswith("age"))
    assert "ks" in age and "0.05" in age and "drift" in age
    assert "churn: 1/2 columns drifted" in result.stdout
    assert "steady" not in result.stdout


def test_run_json_one_object_per_monitor(tmp_path: Path) -> None:
    result = run_cli("drift", "run", str(_catalog(tmp_path)), "--format", "json")
    assert result.code == 1, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["monitor"] for d in docs] == ["churn", "steady"]
    churn, steady = docs
    assert churn["dataset_drift"] is True and churn["drift_share"] == 0.5
    assert [(c["column"], c["stattest"], c["threshold"], c["drift"]) for c in churn["columns"]] == [
        ("age", "ks", 0.05, True),
        ("plan", "chisquare", 0.05, False),
    ]
    assert set(churn["columns"][0]) == {"column", "stattest", "score", "threshold", "drift"}
    assert steady["dataset_drift"] is False  # the reference against itself
    assert all(c["score"] == 1.0 for c in steady["columns"])  # identical samples: K-S and chi2 p = 1


def test_no_drift_exits_zero(tmp_path: Path) -> None:
    result = run_cli("drift", "run", str(_catalog(tmp_path)), "steady")
    assert result.code == 0, result.output
    assert "no drift" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["chrun"], "unknown drift monitor 'chrun'; did you mean 'churn'?"),
        (["--engine", "slow"], "--engine 'slow': use fast or evidently"),
        (["--format", "xml"], "--format 'xml': use table or json"),
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli("drift", "run", str(_catalog(tmp_path)), *args)
    assert result.code == 2 and message in result.stderr


def test_bad_catalogs_exit_2_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + "drift:\n  - {name: x, service: churn-serving, reference: {path: a.csv}}\n")
    result = run_cli("drift", "run", str(path))
    assert result.code == 2
    assert 'bad.yaml:5: drift[0] "x".current: missing' in result.stderr  # HEAD starts with a blank line
    empty = tmp_path / "empty" / "catalog.yaml"
    empty.parent.mkdir()
    empty.write_text(HEAD)
    result = run_cli("drift", "run", str(empty))
    assert result.code == 2 and "has no drift monitors" in result.stderr
    assert run_cli("drift", "run", str(tmp_path / "nope.yaml")).code == 2


def test_bad_input_exits_3_and_names_the_problem(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    pd.DataFrame({"age": ["old"] * 5, "plan": ["a"] * 5}).to_csv(tmp_path / "cur.csv", index=False)
    result = run_cli("drift", "run", str(catalog), "churn", "--format", "json")
    assert result.code == 3
    doc = json.loads(result.stdout)
    assert any("schema drift" in p for p in doc["problems"])
    pd.DataFrame({"age": [], "plan": []}).to_csv(tmp_path / "cur.csv", index=False)
    result = run_cli("drift", "run", str(catalog), "churn")
    assert result.code == 3 and "no verdict" in result.stdout and "empty" in result.stdout


def test_trigger_through_the_cli_then_cooldown_then_history(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'wk.db'}"
    with receiver() as hook:
        extra = f"    retrain: {{webhook: {{url: '{hook.url}'}}, cooldown: 1h}}"
        catalog = _catalog(tmp_path, extra)
        first = run_cli("drift", "run", str(catalog), "churn", "--database", database)
        assert first.code == 1, first.output
        assert "retraining: breach" in first.stdout and "succeeded" in first.stdout
        second = run_cli("drift", "run", str(catalog), "churn", "--database", database, "--format", "json")
        assert "suppressed by the cooldown" in json.loads(second.stdout)["trigger"]
        skipped = run_cli("drift", "run", str(catalog), "churn", "--no-trigger", "--database", database)
        assert "triggers disabled" in skipped.stdout
        assert len(hook.requests) == 1
        assert hook.bodies()[0]["drifted_columns"] == ["age"]
    history = run_cli("drift", "history", "churn", "--database", database, "--format", "json")
    assert history.code == 0
    assert [r["decision"] for r in json.loads(history.stdout)] == ["suppressed", "succeeded", "triggered"]
    table = run_cli("drift", "history", "churn", "--database", database)
    assert "suppressed" in table.stdout and "cooldown" in table.stdout
    none = run_cli("drift", "history", "other", "--database", database)
    assert "no trigger decisions recorded for other" in none.stdout


def test_missing_trigger_secret_exits_2_before_running(tmp_path: Path) -> None:
    os.environ.pop("WK_TEST_NO_SUCH_SECRET", None)
    extra = "    retrain: {webhook: {url: 'http://127.0.0.1:9/x', secret_env: WK_TEST_NO_SUCH_SECRET}}"
    result = run_cli(
        "drift", "run", str(_catalog(tmp_path, extra)), "--database", f"sqlite:///{tmp_path / 'w.db'}"
    )
    assert result.code == 2 and "WK_TEST_NO_SUCH_SECRET is not set" in result.stderr


def test_serve_runs_each_monitor_and_shows_the_next_runs(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(EXE), "drift", "serve", str(catalog), "--no-trigger"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
        )
    try:
        wait_for(lambda: "next drift runs" in log.read_text(), 120, "serve to run both monitors")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    text = log.read_text()
    assert proc.returncode == 0, text
    assert "churn: DRIFT (1/2 columns" in text and "steady: no drift" in text
    assert "next run" in text and "3600s" in text  # the default 1h schedule
    assert text.rstrip().endswith("stopped")


@pytest.mark.timeout(600)  # ten interpreters importing pandas on two shared cores: minutes under load
@pytest.mark.parametrize("backend", BACKENDS)
def test_ten_concurrent_cli_runs_on_a_fresh_database_trigger_once(backend: str, tmp_path: Path) -> None:
    """10 `watchkeeper drift run` processes at once, on a database none of them has migrated yet."""
    with database_url(backend, tmp_path) as database, receiver() as hook:
        extra = f"    retrain: {{webhook: {{url: '{hook.url}'}}, cooldown: 1h}}"
        catalog = _catalog(tmp_path, extra)
        args = [str(EXE), "drift", "run", str(catalog), "churn", "--database", database, "--format", "json"]
        procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(10)]
        outputs = [proc.communicate(timeout=300) for proc in procs]
        codes = [proc.returncode for proc in procs]
        assert codes == [1] * 10, [err.decode()[-500:] for _, err in outputs]
        triggers = sorted(json.loads(out)["trigger"].split(" (")[0].split(":")[0] for out, _ in outputs)
        assert len(hook.requests) == 1
        assert sum(t.startswith("breach") for t in triggers) == 1
        assert sum(t.startswith("suppressed by the cooldown") for t in triggers) == 9


def test_unreachable_pushgateway_exits_3_with_the_reason(tmp_path: Path) -> None:
    from tests.prometheus_stack import free_port

    gateway = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    result = run_cli("drift", "run", str(_catalog(tmp_path)), "steady", "--pushgateway", gateway)
    assert result.code == 3
    assert f"cannot reach the Pushgateway at {gateway}" in result.stdout


def test_history_is_read_only_a_mistyped_database_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    typo = tmp_path / "no-such-dir" / "wk.db"
    result = run_cli("drift", "history", "churn", "--database", f"sqlite:///{typo}")
    assert result.code == 2 and f"no database at {typo}" in result.stderr
    assert not typo.exists() and not typo.parent.exists()
    # an existing SQLite file that no trigger ever used: no tables are created in it either
    empty = tmp_path / "empty.db"
    empty.touch()
    result = run_cli("drift", "history", "churn", "--database", f"sqlite:///{empty}")
    assert result.code == 2 and "has no trigger audit table" in result.stderr
    import sqlite3

    with sqlite3.connect(empty) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_history_unknown_monitor_names_the_catalogs_monitors_or_the_recorded_ones(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'wk.db'}"
    with receiver() as hook:
        catalog = _catalog(tmp_path, f"    retrain: {{webhook: {{url: '{hook.url}'}}, cooldown: 1h}}")
        assert run_cli("drift", "run", str(catalog), "churn", "--database", database).code == 1
    wrong = run_cli("drift", "history", "chrun", "--catalog", str(catalog), "--database", database)
    assert wrong.code == 2 and "unknown drift monitor 'chrun'" in wrong.stderr
    assert "did you mean 'churn'" in wrong.stderr and "churn, steady" in wrong.stderr
    none = run_cli("drift", "history", "steady", "--database", database)
    assert none.code == 0 and "no trigger decisions recorded for steady (recorded: churn)" in none.stdout


def test_history_piped_is_not_cut_to_80_columns(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'wk.db'}"
    with receiver() as hook:
        catalog = _catalog(tmp_path, f"    retrain: {{webhook: {{url: '{hook.url}'}}, cooldown: 1h}}")
        assert run_cli("drift", "run", str(catalog), "churn", "--database", database).code == 1
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    piped = subprocess.run(
        [str(EXE), "drift", "history", "churn", "--database", database],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    # the whole "new breach; retraining via webhook <url>" detail is on one line, uncut
    assert f"new breach; retraining via webhook {hook.url}" in piped.stdout


def test_the_readme_drift_example_runs(tmp_path: Path) -> None:
    """examples/drift (README): "steady" has no drift; "shifted" moves age by 8 (1.6 standard deviations,
    K-S D ~ 0.58 against a 5% critical value of 1.36 * sqrt(2/500) ~ 0.086) and plan to mostly "team"."""
    example = ROOT / "examples" / "drift"
    result = run_cli("drift", "run", str(example), "--format", "json", "--reports", str(tmp_path / "r"))
    assert result.code == 1, result.output
    docs = {d["monitor"]: d for d in map(json.loads, result.stdout.splitlines())}
    assert docs["steady"]["dataset_drift"] is False
    shifted = {c["column"]: c["drift"] for c in docs["shifted"]["columns"]}
    assert docs["shifted"]["dataset_drift"] is True and shifted["age"] and shifted["plan"]
