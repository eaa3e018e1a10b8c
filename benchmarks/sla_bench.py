"""Benchmark the SLA service: a report over 1,000 SLOs, a cached team report under 500 requests/s, and
the ledger's write throughput on SQLite and PostgreSQL.

Run: .venv/bin/python benchmarks/sla_bench.py [--slos 1000] [--runs 5] [--rps 500] [--seconds 10]
     [--writers 8] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test | --postgres none]

Everything is real and on loopback: Prometheus (5m recordings for every SLO backfilled with promtool,
one day at one sample a minute), `watchkeeper serve` (uvicorn, one process), and the load generator (this
process, asyncio streams with prebuilt requests, 64 keep-alive connections).

1. Report: `make_report` over all SLOs, window 7d (five vector queries, then the maths and the rows),
   median of --runs; split into Prometheus time and build time. Baseline in the same run: the same
   five queries issued once per SLO (measured on 25 SLOs, scaled to all), what the vector queries avoid.
2. Cached team report: GET /api/v1/reports/team/T at a fixed rate (open loop: request i is due at
   i / rps; its latency counts from when it was due, so a slow server is not hidden by a slow client).
   Baseline: GET /healthz at the same rate.
3. Ledger: --writers concurrent clients POST one-alert webhook deliveries (each a new alert) for
   --seconds; acknowledged writes/s. Baseline: `sla.store.ledger.record` called in-process, one alert a
   transaction, by the same number of threads.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.prometheus_stack import free_port, get_json, prometheus, stop, wait_for  # noqa: E402

EXE = ROOT / ".venv" / "bin" / "watchkeeper"
TOKEN = "bench-" + uuid.uuid4().hex
SLOS_PER_SERVICE, SERVICES_PER_TEAM = 10, 10


def load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def catalog_yaml(slos: int) -> str:
    services = max(slos // SLOS_PER_SERVICE, 1)
    teams = max(services // SERVICES_PER_TEAM, 1)
    lines = ["teams:"]
    lines += [f"  - {{name: team-{t}, owners: [t{t}@example.com]}}" for t in range(teams)]
    lines.append("services:")
    lines += [f"  - {{name: svc-{s}, team: team-{s % teams}}}" for s in range(services)]
    lines.append("slos:")
    for i in range(slos):
        lines += [
            f"  - name: slo-{i}",
            f"    service: svc-{i % services}",
            "    objective: 99.9",
            "    sli: {events: {errors: 'sum(rate(x_total{code=\"500\"}[{{window}}]))', "
            "total: 'sum(rate(x_total[{{window}}]))'}}",
        ]
    return "\n".join(lines) + "\n"


def openmetrics(slos: int, end: int) -> str:
    from rules import names

    services = max(slos // SLOS_PER_SERVICE, 1)
    out = []
    for i in range(slos):
        labels = f'service="svc-{i % services}",slo="slo-{i}"'
        ratio = 0.0002 * (1 + i % 7)
        for t in range(end - 86_400 + 30, end + 1, 60):
            out.append(f"{names.SLI_ERRORS_RATE5M}{{{labels}}} {10 * ratio!r} {t}")
            out.append(f"{names.SLI_TOTAL_RATE5M}{{{labels}}} 10.0 {t}")
    return "\n".join(out) + "\n# EOF\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_report(catalog: Any, url: str, runs: int) -> dict[str, float]:
    from sla.queries import burn_queries, connect, fetch, run, window_queries
    from sla.report import build
    from sla.report_windows import report_window

    client = connect(url, 30)
    at = datetime.now(UTC)
    window = report_window("7d", at)
    totals, queries, builds = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        data = fetch(client, window, at)
        fetched = time.perf_counter()
        report = build(catalog, window, data, [])
        done = time.perf_counter()
        totals.append(done - started)
        queries.append(fetched - started)
        builds.append(done - fetched)
    assert len(report.rows["slo"]) == len(catalog.slos)
    assert all(r.figures.attainment is not None for r in report.rows["slo"])
    each = {}
    for name, text in {**window_queries(window), **burn_queries()}.items():
        started = time.perf_counter()
        run(client, text, at)
        each[name] = time.perf_counter() - started
    # Baseline: one query per SLO (the same five, filtered to the SLO), on 25 SLOs, scaled.
    sample = catalog.slos[:25]
    started = time.perf_counter()
    for slo in sample:
        selector = f'{{service="{slo.service}",slo="{slo.name}"}}'
        for text in (*window_queries(window).values(), *burn_queries().values()):
            run(
                client,
                text.replace("rate5m[", f"rate5m{selector}[").replace("rate1h)", f"rate1h{selector})"),
                at,
            )
    per_slo = (time.perf_counter() - started) / len(sample) * len(catalog.slos)
    return {
        "total": statistics.median(totals),
        "queries": statistics.median(queries),
        "build": statistics.median(builds),
        "per_slo_baseline": per_slo,
        **{f"query {name}": seconds for name, seconds in each.items()},
    }


@contextmanager
def serve(catalog_path: Path, database: str, prometheus_url: str, workdir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "WATCHKEEPER_API_TOKEN": TOKEN, "NO_COLOR": "1"}
    log = (workdir / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen(
        [str(EXE), "serve", str(catalog_path), "--listen", f"127.0.0.1:{port}", "--database", database,
         "--prometheus", prometheus_url, "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=workdir,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get_json(f"{url}/healthz"), 60, "watchkeeper serve")
        yield url
    finally:
        stop(proc)
        log.close()


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a prebuilt GET and reads the answer by its
    Content-Length: a few tens of microseconds of client CPU a request, where httpx spends about a
    millisecond, so the load generator does not take the core the server needs."""

    def __init__(self, host: str, port: int, request: bytes) -> None:
        self.host, self.port, self.request = host, port, request
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = -1
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length < 0:
            raise ValueError("an answer without Content-Length (chunked?)")
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def request_bytes(url: str, headers: dict[str, str]) -> tuple[str, int, bytes]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in headers.items())]
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port, ("\r\n".join(lines) + "\r\n\r\n").encode()


