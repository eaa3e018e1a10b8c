"""Helpers for the freshness tests: catalog entries, one scrape through the real Runtime, PostgreSQL tables."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from catalog.model import Catalog
from catalog.model.freshness import FreshnessSource
from exporters import names as m
from exporters.errors import ScrapeError
from exporters.freshness import FreshnessCollector
from exporters.http import HttpPool
from exporters.metric_set import MetricSet
from exporters.runtime import Runtime, Scrape, Source
from tests.conftest import IN_CI, require_binary
from tests.exporter_process import EXE, ROOT, Exporter
from tests.prometheus_stack import free_port, get_json, stop, wait_for

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def entry(dataset: str, **probe: Any) -> FreshnessSource:
    """A freshness catalog entry for service `s` with one probe block and optional extras."""
    probe.setdefault("max_age", "1h")
    return FreshnessSource.model_validate({"dataset": dataset, "service": "s", **probe})


def catalog() -> Catalog:
    return Catalog.model_validate(
        {"teams": [{"name": "t", "owners": ["a@example.com"]}], "services": [{"name": "s", "team": "t"}]}
    )


def scrape(*sources: Source) -> MetricSet:
    """One scrape through the real Runtime (concurrency, timeouts, up and error counters)."""
    runtime = Runtime(catalog(), list(sources))
    try:
        return runtime.gather()
    finally:
        runtime.close()


def collectors(*entries: FreshnessSource) -> list[Source]:
    return [FreshnessCollector(e) for e in entries]


def failure(source: Source) -> ScrapeError:
    """The error one collection of `source` raises (its message, which the metrics do not carry)."""
    pool = HttpPool()

    async def once() -> None:
        try:
            await source.collect(Scrape(pool))
        finally:
            await pool.aclose()

    with pytest.raises(ScrapeError) as caught:
        asyncio.run(once())
    return caught.value


def up(found: MetricSet, dataset: str) -> float | None:
    return found.value(m.up(m.FRESHNESS_PREFIX), source=dataset)


def errors(found: MetricSet, dataset: str) -> dict[str, float]:
    """Non-zero error counts by kind."""
    out = {}
    for kind in m.ERROR_KINDS:
        count = found.value(m.scrape_errors(m.FRESHNESS_PREFIX), source=dataset, kind=kind)
        if count:
            out[kind] = count
    return out


def require_postgres() -> None:
    """Skip without the local PostgreSQL (fail under CI, where it is part of the machine)."""
    ready = shutil.which("pg_isready") or str(PG_BIN / "pg_isready")
    ok = (
        subprocess.run([ready, "-h", "127.0.0.1", "-p", "5432"], capture_output=True, check=False).returncode
        == 0
    )
    if not ok:
        message = "PostgreSQL is not running on 127.0.0.1:5432"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def psql(sql: str, url: str = PG_URL) -> str:
    """Run SQL with the real psql client; return its unaligned output."""
    result = subprocess.run(
        ["psql", url, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", "-c", sql],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@contextmanager
def pg_table(columns: str) -> Iterator[str]:
    """A table with a unique name in the `test` database, dropped afterwards."""
    name = f"wk_fresh_{uuid.uuid4().hex[:12]}"
    psql(f"create table {name} ({columns})")
    try:
        yield name
    finally:
        psql(f"drop table if exists {name}")


@contextmanager
def password_postgres() -> Iterator[str]:
    """A private PostgreSQL server with scram-sha-256 password auth (the shared one trusts everyone), so a
    wrong password is refused for real. Yields the URL of user `wk` with its right password. It runs as
    the `postgres` OS user (initdb refuses root) in a directory of its own under /tmp."""
    initdb, pg_ctl = PG_BIN / "initdb", PG_BIN / "pg_ctl"
    runuser = shutil.which("runuser")
    if not initdb.exists() or runuser is None or os.geteuid() != 0:
        message = "needs PostgreSQL's initdb and root (runuser -u postgres) to start a private server"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    tmp = Path(tempfile.mkdtemp(prefix="wk-pg-"))
    data = tmp / "data"
    data.mkdir()
    (tmp / "pw").write_text("wk-secret\n")
    for path in (tmp, data, tmp / "pw"):
        shutil.chown(path, "postgres")
    as_pg = [runuser, "-u", "postgres", "--"]
    started = False
    try:
        subprocess.run(
            [
                *as_pg,
                str(initdb),
                "-D",
                str(data),
                "-U",
                "wk",
                "-A",
                "scram-sha-256",
                f"--pwfile={tmp / 'pw'}",
            ],
            capture_output=True,
            check=True,
        )
        port = free_port()
        options = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*as_pg, str(pg_ctl), "-D", str(data), "-o", options, "-l", str(tmp / "pg.log"), "-w", "start"],
            capture_output=True,
            check=True,
        )
        started = True
        yield f"postgresql://wk:wk-secret@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(
                [*as_pg, str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(tmp, ignore_errors=True)


def wait_seconds(until: float) -> None:
    while time.time() < until:
        time.sleep(0.01)


@contextmanager
def pushgateway(workdir: Path) -> Iterator[str]:
    """The real Pushgateway (Debian's prometheus-pushgateway) on a free loopback port; yields its URL."""
    binary = require_binary("prometheus-pushgateway")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (workdir / "pushgateway.log").open("wb") as log:
        proc = subprocess.Popen(
            [binary, f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: get_json(f"{url}/api/v1/status"), 15, "the Pushgateway to start")
        yield url
    finally:
        stop(proc)


@contextmanager
def running_exporter(catalog_path: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[Exporter]:
    """`watchkeeper exporter CATALOG` as a subprocess on a free port, once /healthz answers."""
    port = free_port()
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(EXE), "exporter", str(catalog_path), "--listen", f"127.0.0.1:{port}"],
            stderr=err,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
    running = Exporter(proc, "127.0.0.1", port, log)
    try:
        wait_for(
            lambda: proc.poll() is not None or running.get("/healthz", timeout=1).status == 200,
            30,
            "the exporter",
        )
        assert proc.poll() is None, f"the exporter exited with {proc.returncode}: {running.stderr()}"
        yield running
    finally:
        running.stop()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a text exposition, parsed by prometheus_client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out
