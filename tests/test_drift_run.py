"""A drift monitor's run: loading real Parquet, CSV and SQLite data (only the monitor's columns), the bad
inputs (missing file or column, type changed, empty current window, all-NaN, a failing query), and the
per-run HTML report with its retention."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from catalog.model.drift import DataRef, DriftMonitor
from drift.data import DataError, load
from drift.report_html import prune
from drift.run import RunOptions, run_monitor

N = 400


def frames(shift: float = 0.0, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        {
            "age": rng.normal(40, 5, N),
            "plan": rng.choice(["a", "b", "c"], N),
            "income": rng.normal(50_000, 8_000, N),
            "secret": ["do-not-read"] * N,
        }
    )
    cur = pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 5, N),
            "plan": rng.choice(["a", "b", "c"], N),
            "income": rng.normal(50_000, 8_000, N),
            "secret": ["do-not-read"] * N,
        }
    )
    return ref, cur


def mon(reference: dict[str, Any], current: dict[str, Any], columns: list[str] | None = None) -> DriftMonitor:
    return DriftMonitor.model_validate(
        {
            "name": "churn",
            "service": "churn-serving",
            "reference": reference,
            "current": current,
            "columns": columns if columns is not None else ["age", "plan", "income"],
            "drift_share": 0.5,
        }
    )


def test_parquet_and_csv_read_only_the_monitor_columns(tmp_path: Path) -> None:
    ref, cur = frames()
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_csv(tmp_path / "cur.csv", index=False)
    loaded = load(DataRef(path="ref.parquet"), ["age", "plan"], tmp_path, "m")
    assert list(loaded.frame.columns) == ["age", "plan"] and len(loaded.frame) == N
    assert loaded.missing == []
    np.testing.assert_allclose(loaded.frame["age"], ref["age"])
    csv = load(DataRef(path=str(tmp_path / "cur.csv")), ["plan"], Path("/nonexistent"), "m")  # absolute path
    assert list(csv.frame.columns) == ["plan"] and list(csv.frame["plan"]) == list(cur["plan"])
    everything = load(DataRef(path="cur.csv"), [], tmp_path, "m")
    assert list(everything.frame.columns) == ["age", "plan", "income", "secret"]


def test_parquet_directory_is_one_dataset(tmp_path: Path) -> None:
    ref, _ = frames()
    (tmp_path / "parts").mkdir()
    ref.iloc[:100].to_parquet(tmp_path / "parts" / "a.parquet")
    ref.iloc[100:].to_parquet(tmp_path / "parts" / "b.parquet")
    loaded = load(DataRef(path="parts"), ["income"], tmp_path, "m")
    assert len(loaded.frame) == N and sorted(loaded.frame["income"]) == sorted(ref["income"])


def test_missing_column_is_listed_with_what_the_file_has(tmp_path: Path) -> None:
    ref, _ = frames()
    ref.to_parquet(tmp_path / "ref.parquet")
    loaded = load(DataRef(path="ref.parquet"), ["age", "agee"], tmp_path, "m")
    assert loaded.missing == ["agee"]
    message = loaded.missing_message("reference") or ""
    assert "ref.parquet has no column 'agee'" in message and "'age', 'plan', 'income', 'secret'" in message


def test_csv_with_a_utf8_bom_reads_the_first_column_by_its_name(tmp_path: Path) -> None:
    # Excel's "CSV UTF-8" starts with the byte-order mark EF BB BF (review 14: "no column 'a' (it has: \ufeffa")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbfa,b\n1,2\n3,4\n")
    loaded = load(DataRef(path="bom.csv"), ["a", "b"], tmp_path, "m")
    assert loaded.missing == [] and loaded.available == ["a", "b"]
    assert loaded.frame["a"].tolist() == [1, 3]
    # a name that differs only by invisible characters is shown so they can be seen
    (tmp_path / "space.csv").write_bytes(b"a ,b\n1,2\n")
    message = load(DataRef(path="space.csv"), ["a"], tmp_path, "m").missing_message("current") or ""
    assert "no column 'a' (it has: 'a ', 'b')" in message


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("nothing.parquet", None, "does not exist"),
        ("data.json", "{}", "neither Parquet nor CSV"),
        ("broken.parquet", "not a parquet file at all", "cannot read"),
        ("empty.csv", "", "is empty: a CSV needs a header"),
        ("latin1.csv", b"caf\xe9,x\n1,2\n", "not UTF-8"),
    ],
)
def test_unreadable_data_is_a_clear_error(tmp_path: Path, name: str, content: Any, expected: str) -> None:
    if isinstance(content, str):
        (tmp_path / name).write_text(content)
    elif isinstance(content, bytes):
        (tmp_path / name).write_bytes(content)
    with pytest.raises(DataError, match=expected) as error:
        load(DataRef(path=name), ["x"], tmp_path, "drift monitor churn reference")
    assert str(error.value).startswith("drift monitor churn reference: ")
    assert name in str(error.value)


def _sqlite(tmp_path: Path, frame: pd.DataFrame) -> str:
    path = tmp_path / "features.db"
    with sqlite3.connect(path) as connection:
        frame.to_sql("features", connection, index=False)
    return f"sqlite:///{path}"


def test_sql_query_with_url_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref, _ = frames()
    monkeypatch.setenv("WK_TEST_FEATURES_URL", _sqlite(tmp_path, ref))
    loaded = load(
        DataRef.model_validate(
            {"sql": {"url_env": "WK_TEST_FEATURES_URL", "query": "select * from features"}}
        ),
        ["age", "plan"],
        tmp_path,
        "m",
    )
    assert list(loaded.frame.columns) == ["age", "plan"] and len(loaded.frame) == N
    assert loaded.source.startswith("query on sqlite:///")


def test_bad_sql_and_missing_url_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref, _ = frames()
    monkeypatch.setenv("WK_TEST_FEATURES_URL", _sqlite(tmp_path, ref))
    bad = DataRef.model_validate(
        {"sql": {"url_env": "WK_TEST_FEATURES_URL", "query": "select * from featurez"}}
    )
    with pytest.raises(DataError, match=r"the query on sqlite:///.*failed: no such table: featurez$"):
        load(bad, ["age"], tmp_path, "m")
    monkeypatch.delenv("WK_TEST_FEATURES_URL")
    with pytest.raises(DataError, match="WK_TEST_FEATURES_URL is not set"):
        load(bad, ["age"], tmp_path, "m")


def _run(tmp_path: Path, ref: pd.DataFrame, cur: pd.DataFrame, **kwargs: Any) -> Any:
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_csv(tmp_path / "cur.csv", index=False)
    monitor = mon({"path": "ref.parquet"}, {"path": "cur.csv"}, kwargs.pop("columns", None))
    return run_monitor(monitor, RunOptions(base=tmp_path, **kwargs))


def test_a_clean_run_has_a_verdict_and_no_problems(tmp_path: Path) -> None:
    ref, cur = frames(shift=10.0)  # the mean of age moves by two standard deviations
    outcome = _run(tmp_path, ref, cur)
    assert outcome.ok and outcome.error is None
    assert outcome.result.current_rows == N
    verdicts = {c.column: c.drift for c in outcome.result.columns}
    assert verdicts["age"] is True
    doc = outcome.to_json()
    assert set(doc) >= {"monitor", "dataset_drift", "drift_share", "columns"}
    assert set(doc["columns"][0]) == {"column", "stattest", "score", "threshold", "drift"}


def test_missing_column_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    ref, cur = frames()
    outcome = _run(tmp_path, ref, cur.drop(columns=["plan"]))
    assert not outcome.ok and outcome.result is not None
    assert any("cur.csv has no column 'plan'" in p for p in outcome.problems)
    plan = next(c for c in outcome.result.columns if c.column == "plan")
    assert plan.drift and plan.problem and plan.score is None
    # an untested column has no threshold (review 14 saw "threshold 0")
    [doc] = [c for c in outcome.to_json()["columns"] if c["column"] == "plan"]
    assert doc["threshold"] is None and doc["score"] is None


def test_type_changed_is_schema_drift(tmp_path: Path) -> None:
    ref, cur = frames()
    cur["age"] = ["forty"] * N
    outcome = _run(tmp_path, ref, cur)
    assert not outcome.ok
    assert any("schema drift" in p and "'age'" in p for p in outcome.problems)


def test_empty_current_window_gives_no_verdict(tmp_path: Path) -> None:
    ref, cur = frames()
    outcome = _run(tmp_path, ref, cur.iloc[:0])
    assert outcome.result is None and outcome.error is not None and "empty" in outcome.error
    assert outcome.to_json()["dataset_drift"] is None


def test_all_nan_column_is_a_problem(tmp_path: Path) -> None:
    ref, cur = frames()
    cur["income"] = np.nan
    outcome = _run(tmp_path, ref, cur)
    assert not outcome.ok
    assert any("'income'" in p and "NaN" in p for p in outcome.problems)


def test_missing_file_gives_no_verdict(tmp_path: Path) -> None:
    monitor = mon({"path": "ref.parquet"}, {"path": "cur.csv"})
    outcome = run_monitor(monitor, RunOptions(base=tmp_path))
    assert outcome.result is None and "does not exist" in (outcome.error or "")


def test_html_report_written_and_pruned_to_keep(tmp_path: Path) -> None:
    ref, cur = frames(shift=10.0)
    reports = tmp_path / "reports"
    (reports / "churn").mkdir(parents=True)
    old = [reports / "churn" / f"2020010{i}T000000000000Z.html" for i in range(1, 4)]
    for path in old:
        path.write_text("old")
    (reports / "churn" / "notes.txt").write_text("not a report: kept")
    outcome = _run(tmp_path, ref, cur, reports=reports, keep=2)
    assert outcome.report is not None and outcome.report_error is None
    html = outcome.report.read_text(encoding="utf-8")
    assert "<html" in html.lower() and "age" in html
    left = sorted(p.name for p in (reports / "churn").iterdir())
    assert left == sorted([old[2].name, outcome.report.name, "notes.txt"])


def test_prune_order(tmp_path: Path) -> None:
    for name in ["20240101T000000000000Z.html", "20250101T000000000000Z.html", "20230101T000000000000Z.html"]:
        (tmp_path / name).write_text("x")
    deleted = prune(tmp_path, 1)
    assert sorted(p.name for p in deleted) == ["20230101T000000000000Z.html", "20240101T000000000000Z.html"]
    assert [p.name for p in tmp_path.iterdir()] == ["20250101T000000000000Z.html"]


@pytest.mark.parametrize("engine", ["fast", "evidently"])
def test_infinite_values_are_counted_in_a_note_and_leave_the_verdict(tmp_path: Path, engine: str) -> None:
    import warnings

    ref, cur = frames()
    clean = _run(tmp_path, ref, cur, engine=engine)
    # 3 reference and 5 current values replaced by +-inf (counted by hand): Evidently drops them as missing
    ref.loc[[0, 1, 2], "income"] = [np.inf, -np.inf, np.inf]
    cur.loc[[0, 1, 2, 3, 4], "income"] = np.inf
    cur.loc[[5], "income"] = np.nan  # NaN is an ordinary missing value, not counted
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = _run(tmp_path, ref, cur, engine=engine)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]  # numpy's, on inf input
    assert outcome.ok
    assert outcome.nonfinite == {"income": (3, 5)}
    assert outcome.result.dataset_drift == clean.result.dataset_drift
    [note] = outcome.to_json()["notes"]
    assert "'income': 3 reference / 5 current infinite value(s) dropped" in note
    [income] = [c for c in outcome.to_json()["columns"] if c["column"] == "income"]
    assert income["nonfinite_dropped"] == {"reference": 3, "current": 5}