async def open_loop(url: str, rps: int, seconds: float, headers: dict[str, str]) -> dict[str, float]:
    """Request i is due at start + i / rps; each of `workers` keep-alive connections takes the next due
    request in turn, and a request's latency counts from when it was due (so a server that falls behind
    shows as queueing, not as a slower client)."""
    host, port, request = request_bytes(url, headers)
    total = int(rps * seconds)
    latencies: list[float] = []
    errors = 0
    workers = 64
    connections = [Connection(host, port, request) for _ in range(workers)]
    warm = Connection(host, port, request)
    await asyncio.wait_for(warm.get(), 300)  # warm: the cache (a first computation)
    warm.close()
    start = time.perf_counter() + 0.2
    counter = iter(range(total))

    async def worker(connection: Connection) -> None:
        nonlocal errors
        for i in counter:
            due = start + i / rps
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                ok = await asyncio.wait_for(connection.get(), 10) == 200
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                connection.close()
                ok = False
            latencies.append(time.perf_counter() - due)
            errors += not ok

    await asyncio.gather(*(worker(c) for c in connections))
    elapsed = time.perf_counter() - start
    for connection in connections:
        connection.close()
    return {
        "rate": total / elapsed,
        "p50": percentile(latencies, 0.5) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "max": max(latencies) * 1000,
        "errors": errors,
    }


def _delivery(n: int) -> dict[str, Any]:
    starts = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
    alert = {
        "status": "firing",
        "labels": {"alertname": "BenchBurn", "service": "svc-0", "slo": "slo-0", "n": str(n)},
        "annotations": {},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
    }
    return {"version": "4", "status": "firing", "receiver": "ledger", "alerts": [alert]}


async def ledger_writes(url: str, writers: int, seconds: float) -> float:
    import httpx

    counter = iter(range(10**9))
    done = 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {TOKEN}"}) as client:

        async def writer() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                response = await client.post(f"{url}/api/v1/alerts", json=_delivery(next(counter)))
                done += response.status_code == 200

        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(writers)))
        return done / (time.perf_counter() - started)


