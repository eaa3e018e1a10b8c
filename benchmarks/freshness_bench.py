"""Benchmark SQL freshness on the local PostgreSQL, side by side with Debian's prometheus-sql-exporter.

Run: .venv/bin/python benchmarks/freshness_bench.py [--rows 200000] [--datasets 20] [--runs 10]

1. `--datasets` freshness sources, each `select max(loaded_at)` on its own indexless table of `--rows`
   rows, collected by one scrape of the Runtime (concurrently, pooled connections), against the same
   queries run one after another on one psycopg connection (the sum: what a sequential exporter costs).
2. The same ages reported by prometheus-sql-exporter (justwatchcom/sql_exporter, Debian's package) running
   the same query on the same tables: the two must agree within 1 s. Skipped, with the install command,
   when the binary is missing.
3. What a freshness source costs the exporter's start-up: importing the collector (SQLAlchemy is not
   loaded) against importing SQLAlchemy.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exporters import names as m
from exporters.freshness import FreshnessCollector
from exporters.runtime import Runtime
from tests.freshness_helpers import PG_URL, catalog, entry, psql, samples
from tests.prometheus_stack import free_port, wait_for

PEER = "prometheus-sql-exporter"
INSTALL = "apt-get update && apt-get install -y --no-install-recommends prometheus-sql-exporter"


def _tables(count: int, rows: int, newest_age: int) -> list[str]:
    names = [f"wk_bench_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    for i, name in enumerate(names):
        # rows spread over the last day; the newest is exactly newest_age + i seconds old
        psql(
            f"create table {name} as select now() - (interval '1 second' * ({newest_age + i} + g % 86400)) "
            f"as loaded_at from generate_series(0, {rows - 1}) g"
        )
    return names


def _sources(tables: list[str], min_interval: str = "1ms") -> list[FreshnessCollector]:
    """One source per table; `min_interval` 1 ms by default, so that every timed scrape queries anew."""
    return [
        FreshnessCollector(
            entry(
                f"bench.{t}",
                timeout="30s",
                min_interval=min_interval,
                sql={"url": PG_URL, "query": f"select max(loaded_at) from {t}"},
            )
        )
        for t in tables
    ]


def our_reading(tables: list[str]) -> dict[str, tuple[float, float]]:
    """Our (age, newest row's time) per table now: one scrape of the Runtime."""
    runtime = Runtime(catalog(), list(_sources(tables)))
    try:
        found = runtime.gather()
    finally:
        runtime.close()
    nan = float("nan")
    return {
        t: (
            found.value(m.FRESHNESS_AGE_SECONDS, dataset=f"bench.{t}") or nan,
            found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset=f"bench.{t}") or nan,
        )
        for t in tables
    }


def bench_scrape(tables: list[str], runs: int) -> None:
    import psycopg

    runtime = Runtime(catalog(), list(_sources(tables)))
    try:
        runtime.gather()  # warm the pools
        ours = []
        for _ in range(runs):
            start = time.perf_counter()
            found = runtime.gather()
            ours.append(time.perf_counter() - start)
        assert all(found.value(m.up(m.FRESHNESS_PREFIX), source=f"bench.{t}") == 1 for t in tables)
    finally:
        runtime.close()
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test") as conn:
        sequential = []
        for _ in range(runs):
            start = time.perf_counter()
            for t in tables:
                conn.execute(f"select max(loaded_at) from {t}").fetchone()
            sequential.append(time.perf_counter() - start)
    ours_ms, seq_ms = statistics.median(ours) * 1000, statistics.median(sequential) * 1000
    print(f"scrape of {len(tables)} SQL sources: ours {ours_ms:.1f} ms median (concurrent, pooled)")
    print(
        f"  baseline, the same queries one after another on one connection: {seq_ms:.1f} ms (ratio {seq_ms / ours_ms:.2f}x)"
    )
    reused = Runtime(catalog(), list(_sources(tables, min_interval="1m")))
    try:
        reused.gather()  # the one collection the scrapes below are served from
        again = []
        for _ in range(runs):
            start = time.perf_counter()
            reused.gather()
            again.append(time.perf_counter() - start)
    finally:
        reused.close()
    again_ms = statistics.median(again) * 1000
    print(
        f"  served again within min_interval (no query): {again_ms:.2f} ms median "
        f"({ours_ms / again_ms:.0f}x less than collecting anew)"
    )


def bench_peer(tables: list[str]) -> None:
    import shutil

    binary = shutil.which(PEER)
    if binary is None:
        print(f"peer: {PEER} is not installed; install it with: {INSTALL}")
        return
    queries = "\n".join(
        f"  - name: fresh_{i}\n    help: age and time of the newest row\n    labels: [dataset]\n"
        f"    values: [age, newest]\n    query: select '{t}' as dataset, extract(epoch from now() - "
        f"max(loaded_at))::float8 as age, extract(epoch from max(loaded_at))::float8 as newest from {t}"
        for i, t in enumerate(tables)
    )
    config = (
        "jobs:\n- name: freshness\n  interval: 1s\n  connections:\n"
        "  - 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'\n  queries:\n" + queries + "\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "sql.yml").write_text(config)
        port = free_port()
        proc = subprocess.Popen(
            [binary, f"-config.file={tmp}/sql.yml", f"-web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:

            def scraped() -> dict[str, dict[str, float]]:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
                    text = response.read().decode()
                out: dict[str, dict[str, float]] = {}
                for (name, labels), value in samples(text).items():
                    found = dict(labels)
                    if name.startswith("sql_fresh_") and found.get("dataset") in tables:
                        out.setdefault(found["dataset"], {})[found["col"]] = value
                return out if len(out) == len(tables) else {}

            start = time.monotonic()
            wait_for(scraped, 60, f"{PEER} to report every table", interval=0.5)
            peer_ms = (time.monotonic() - start) * 1000
            theirs = scraped()
            ours = our_reading(tables)  # read right after theirs: the ages differ by their poll's lag
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    newest = max(abs(theirs[t]["newest"] - ours[t][1]) for t in tables)
    ages = max(abs(theirs[t]["age"] - ours[t][0]) for t in tables)
    print(
        f"peer {PEER} on the same {len(tables)} tables: newest-row times differ by at most {newest * 1000:.3f} ms; "
        f"ages by at most {ages:.2f} s (theirs from a poll every 1s, ours at our scrape just after; "
        f"first report after {peer_ms:.0f} ms)"
    )
    if newest > 0.001 or ages > 1 + 1 + 1:  # same rows; ages: 1 s, plus a 1 s poll, plus its own duration
        raise SystemExit(f"the peer disagrees: newest {newest:.3f} s, ages {ages:.2f} s")


def bench_import() -> None:
    def timed(code: str) -> float:
        best = min(
            float(
                subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=Path(__file__).resolve().parent.parent,
                ).stdout
            )
            for _ in range(3)
        )
        return best * 1000

    ours = timed("import exporters.freshness")
    sqlalchemy = timed("import exporters.freshness, sqlalchemy, sqlalchemy.engine")
    print(
        f"import exporters.freshness: {ours:.0f} ms; with SQLAlchemy loaded too: {sqlalchemy:.0f} ms "
        f"(SQLAlchemy loads on the first query, in a worker thread)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(f"{args.datasets} tables of {args.rows} rows each on the local PostgreSQL; {args.runs} runs")
    tables = _tables(args.datasets, args.rows, newest_age=600)
    try:
        bench_scrape(tables, args.runs)
        bench_peer(tables)
    finally:
        for t in tables:
            psql(f"drop table if exists {t}")
    bench_import()


if __name__ == "__main__":
    main()
