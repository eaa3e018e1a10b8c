"""Fixes from the review of issue 12 (freshness, GX results, inference docs), each on real components: the
Debian Pushgateway, SQLite files, the local PostgreSQL, the real great_expectations library, the real CLI.

Each test failed before its fix (the review's reproductions, /tmp/review12, turned into tests).
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exporters import names as m
from exporters.errors import ConfigError, ScrapeError
from exporters.freshness import MAX_SERIES, FreshnessCollector
from exporters.freshness_sql import to_count
from exporters.great_expectations import parse_validation, validation_metrics
from exporters.metric_set import MetricSet
from exporters.pushgateway import freshness_metrics, push
from tests.conftest import run_cli
from tests.exporter_process import EXE, ROOT
from tests.freshness_helpers import (
    PG_URL,
    entry,
    errors,
    failure,
    pushgateway,
    require_postgres,
    scrape,
    up,
)

NOT_NULL = "expect_column_values_to_not_be_null"


def _validation_doc(suite: str, columns: int, failed_column: str | None = None) -> dict[str, object]:
    """A GX 1.x validation result (the shape GX's `to_json_dict` writes): one not-null expectation per
    column, each with an unexpected count."""
    results = [
        {
            "success": f"c{i}" != failed_column,
            "expectation_config": {"type": NOT_NULL, "kwargs": {"column": f"c{i}"}},
            "result": {"unexpected_count": 0 if f"c{i}" != failed_column else 3},
        }
        for i in range(columns)
    ]
    return {
        "success": failed_column is None,
        "suite_name": suite,
        "results": results,
        "statistics": {
            "evaluated_expectations": columns,
            "unsuccessful_expectations": int(bool(failed_column)),
        },
        "meta": {"validation_time": "2026-01-01T00:00:00+00:00"},
    }


# --- 1. pushed freshness and pushed GX results of one dataset never flap ------------------------------


def test_pushed_freshness_is_read_from_its_own_group_not_the_quality_results_group(tmp_path: Path) -> None:
    """The Pushgateway lists groups in random order (a Go map): with 20 datasets each holding both a
    freshness group {job, dataset} and a quality group {job, dataset, suite}, a lookup that matched any
    group *containing* the labels hit the quality group (no timestamp) for about half of them per scrape."""
    t = int(time.time()) - 600
    datasets = [f"both.d{i}" for i in range(20)]
    with pushgateway(tmp_path) as url:
        for i, dataset in enumerate(datasets):
            metrics = MetricSet()
            validation_metrics(parse_validation(_validation_doc("s", 2), "doc"), dataset, metrics)
            push(url, "watchkeeper_batch", {"dataset": dataset, "suite": "s"}, metrics)
            push(url, "watchkeeper_batch", {"dataset": dataset}, freshness_metrics(dataset, t + i))
        only_gx = MetricSet()
        validation_metrics(parse_validation(_validation_doc("s", 1), "doc"), "gx.only", only_gx)
        push(url, "watchkeeper_batch", {"dataset": "gx.only", "suite": "s"}, only_gx)
        sources = [FreshnessCollector(entry(d, push={"pushgateway": url})) for d in datasets]
        gx_only = FreshnessCollector(entry("gx.only", push={"pushgateway": url}))
        for _ in range(5):  # each scrape reads the Pushgateway again, in a new random order
            found = scrape(*sources, gx_only)
            for i, dataset in enumerate(datasets):
                assert up(found, dataset) == 1, (dataset, errors(found, dataset))
                assert found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset=dataset) == t + i
            assert up(found, "gx.only") == 0 and errors(found, "gx.only") == {"not_found": 1}
            time.sleep(1.05)  # past SHARED_FOR: the next scrape reads the Pushgateway anew
        message = str(failure(gx_only))
        assert "nothing pushed" in message and "gx.only" in message


# --- 2. quality run: a bad suite is refused before it runs; GX noise; a failed run says why ----------


def _orders(tmp_path: Path) -> Path:
    data = tmp_path / "orders.csv"
    data.write_text("id,amount\n1,10\n2,20\n3,\n")  # by hand: amount has one empty cell of three
    return data


def _suite(tmp_path: Path, doc: object | str, name: str = "suite.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_an_unknown_expectation_type_is_refused_naming_it_and_nothing_runs(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        {
            "name": "typo",
            "expectations": [
                {"type": NOT_NULL, "kwargs": {"column": "id"}},
                {"type": "expect_no_such_thing", "kwargs": {"column": "id"}},
            ],
        },
    )
    results = tmp_path / "results"
    run = run_cli(
        "quality", "run", str(suite), "--dataset", "d", "--data", str(_orders(tmp_path)),
        "--no-push", "--results-dir", str(results),
    )  # fmt: skip
    assert run.code == 2, run.output  # a usage error, never green
    assert "expectations[1] (expect_no_such_thing)" in run.stderr
    assert "no expectation type 'expect_no_such_thing'" in run.stderr
    assert "passed" not in run.output and "Traceback" not in run.output
    assert not results.exists()  # nothing ran, nothing was stored


def test_bad_suites_and_queries_are_usage_errors_with_clear_messages(tmp_path: Path) -> None:
    data = str(_orders(tmp_path))
    truncated = _suite(tmp_path, '{"name": "t", "expectations": [{"type": "expect_col', "t.json")
    empty = _suite(tmp_path, {"name": "empty", "expectations": []}, "e.json")
    bad_kwargs = _suite(tmp_path, {"name": "k", "expectations": [{"type": NOT_NULL, "kwargs": {}}]}, "k.json")
    good = _suite(tmp_path, {"name": "g", "expectations": [{"type": NOT_NULL, "kwargs": {"column": "id"}}]})
    db = tmp_path / "w.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table orders (id integer, amount real)")
    url_file = tmp_path / "url"
    url_file.write_text(f"sqlite:///{db}")
    common = ["--dataset", "d", "--no-push", "--results-dir", str(tmp_path / "r")]
    cases = [
        ([str(truncated), "--data", data], "is not JSON (truncated?)"),
        ([str(empty), "--data", data], "is empty"),
        (
            [str(bad_kwargs), "--data", data],
            "expectations[0] (expect_column_values_to_not_be_null) is not valid",
        ),
        (
            [str(good), "--sql", "selec * from orders", "--url-file", str(url_file)],
            "must start with 'SELECT'",
        ),
    ]
    for args, words in cases:
        run = run_cli("quality", "run", *args, *common)
        assert run.code == 2, (args, run.output)
        assert words in run.stderr, (args, run.stderr)
        assert "validation error for" not in run.output and "Traceback" not in run.output


def test_a_failed_run_says_which_expectation_failed_and_why_without_gx_noise(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        {
            "name": "why",
            "expectations": [
                {"type": NOT_NULL, "kwargs": {"column": "no_such_column"}},
                {"type": NOT_NULL, "kwargs": {"column": "amount"}},
                {"type": NOT_NULL, "kwargs": {"column": "id"}},
            ],
        },
    )
    # a subprocess: the PySpark warning and the progress bars show only on a fresh import and a real stderr
    run = subprocess.run(
        [str(EXE), "quality", "run", str(suite), "--dataset", "d",
         "--data", str(_orders(tmp_path)), "--no-push", "--results-dir", str(tmp_path / "r")],
        capture_output=True, text=True, cwd=ROOT, check=False, env={"PATH": "/usr/bin:/bin", "COLUMNS": "300"},
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "FAILED: 2 of 3 expectations unmet" in run.stdout
    assert re.search(
        r"unmet: expect_column_values_to_not_be_null on column 'no_such_column': .*does not exist", run.stdout
    )
    assert (
        "unmet: expect_column_values_to_not_be_null on column 'amount': 1 unexpected value(s) of 3"
        in run.stdout
    )
    assert "column 'id'" not in run.stdout  # it passed
    for noise in ("Calculating Metrics", "FutureWarning", "Traceback", "it/s]"):
        assert noise not in output, noise


# --- 3, 4, 12. SQLite read-only, bad SQL, many rows, non-integer counts --------------------------------


def test_a_missing_sqlite_file_is_not_found_and_never_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite"
    source = FreshnessCollector(entry("gone", sql={"url": f"sqlite:///{missing}", "query": "select 1"}))
    found = scrape(source)
    assert up(found, "gone") == 0 and errors(found, "gone") == {"not_found": 1}
    assert str(missing) in str(failure(source))
    assert not missing.exists()


def test_sqlite_path_with_uri_characters_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "a dir#x"
    folder.mkdir()
    db = folder / "w.db"
    t = int(time.time()) - 60
    with sqlite3.connect(db) as conn:
        conn.execute("create table t (ts integer)")
        conn.execute("insert into t values (?)", (t,))
    found = scrape(
        FreshnessCollector(entry("odd", sql={"url": f"sqlite:///{db}", "query": "select max(ts) from t"}))
    )
    assert up(found, "odd") == 1, errors(found, "odd")
    assert found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset="odd") == t


def test_bad_sql_and_many_rows_are_parse_errors(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    t = int(time.time())
    with sqlite3.connect(db) as conn:
        conn.execute("create table t (ts integer, n integer)")
        conn.executemany("insert into t values (?, ?)", [(t - 60, 1), (t - 120, 2)])
    url = f"sqlite:///{db}"
    cases = {
        "typo": ("selec max(ts) from t", "syntax error"),
        "no-column": ("select max(nope) from t", "no such column"),
        "two-rows": ("select ts from t", "one row"),
    }
    sources = [
        FreshnessCollector(entry(name, sql={"url": url, "query": q})) for name, (q, _) in cases.items()
    ]
    found = scrape(*sources)
    for source, (name, (_, words)) in zip(sources, cases.items(), strict=True):
        assert errors(found, name) == {"parse": 1}, name
        assert words in str(failure(source)), name


@pytest.mark.postgres
def test_postgres_syntax_error_is_parse() -> None:
    require_postgres()
    source = FreshnessCollector(entry("pg-typo", sql={"url": PG_URL, "query": "selec now()"}))
    assert errors(scrape(source), "pg-typo") == {"parse": 1}


@pytest.mark.parametrize("value", [1.5, 10**15.5, -1.0])
def test_a_count_that_is_not_a_whole_number_is_refused(value: float) -> None:
    with pytest.raises(ScrapeError) as caught:
        to_count(True, value, "the count query")
    assert caught.value.kind == "parse" and "not a row count" in str(caught.value)


def test_a_whole_float_count_is_a_count() -> None:
    assert to_count(True, 1e15, "the count query") == 1e15  # SQLite's sum() of integers as a real


# --- 5. a database dying mid-scrape logs one structured line, no SQLAlchemy traceback ------------------


@pytest.mark.postgres
def test_a_connection_killed_mid_query_prints_no_pool_traceback() -> None:
    require_postgres()
    tag = f"wk_kill_{int(time.time() * 1000)}"
    code = f"""
import threading, time, subprocess
from tests.freshness_helpers import entry, scrape, errors
from exporters.freshness import FreshnessCollector
url = "{PG_URL}?application_name={tag}"
source = FreshnessCollector(entry("dies", timeout="10s", sql={{"url": url, "query": "select pg_sleep(5), now()"}}))
def kill():
    time.sleep(1.5)
    subprocess.run(["psql", "{PG_URL}", "-Atc",
        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = '{tag}'"], check=True, capture_output=True)
threading.Thread(target=kill).start()
found = scrape(source)
print(errors(found, "dies"))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "{'connection': 1.0}", run.stdout
    assert "Exception during reset" not in run.stderr and "Traceback" not in run.stderr, run.stderr


# --- 6, 7. push freshness: credentials in the URL, timestamps in the future ----------------------------


def test_push_refuses_credentials_in_the_url_without_echoing_them() -> None:
    for url in ("http://u:SECRETPW@127.0.0.1:9091", "u:SECRETPW@127.0.0.1:9091", "http://SECRETPW@host"):
        run = run_cli("push", "freshness", "d", "--pushgateway", url)
        assert run.code == 2, (url, run.output)
        assert "must not hold credentials" in run.stderr
        assert "SECRETPW" not in run.output


def test_push_refuses_a_time_in_the_future_and_the_exporter_says_so(tmp_path: Path) -> None:
    for stamp in ("2099-01-01T00:00:00Z", "99999999999", str(int(time.time()) + 3600)):
        run = run_cli("push", "freshness", "d", "--pushgateway", "http://127.0.0.1:1", "--timestamp", stamp)
        assert run.code == 2, (stamp, run.output)
        assert "in the future" in run.stderr
    near = str(int(time.time()) + 60)  # within the exporter's 5 minutes: a clock skew, accepted
    assert (
        run_cli("push", "freshness", "d", "--pushgateway", "http://127.0.0.1:1", "--timestamp", near).code
        == 3
    )
    with pushgateway(tmp_path) as url:  # a job that pushes by itself (not through the CLI)
        push(url, "watchkeeper_batch", {"dataset": "ahead"}, freshness_metrics("ahead", 4_070_908_800.0))
        source = FreshnessCollector(entry("ahead", push={"pushgateway": url}))
        assert errors(scrape(source), "ahead") == {"parse": 1}
        assert "in the future" in str(failure(source))


# --- 8. GX results are capped, the freshness kept, the rest counted ------------------------------------


def test_gx_results_are_capped_and_counted_freshness_first(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    columns = 6_000
    (results / "big.json").write_text(json.dumps(_validation_doc("big", columns, failed_column="c1")))
    marker = tmp_path / "_SUCCESS"
    marker.touch()
    source = FreshnessCollector(
        entry("wide", file={"path": str(marker)}, great_expectations={"results_dir": str(results)})
    )
    first = scrape(source)
    kept = [
        sample
        for family in first.families()
        for sample in family.samples
        if sample.labels.get("dataset") == "wide"
    ]
    # by hand: 2 freshness series + 4 per suite + 2 per column (6,000) = 12,006; 10,000 kept, 2,006 dropped
    assert MAX_SERIES == 10_000
    assert len(kept) == 10_000
    assert first.value(m.series_dropped(m.FRESHNESS_PREFIX), source="wide") == 2_006
    assert first.value(m.FRESHNESS_AGE_SECONDS, dataset="wide") is not None
    assert first.value(m.GE_VALIDATION_SUCCESS, dataset="wide", suite="big") == 0


# --- 9, 10, 11. the CLI: no emoji in problems, --only lists every kind, the example's comment ---------


def test_validate_prints_line_100_as_a_number_not_an_emoji(tmp_path: Path) -> None:
    catalog = tmp_path / "c.yaml"
    body = "\n" * 99 + "teams: 5\n"  # the error is on line 100
    catalog.write_text(body)
    run = run_cli("validate", str(catalog))
    assert run.code != 0
    assert ":100:" in run.output, run.output
    assert "\N{HUNDRED POINTS SYMBOL}" not in run.output


def test_exporter_help_lists_every_collected_kind() -> None:
    from exporters.sources import COLLECTORS

    run = run_cli("exporter", "--help")
    assert run.code == 0
    text = re.sub(r"[│\s]+", "", run.stdout)  # the help box wraps the list over lines
    listed = re.search(r"collect\(([a-z,]+)\)", text)
    assert listed is not None, run.stdout
    assert set(listed.group(1).split(",")) == set(COLLECTORS)
    assert {"freshness", "inference"} <= set(COLLECTORS)  # the kinds the review found missing


def test_the_examples_name_only_quality_run_options_that_exist() -> None:
    help_text = run_cli("quality", "run", "--help").stdout
    for path in (ROOT / "examples" / "catalog").glob("*.yaml"):
        for line in path.read_text().splitlines():
            if "quality run" in line:
                for option in re.findall(r"(--[a-z-]+)", line):
                    assert re.search(re.escape(option) + r"(?![a-z-])", help_text), (path.name, option)


# --- 13. a malformed database URL stops the exporter at start, without the URL -------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql://wk:SECRETPW@127.0.0.1:notaport/db", "port is not a number"),
        ("foodb://wk:SECRETPW@host/db", "dialect"),
        ("not a url SECRETPW", "not a SQLAlchemy URL"),
    ],
)
def test_a_malformed_url_in_the_environment_is_a_startup_error(
    url: str, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WK_R12_URL", url)
    with pytest.raises(ConfigError) as caught:
        FreshnessCollector(entry("bad-url", sql={"url_env": "WK_R12_URL", "query": "select 1"}))
    assert words in str(caught.value) and "bad-url" in str(caught.value)
    assert "SECRETPW" not in str(caught.value)


# --- 14. the documented limits ------------------------------------------------------------------------


def test_the_docs_state_the_gx_file_limit_and_redirects() -> None:
    from exporters.great_expectations import MAX_RESULT_BYTES

    text = (ROOT / "docs" / "exporters.md").read_text()
    assert MAX_RESULT_BYTES == 50 * 1024 * 1024 and "over 50 MB" in text
    assert "a 302 is a `status` error" in text
