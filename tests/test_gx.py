"""Great Expectations 1.x with the real library: a suite with one passing and one failing expectation, run on
a pandas frame (a CSV file), on a SQLite table and on a PostgreSQL table, by `watchkeeper quality run`,
which pushes to a real Pushgateway; and a checkpoint run's stored results read by the exporter.

The data has two empty `amount` cells out of six rows, so by hand: `not_null(id)` passes with 0 unexpected,
`not_null(amount)` fails with exactly 2; 2 expectations evaluated, 1 failed, the suite failed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporters import names as m
from exporters.errors import ScrapeError
from exporters.freshness import FreshnessCollector
from exporters.great_expectations import parse_validation
from tests.conftest import run_cli
from tests.freshness_helpers import (
    PG_URL,
    entry,
    errors,
    pg_table,
    psql,
    pushgateway,
    require_postgres,
    samples,
    scrape,
    up,
)

FUZZ = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "60"))
ROWS = [(1, 10.0), (2, 20.0), (3, None), (4, 40.0), (5, None), (6, 60.0)]
SUITE: dict[str, Any] = {
    "name": "sales_checks",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "amount"}},
    ],
}
NOT_NULL = "expect_column_values_to_not_be_null"


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gx") / "sales_checks.json"
    path.write_text(json.dumps(SUITE))
    return path


def _csv(path: Path) -> Path:
    path.write_text("id,amount\n" + "".join(f"{i},{'' if a is None else a}\n" for i, a in ROWS))
    return path


def _pushed(url: str, dataset: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {k: v for k, v in samples(text).items() if dict(k[1]).get("dataset") == dataset}


def _key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def _check_pushed(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], dataset: str, started: float
) -> None:
    base = {"dataset": dataset, "suite": "sales_checks", "job": "watchkeeper_batch", "instance": ""}
    assert found[_key(m.GE_VALIDATION_SUCCESS, **base)] == 0
    assert found[_key(m.GE_EVALUATED_EXPECTATIONS, **base)] == 2
    assert found[_key(m.GE_FAILED_EXPECTATIONS, **base)] == 1
    assert started - 1 <= found[_key(m.GE_VALIDATION_TIMESTAMP_SECONDS, **base)] <= time.time() + 1
    for column, unexpected, success in (("id", 0, 1), ("amount", 2, 0)):
        labels = {**base, "expectation": NOT_NULL, "column": column}
        assert found[_key(m.GE_UNEXPECTED_COUNT, **labels)] == unexpected
        assert found[_key(m.GE_EXPECTATION_SUCCESS, **labels)] == success
    values = {str(v) for _, a in ROWS for v in (a, int(a) if a else a)}
    assert not {v for key in found for _, v in key[1]} & values  # no row value became a label


def test_a_suite_on_a_pandas_frame_is_pushed_and_stored(suite_file: Path, tmp_path: Path) -> None:
    data = _csv(tmp_path / "sales.csv")
    results = tmp_path / "results"
    with pushgateway(tmp_path) as url:
        started = time.time()
        run = run_cli(
            "quality", "run", str(suite_file), "--dataset", "sales.daily", "--data", str(data),
            "--pushgateway", url, "--results-dir", str(results),
        )  # fmt: skip
        assert run.code == 1, run.output  # the suite failed: the Airflow task fails too
        assert "suite sales_checks on sales.daily FAILED: 1 of 2 expectations unmet" in run.stdout
        _check_pushed(_pushed(url, "sales.daily"), "sales.daily", started)
    # the stored result, read by the exporter next to the dataset's freshness, gives the same numbers
    stored = FreshnessCollector(
        entry("sales.daily", file={"path": str(data)}, great_expectations={"results_dir": str(results)})
    )
    found = scrape(stored)
    assert up(found, "sales.daily") == 1, errors(found, "sales.daily")
    suite = {"dataset": "sales.daily", "suite": "sales_checks"}
    assert found.value(m.GE_VALIDATION_SUCCESS, **suite) == 0
    assert found.value(m.GE_UNEXPECTED_COUNT, **suite, expectation=NOT_NULL, column="amount") == 2
    assert found.value(m.GE_UNEXPECTED_COUNT, **suite, expectation=NOT_NULL, column="id") == 0


def test_a_suite_on_a_sqlite_table(suite_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with sqlite3.connect(tmp_path / "w.db") as db:
        db.execute("create table sales (id integer, amount real)")
        db.executemany("insert into sales values (?, ?)", ROWS)
    monkeypatch.setenv("WK_GX_URL", f"sqlite:///{tmp_path / 'w.db'}")
    with pushgateway(tmp_path) as url:
        started = time.time()
        run = run_cli(
            "quality", "run", str(suite_file), "--dataset", "sales.sqlite", "--sql", "select * from sales",
            "--url-env", "WK_GX_URL", "--pushgateway", url,
        )  # fmt: skip
        assert run.code == 1, run.output
        _check_pushed(_pushed(url, "sales.sqlite"), "sales.sqlite", started)


@pytest.mark.postgres
def test_a_suite_on_a_postgres_table_with_the_url_from_the_catalog(suite_file: Path, tmp_path: Path) -> None:
    require_postgres()
    with pg_table("id integer, amount double precision") as table, pushgateway(tmp_path) as url:
        psql(
            f"insert into {table} values "
            + ", ".join(f"({i}, {'null' if a is None else a})" for i, a in ROWS)
        )
        catalog = tmp_path / "c.yaml"
        catalog.write_text(
            "teams: [{name: t, owners: [a@example.com]}]\nservices: [{name: s, team: t}]\nsources:\n"
            "  freshness:\n    - dataset: sales.pg\n      service: s\n      max_age: 1d\n"
            f"      sql: {{url: '{PG_URL}', query: 'select now()'}}\n"
            "      great_expectations: {pushed: true}\n"
        )
        started = time.time()
        run = run_cli(
            "quality", "run", str(suite_file), "--dataset", "sales.pg", "--catalog", str(catalog),
            "--sql", f"select * from {table}", "--pushgateway", url,
        )  # fmt: skip
        assert run.code == 1, run.output
        _check_pushed(_pushed(url, "sales.pg"), "sales.pg", started)
        # the same suite passes once the rows are complete: exit 0, success 1
        psql(f"update {table} set amount = 0 where amount is null")
        again = run_cli(
            "quality", "run", str(suite_file), "--dataset", "sales.pg", "--catalog", str(catalog),
            "--sql", f"select * from {table}", "--pushgateway", url,
        )  # fmt: skip
        assert again.code == 0, again.output
        base = {"dataset": "sales.pg", "suite": "sales_checks", "job": "watchkeeper_batch", "instance": ""}
        assert _pushed(url, "sales.pg")[_key(m.GE_VALIDATION_SUCCESS, **base)] == 1


def test_a_checkpoint_runs_stored_results_are_read_from_the_results_dir(tmp_path: Path) -> None:
    import great_expectations as gx
    import pandas as pd  # type: ignore[import-untyped]

    context = gx.get_context(mode="file", project_root_dir=str(tmp_path))
    batch = context.data_sources.add_pandas("p").add_dataframe_asset("sales")
    definition = batch.add_batch_definition_whole_dataframe("all")
    suite = context.suites.add(gx.ExpectationSuite(**SUITE))
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name="v", data=definition, suite=suite)
    )
    checkpoint = context.checkpoints.add(gx.Checkpoint(name="nightly", validation_definitions=[validation]))
    frame = pd.DataFrame({"id": [r[0] for r in ROWS], "amount": [r[1] for r in ROWS]})
    before = time.time()
    assert checkpoint.run(batch_parameters={"dataframe": frame}).success is False
    results = tmp_path / "gx" / "uncommitted" / "validations"
    assert list(results.rglob("*.json")), "GX stored no validation result"
    (tmp_path / "_SUCCESS").touch()
    source = FreshnessCollector(
        entry(
            "sales",
            file={"path": str(tmp_path / "_SUCCESS")},
            great_expectations={"results_dir": str(results)},
        )
    )
    found = scrape(source)
    assert up(found, "sales") == 1, errors(found, "sales")
    suite_labels = {"dataset": "sales", "suite": "sales_checks"}
    assert found.value(m.GE_FAILED_EXPECTATIONS, **suite_labels) == 1
    assert found.value(m.GE_UNEXPECTED_COUNT, **suite_labels, expectation=NOT_NULL, column="amount") == 2
    stamp = found.value(m.GE_VALIDATION_TIMESTAMP_SECONDS, **suite_labels)
    assert stamp is not None and before - 1 <= stamp <= time.time() + 1  # GX's run time, not a file's mtime

    (results / "sales_checks" / "broken.json").write_text('{"results": [')  # a half-written result
    broken = scrape(source)
    assert up(broken, "sales") == 0 and errors(broken, "sales") == {"parse": 1}
    assert broken.value(m.FRESHNESS_AGE_SECONDS, dataset="sales") is not None  # freshness still served


def test_quality_run_refuses_bad_input_clearly(suite_file: Path, tmp_path: Path) -> None:
    data = _csv(tmp_path / "sales.csv")
    no_suite = tmp_path / "empty.json"
    no_suite.write_text('{"name": "x", "expectations": []}')
    cases: list[tuple[list[str], int, str]] = [
        ([str(suite_file), "--dataset", "d", "--pushgateway", "http://x:1"], 2, "exactly one of --data PATH or --sql"),
        ([str(no_suite), "--dataset", "d", "--data", str(data), "--no-push", "--results-dir", str(tmp_path)], 2, "is empty"),
        ([str(suite_file), "--dataset", "d", "--data", str(tmp_path / "missing.csv"), "--no-push", "--results-dir", str(tmp_path)], 3, "does not exist"),
        ([str(suite_file), "--dataset", "d", "--data", str(data)], 2, "no Pushgateway"),
        ([str(suite_file), "--dataset", "d", "--sql", "select 1", "--pushgateway", "http://x:1"], 2, "database URL"),
        ([str(suite_file), "--dataset", "d", "--data", str(data), "--pushgateway", "http://127.0.0.1:1"], 3, "cannot reach the Pushgateway"),
    ]  # fmt: skip
    for args, code, words in cases:
        result = run_cli("quality", "run", *args)
        assert result.code == code, (args, result.output)
        assert words in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
FIELDS = st.fixed_dictionaries(
    {"results": st.lists(JSON, max_size=3), "suite_name": JSON, "success": JSON},
    optional={"statistics": JSON, "meta": JSON},
)


@settings(max_examples=FUZZ, deadline=None)
@given(doc=JSON | FIELDS)
def test_any_json_gives_a_validation_or_a_parse_error(doc: Any) -> None:
    try:
        validation = parse_validation(doc, "fuzz.json")
    except ScrapeError as exc:
        assert exc.kind == "parse"
        return
    assert isinstance(validation.success, bool) and validation.suite
