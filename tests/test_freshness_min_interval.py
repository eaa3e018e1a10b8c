"""Freshness sources reuse a result for `min_interval`: a burst of scrapes costs the database, Airflow, the
file system and the Great Expectations results directory one collection per interval, as the HTTP sources do.

The queries are counted by SQLite itself (a trace callback on the real connection: every statement the
library runs), the Airflow requests by the loopback Airflow server (tests/airflow_fixture_server.py, a
stand-in serving documented API responses: no Airflow runs here). Baselines with `min_interval: 1ms` show the
counts move when reuse is off, so the counting can fail.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from catalog.durations import Duration
from exporters import names as m
from exporters.freshness import FreshnessCollector
from exporters.freshness_sql import engine_for
from exporters.runtime import Runtime
from tests.airflow_fixture_server import fake_airflow
from tests.freshness_helpers import catalog, entry, errors
from tests.test_airflow import CLOCK_V2, _source, _v2

BURST = 40
"""Concurrent scrapes in a burst, as many Prometheus replicas and dashboards at once would send."""
QUERY = "select max(ts) from events"
COUNT_QUERY = "select count(*) from events"


@contextmanager
def runtime(*sources: FreshnessCollector) -> Iterator[Runtime]:
    running = Runtime(catalog(), list(sources))
    try:
        yield running
    finally:
        running.close()


def burst(running: Runtime, dataset: str, scrapes: int = BURST) -> list[float | None]:
    """`scrapes` concurrent scrapes from as many threads, released together; the age each one served."""
    gate = threading.Barrier(scrapes)
    ages: list[float | None] = [None] * scrapes

    def one(i: int) -> None:
        gate.wait()
        found = running.gather()
        ages[i] = found.value(m.FRESHNESS_AGE_SECONDS, dataset=dataset)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(scrapes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return ages


@contextmanager
def counted_sqlite(path: Path, timeout: float) -> Iterator[dict[str, int]]:
    """A SQLite file with one row, and the number of times SQLite ran each statement on the exporter's
    pooled connections (a trace callback set on every new connection of the exporter's engine)."""
    now = int(time.time())
    with sqlite3.connect(path) as db:
        db.execute("create table events (ts integer)")
        db.execute("insert into events values (?)", (now - 60,))
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def traced(statement: str) -> None:
        with lock:
            counts[statement] = counts.get(statement, 0) + 1

    from sqlalchemy import event

    engine = engine_for(f"sqlite:///{path}", timeout, "test")

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(traced)

    event.listen(engine, "connect", on_connect)
    try:
        yield counts
    finally:
        event.remove(engine, "connect", on_connect)


def _sql_entry(dataset: str, path: Path, min_interval: str) -> FreshnessCollector:
    return FreshnessCollector(
        entry(
            dataset,
            min_interval=min_interval,
            sql={"url": f"sqlite:///{path}", "query": QUERY, "count_query": COUNT_QUERY},
        )
    )


def test_min_interval_is_a_freshness_field_with_the_http_sources_default_and_bound() -> None:
    assert entry("d", file={"path": "/x"}).min_interval == Duration.parse("1s")  # docs/exporters.md: 1s
    assert FreshnessCollector(entry("d", file={"path": "/x"}, min_interval="250ms")).min_interval == 0.25
    with pytest.raises(ValueError, match="at most 5m"):
        entry("d", file={"path": "/x"}, min_interval="6m")


def test_a_burst_of_scrapes_runs_the_sql_queries_once_per_interval(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    with counted_sqlite(path, 5.0) as counts, runtime(_sql_entry("d", path, "2s")) as running:
        ages = burst(running, "d")
        assert counts.get(QUERY) == 1 and counts.get(COUNT_QUERY) == 1, counts  # 40 scrapes, one query each
        assert all(a is not None and 59 <= a <= 62 for a in ages), ages  # inserted 60 s ago, within 1 s
        burst(running, "d")  # still within the 2 s interval: served again
        assert counts.get(QUERY) == 1, counts
        time.sleep(2.1)  # past the interval: one new collection for the whole burst
        burst(running, "d")
        assert counts.get(QUERY) == 2 and counts.get(COUNT_QUERY) == 2, counts


def test_with_a_1ms_min_interval_every_sequential_scrape_queries(tmp_path: Path) -> None:
    """The baseline: the trace counts what it should, and reuse is what saves the queries above."""
    path = tmp_path / "w.db"
    with counted_sqlite(path, 5.0) as counts, runtime(_sql_entry("d", path, "1ms")) as running:
        for _ in range(5):
            running.gather()
            time.sleep(0.01)  # older than 1 ms: collected anew
        assert counts.get(QUERY) == 5 and counts.get(COUNT_QUERY) == 5, counts


def test_scrapes_in_a_loop_query_once_per_interval(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    with counted_sqlite(path, 5.0) as counts, runtime(_sql_entry("d", path, "500ms")) as running:
        started = time.monotonic()
        scrapes = 0
        while time.monotonic() - started < 2.0:
            running.gather()
            scrapes += 1
        elapsed = time.monotonic() - started
    # One collection per 0.5 s at most: ceil(elapsed / 0.5) + the one at the start, against hundreds of
    # scrapes (each collection is newer than 0.5 s when served).
    assert scrapes > 20, scrapes
    assert 2 <= counts[QUERY] <= int(elapsed / 0.5) + 1, (counts, scrapes, elapsed)


def test_a_burst_of_scrapes_asks_airflow_once_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WK_AIRFLOW_PW", "wk-airflow-pass")
    now = [CLOCK_V2]

    def source(min_interval: str) -> FreshnessCollector:
        config = _source("ok", "", "wk_ok", 2, "WK_AIRFLOW_PW", "watchkeeper")
        config["airflow"]["url"] = airflow.url
        return FreshnessCollector(entry("ok", min_interval=min_interval, **config), clock=lambda: now[0])

    with fake_airflow(_v2(now)) as airflow:
        with runtime(source("1ms")) as running:
            running.gather()
            per_collection = len(airflow.requests)  # the DAG and its runs: a few GETs per collection
            time.sleep(0.01)
            running.gather()
            assert len(airflow.requests) == 2 * per_collection  # baseline: every scrape asks again
        airflow.requests.clear()
        with runtime(source("2s")) as running:
            burst(running, "ok")
            assert len(airflow.requests) == per_collection, airflow.requests
            burst(running, "ok")
            assert len(airflow.requests) == per_collection
            time.sleep(2.1)
            burst(running, "ok")
            assert len(airflow.requests) == 2 * per_collection
    assert per_collection >= 1 and airflow.logins == 2  # one JWT per runtime, reused in each


def test_file_and_gx_results_are_read_again_only_past_the_interval(tmp_path: Path) -> None:
    marker = tmp_path / "_SUCCESS"
    marker.touch()
    os.utime(marker, (1_700_000_000, 1_700_000_000))
    source = FreshnessCollector(entry("files", file={"path": str(marker)}, min_interval="1500ms"))
    with runtime(source) as running:
        first = running.gather().value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset="files")
        os.utime(marker, (1_700_000_100, 1_700_000_100))  # a new marker within the interval
        again = running.gather().value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset="files")
        time.sleep(1.6)
        later = running.gather().value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset="files")
    assert (first, again, later) == (1_700_000_000, 1_700_000_000, 1_700_000_100)


def test_a_gx_results_dir_is_walked_again_only_past_the_interval(tmp_path: Path) -> None:
    results = tmp_path / "validations"
    results.mkdir()
    marker = tmp_path / "_SUCCESS"
    marker.touch()
    config = entry(
        "sales",
        file={"path": str(marker)},
        great_expectations={"results_dir": str(results)},
        min_interval="1500ms",
    )
    with runtime(FreshnessCollector(config)) as running:
        assert errors(running.gather(), "sales") == {"not_found": 1}  # no result yet
        (results / "broken.json").write_text('{"results": [')  # a half-written result, within the interval
        assert errors(running.gather(), "sales") == {"not_found": 1}  # the same collection, not walked again
        time.sleep(1.6)
        assert errors(running.gather(), "sales") == {"not_found": 1, "parse": 1}  # walked again: read it