def direct_writes(database: str, writers: int, seconds: float) -> float:
    from sla.store.engine import make_engine, resolve_url
    from sla.store.ledger import Transition, record

    engine = make_engine(resolve_url(database))
    counter = iter(range(10**9, 2 * 10**9))
    lock = threading.Lock()
    done = [0]
    deadline = time.perf_counter() + seconds

    def writer() -> None:
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            labels = {"alertname": "BenchDirect", "n": str(n)}
            starts = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
            record(engine, [Transition(uuid.uuid4().hex[:16], "firing", starts, None, labels, {}, None, None)],
                   datetime.now(UTC))  # fmt: skip
            with lock:
                done[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    return done[0] / (time.perf_counter() - started)


@contextmanager
def postgres_schema(admin_url: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    schema = f"wk_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{admin_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rps", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--parts", default="report,api,ledger", help="which parts to run")
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    from catalog import load_catalog

    print(f"load average at start: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "catalog.yaml").write_text(catalog_yaml(args.slos))
        catalog = load_catalog(work / "catalog.yaml").catalog
        now = int(time.time())
        end = now - now % 60 - 30
        (work / "data.om").write_text(openmetrics(args.slos, end))
        started = time.perf_counter()
        subprocess.run(
            ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(work / "data.om"), str(work / "prom-data")],
            check=True, capture_output=True,
        )  # fmt: skip
        print(
            f"backfilled {args.slos} SLOs x 1,440 samples x 2 series in {time.perf_counter() - started:.1f} s"
        )
        with prometheus("prometheus", [], work, extra_flags=("--storage.tsdb.retention.time=30d",)) as url:
            wait_for(lambda: get_json(f"{url}/api/v1/query?query=count(slo:sli_total:rate5m)")["data"]["result"],
                     60, "the backfill")  # fmt: skip
            if "report" in parts:
                report_part(catalog, url, args)
            if parts & {"api", "ledger"}:
                service_parts(work, url, args, parts)
    print(f"\nload average at end: {load()}")


def report_part(catalog: Any, url: str, args: argparse.Namespace) -> None:
    r = bench_report(catalog, url, args.runs)
    print(f"\n## report, {args.slos} SLOs, window 7d (median of {args.runs}; load {load()})")
    print("| what | s | x vector queries |\n|---|---|---|")
    print(f"| report (5 vector queries at once + build) | {r['total']:.3f} | 1.0 |")
    print(f"| of which Prometheus | {r['queries']:.3f} | |")
    print(f"| of which build | {r['build']:.3f} | |")
    for key in (k for k in r if k.startswith("query ")):
        print(f"| {key} (alone, once) | {r[key]:.3f} | |")
    print(f"| baseline: 5 queries per SLO (25 measured, scaled) | {r['per_slo_baseline']:.1f} | "
          f"{r['per_slo_baseline'] / r['total']:.0f} |")  # fmt: skip


def service_parts(work: Path, url: str, args: argparse.Namespace, parts: set[str]) -> None:
    from sla.store.engine import make_engine, resolve_url
    from sla.store.migrate import upgrade

    db = f"sqlite:///{work / 'bench.db'}"
    upgrade(make_engine(resolve_url(db)))
    rows: list[tuple[str, float, float]] = []
    with serve(work / "catalog.yaml", db, url, work) as api:
        if "api" in parts:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            team_url = f"{api}/api/v1/reports/team/team-0?window=7d"
            team = asyncio.run(open_loop(team_url, args.rps, args.seconds, auth))
            health = asyncio.run(open_loop(f"{api}/healthz", args.rps, args.seconds, {}))
            print(f"\n## API, {args.rps} requests/s for {args.seconds:g} s (open loop; load {load()})")
            print(
                "| endpoint | achieved req/s | p50 ms | p99 ms | max ms | errors |\n|---|---|---|---|---|---|"
            )
            for name, m in (("cached team report (100 SLOs)", team), ("baseline: /healthz", health)):
                print(f"| {name} | {m['rate']:.0f} | {m['p50']:.1f} | {m['p99']:.1f} | {m['max']:.1f} | "
                      f"{m['errors']:.0f} |")  # fmt: skip
        if "ledger" in parts:
            sqlite_api = asyncio.run(ledger_writes(api, args.writers, args.seconds))
    if "ledger" not in parts:
        return
    rows.append(("SQLite (WAL, synchronous=FULL)", sqlite_api, direct_writes(db, args.writers, args.seconds)))
    if args.postgres != "none":
        with postgres_schema(args.postgres) as pg:
            upgrade(make_engine(resolve_url(pg)))
            with serve(work / "catalog.yaml", pg, url, work) as api:
                pg_api = asyncio.run(ledger_writes(api, args.writers, args.seconds))
            rows.append(("PostgreSQL (local)", pg_api, direct_writes(pg, args.writers, args.seconds)))
    print(f"\n## ledger writes, {args.writers} concurrent writers, {args.seconds:g} s (load {load()})")
    print("| database | via POST /api/v1/alerts, writes/s | baseline: record() in-process, writes/s | "
          "x baseline |\n|---|---|---|---|")  # fmt: skip
    for name, via_api, direct in rows:
        print(f"| {name} | {via_api:.0f} | {direct:.0f} | {via_api / direct:.2f} |")


if __name__ == "__main__":
    main()
