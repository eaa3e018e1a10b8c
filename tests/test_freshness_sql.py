"""SQL freshness and row volume against real SQLite files and the local PostgreSQL server.

Rows are inserted at known Unix times T, so the expected age is `now - T` by hand; the exported age must
match within 1 s. Faults (refused connection, a query past its timeout, a wrong password on a private
scram-auth server, a missing table, a write) each give up=0 with their own error kind while the other
sources of the same scrape keep serving.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporters import names as m
from exporters.errors import ScrapeError
from exporters.freshness import FreshnessCollector
from exporters.freshness_sql import engine_for, to_timestamp
from tests.freshness_helpers import (
    PG_URL,
    collectors,
    entry,
    errors,
    failure,
    password_postgres,
    pg_table,
    psql,
    require_postgres,
    scrape,
    up,
)

FUZZ = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "60"))


def _sqlite(path: Path, rows: list[tuple[int, str]]) -> str:
    with sqlite3.connect(path) as db:
        db.execute("create table events (ts integer, created text, name text)")
        db.executemany("insert into events values (?, ?, 'a%')", rows)
    return f"sqlite:///{path}"


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_sqlite_age_of_the_newest_row_and_the_row_count(tmp_path: Path) -> None:
    t = int(time.time())
    newest, older = t - 3600, t - 7200  # inserted one and two hours ago
    url = _sqlite(
        tmp_path / "w.db", [(older, _iso(older)), (newest, _iso(newest)), (t - 90000, _iso(t - 90000))]
    )
    source = entry(
        "warehouse.events",
        sql={
            "url": url,
            # `%` and `:30` are SQL here, never placeholders
            "query": "select max(ts) from events where name like 'a%' and '10:30' = '10:30'",
            "count_query": "select count(*) from events where ts > unixepoch() - 86400",
        },
    )
    text_source = entry(
        "warehouse.events_text", sql={"url": url, "query": "select max(unixepoch(created)) from events"}
    )
    before = time.time()
    found = scrape(*collectors(source, text_source))
    after = time.time()
    for dataset in ("warehouse.events", "warehouse.events_text"):
        assert up(found, dataset) == 1, errors(found, dataset)
        assert found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset=dataset) == newest
        age = found.value(m.FRESHNESS_AGE_SECONDS, dataset=dataset)
        assert age is not None and before - newest - 1 <= age <= after - newest + 1  # 3600 s, within 1 s
    assert found.value(m.FRESHNESS_ROWS, dataset="warehouse.events") == 2  # the two rows of the last day


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("select ts from events where 0", "no row"),
        ("select max(ts) from events where ts < 0", "NULL"),
        ("select max(created) from events", "text"),  # SQLite keeps timestamps as text
        ("select max(ts) * 1000 from events", "milliseconds"),
        ("select 1.5 = 1.5", "before 2000"),  # SQLite's true is the integer 1
        ("select 'yes' = 'yes'", "before 2000"),
    ],
)
def test_a_query_without_a_usable_time_is_a_parse_error(tmp_path: Path, query: str, words: str) -> None:
    t = int(time.time())
    url = _sqlite(tmp_path / "w.db", [(t, _iso(t))])
    found = scrape(*collectors(entry("d", sql={"url": url, "query": query})))
    assert up(found, "d") == 0
    assert errors(found, "d") == {"parse": 1}
    assert found.value(m.FRESHNESS_AGE_SECONDS, dataset="d") is None  # never a made-up age
    assert words in str(failure(FreshnessCollector(entry("d", sql={"url": url, "query": query}))))


def test_sqlite_sessions_are_read_only_and_interrupted_at_the_timeout(tmp_path: Path) -> None:
    t = int(time.time())
    url = _sqlite(tmp_path / "w.db", [(t, _iso(t))])
    write = entry("write", sql={"url": url, "query": "delete from events"})
    endless = entry(
        "endless",
        timeout="1s",
        sql={
            "url": url,
            "query": "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
        },
    )
    started = time.monotonic()
    found = scrape(*collectors(write, endless))
    assert time.monotonic() - started < 3
    assert errors(found, "write") == {"parse": 1}
    assert errors(found, "endless") == {"timeout": 1}
    with sqlite3.connect(tmp_path / "w.db") as db:
        assert db.execute("select count(*) from events").fetchone() == (1,)  # the delete never ran


@pytest.mark.postgres
def test_postgres_timestamptz_age_and_row_count() -> None:
    require_postgres()
    t = int(time.time())
    with pg_table("id serial, loaded_at timestamptz, naive timestamp") as table:
        for offset in (7200, 5400, 1800):  # rows loaded 2h, 1.5h and 30 minutes ago
            psql(
                f"insert into {table} (loaded_at, naive) values (to_timestamp({t - offset}), to_timestamp({t - offset}) at time zone 'UTC')"
            )
        fresh = entry(
            "pg.orders",
            sql={
                "url": PG_URL,
                "query": f"select max(loaded_at) from {table}",
                "count_query": f"select count(*) from {table} where loaded_at > now() - interval '1 hour 45 minutes'",
            },
        )
        naive_utc = entry(
            "pg.naive_utc",
            sql={"url": PG_URL, "query": f"select max(naive) from {table}", "assume_utc": True},
        )
        naive = entry("pg.naive", sql={"url": PG_URL, "query": f"select max(naive) from {table}"})
        before = time.time()
        found = scrape(*collectors(fresh, naive_utc, naive))
        after = time.time()
    newest = t - 1800
    for dataset in ("pg.orders", "pg.naive_utc"):
        assert up(found, dataset) == 1, errors(found, dataset)
        assert found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset=dataset) == newest
        age = found.value(m.FRESHNESS_AGE_SECONDS, dataset=dataset)
        assert age is not None and before - newest - 1 <= age <= after - newest + 1
    assert found.value(m.FRESHNESS_ROWS, dataset="pg.orders") == 2  # 1.5h and 30 min ago, not 2h ago
    assert up(found, "pg.naive") == 0 and errors(found, "pg.naive") == {"parse": 1}


@pytest.mark.postgres
def test_a_naive_local_time_read_as_utc_is_caught_as_a_future_time() -> None:
    require_postgres()
    t = int(time.time())
    with pg_table("naive timestamp") as table:
        # a pipeline writing local time two hours ahead of UTC into a column without a time zone
        psql(f"insert into {table} values (to_timestamp({t + 7200}) at time zone 'UTC')")
        source = FreshnessCollector(
            entry(
                "pg.local",
                sql={"url": PG_URL, "query": f"select max(naive) from {table}", "assume_utc": True},
            )
        )
        found = scrape(source)
    assert errors(found, "pg.local") == {"parse": 1}


@pytest.mark.postgres
def test_database_faults_each_have_their_kind_and_the_other_sources_keep_serving(tmp_path: Path) -> None:
    require_postgres()
    t = int(time.time())
    sqlite_url = _sqlite(tmp_path / "ok.db", [(t - 60, _iso(t - 60))])
    (tmp_path / "_SUCCESS").touch()
    os.utime(tmp_path / "_SUCCESS", (t - 120, t - 120))
    with pg_table("loaded_at timestamptz") as table, password_postgres() as private_url:
        psql(f"insert into {table} values (to_timestamp({t - 30}))")
        wrong_password = private_url.replace("wk-secret", "not-the-password")
        os.environ["WK_TEST_WRONG_URL"] = wrong_password  # a URL with a password comes from the environment
        os.environ["WK_TEST_RIGHT_URL"] = private_url
        sources = collectors(
            entry("refused", sql={"url": "postgresql://postgres@127.0.0.1:1/test", "query": "select now()"}),
            entry("slow", timeout="2s", sql={"url": PG_URL, "query": "select pg_sleep(10), now()"}),
            entry("wrong-password", sql={"url_env": "WK_TEST_WRONG_URL", "query": "select now()"}),
            entry("right-password", sql={"url_env": "WK_TEST_RIGHT_URL", "query": "select now()"}),
            entry("no-table", sql={"url": PG_URL, "query": "select max(x) from wk_no_such_table"}),
            entry("writes", sql={"url": PG_URL, "query": f"delete from {table} returning now()"}),
            entry("pg-ok", sql={"url": PG_URL, "query": f"select max(loaded_at) from {table}"}),
            entry("sqlite-ok", sql={"url": sqlite_url, "query": "select max(ts) from events"}),
            entry("file-ok", file={"path": str(tmp_path / "_SUCCESS")}),
        )
        started = time.monotonic()
        found = scrape(*sources)
        took = time.monotonic() - started
        assert psql(f"select count(*) from {table}") == "1"  # the delete was refused
        refused = str(failure(sources[2]))
        assert "password authentication failed" in refused
        assert "not-the-password" not in refused and "wk-secret" not in refused  # never the secret
    expected = {
        "refused": "connection",
        "slow": "timeout",
        "wrong-password": "auth",
        "no-table": "not_found",
        "writes": "parse",
    }
    for dataset, kind in expected.items():
        assert up(found, dataset) == 0, dataset
        assert errors(found, dataset) == {kind: 1}, dataset
    for dataset, newest in (
        ("right-password", None),
        ("pg-ok", t - 30),
        ("sqlite-ok", t - 60),
        ("file-ok", t - 120),
    ):
        assert up(found, dataset) == 1, (dataset, errors(found, dataset))
        if newest is not None:
            assert found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset=dataset) == newest
    assert took < 4, f"the slow query held the scrape for {took:.1f}s (timeout 2s)"


@pytest.mark.postgres
def test_connections_are_pooled_per_url() -> None:
    require_postgres()
    url = f"{PG_URL}?application_name=wk_pool_test"
    sources = collectors(*(entry(f"pooled{i}", sql={"url": url, "query": "select now()"}) for i in range(3)))
    for _ in range(5):
        found = scrape(*sources)
        assert all(up(found, f"pooled{i}") == 1 for i in range(3))
    assert engine_for(url, 5.0, "x") is engine_for(url, 5.0, "y")
    # 15 queries over 5 scrapes: the pool keeps at most pool_size + overflow connections, here 3 at once
    open_now = int(psql("select count(*) from pg_stat_activity where application_name = 'wk_pool_test'"))
    assert 1 <= open_now <= 3


def test_sqlalchemy_loads_only_when_a_query_runs() -> None:
    code = (
        "import sys, api.cli, exporters.freshness, exporters.sources;"
        "print(sorted(m for m in ('sqlalchemy', 'great_expectations', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


AWARE = st.datetimes(
    min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2999, 12, 31), timezones=st.timezones()
)


@settings(max_examples=FUZZ, deadline=None)
@given(moment=AWARE)
def test_aware_timestamps_are_read_as_unix_seconds(moment: dt.datetime) -> None:
    utc = moment.astimezone(dt.UTC)
    expected = calendar.timegm(utc.timetuple()) + utc.microsecond / 1e6  # the stdlib's reference, by hand
    assert to_timestamp(True, moment, False, "q") == pytest.approx(expected, abs=1e-6)


@settings(max_examples=FUZZ, deadline=None)
@given(moment=st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2999, 12, 31)))
def test_naive_timestamps_need_assume_utc(moment: dt.datetime) -> None:
    with pytest.raises(ScrapeError) as caught:
        to_timestamp(True, moment, False, "q")
    assert caught.value.kind == "parse" and "assume_utc" in str(caught.value)
    expected = calendar.timegm(moment.timetuple()) + moment.microsecond / 1e6
    assert to_timestamp(True, moment, True, "q") == pytest.approx(expected, abs=1e-6)
