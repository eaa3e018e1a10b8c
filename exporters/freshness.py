"""Freshness sources: the age of each catalog dataset's newest data, one source (and one series) per dataset.

The age comes from one probe: SQL (`freshness_sql`), the Airflow REST API (`airflow`), file mtimes (here)
or a Pushgateway a batch job pushed to (`pushgateway`). A source with `great_expectations.results_dir` also
exports its latest validation per suite (`great_expectations`). Blocking work (queries, directory walks)
runs in worker threads, never on the exporter's event loop.
"""

from __future__ import annotations

import asyncio
import glob
import math
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Protocol

from catalog.model.freshness import FileRef, FreshnessSource, FreshnessSql
from exporters import names as m
from exporters.airflow import AirflowProbe
from exporters.errors import ConfigError, ScrapeError
from exporters.freshness_sql import (
    check_url,
    engine_for,
    fetch_value,
    in_thread,
    resolve_url,
    to_count,
    to_timestamp,
)
from exporters.great_expectations import ResultsDir, Validation, validation_metrics
from exporters.pushgateway import PushProbe
from exporters.runtime import Scrape, Source

CLOCK_SKEW = 300.0
"""Seconds the newest data may lie ahead of the exporter's clock; further ahead is a time-zone error."""
MAX_SERIES = 10_000
"""Series one freshness source exports per scrape (its freshness first, then its Great Expectations
results); past it they are dropped and counted in `watchkeeper_freshness_series_dropped_total`. A suite with
thousands of column expectations would otherwise add two series per expectation and column."""


class Probe(Protocol):
    async def newest(self, scrape: Scrape) -> float | None:
        """Add the probe's own series; return the Unix time of the newest data (None: there is none yet)."""


class SqlProbe:
    """The freshness query (and the optional count query), each on its own pooled connection."""

    def __init__(self, sql: FreshnessSql, dataset: str, timeout: float) -> None:
        self.sql = sql
        self.dataset = dataset
        self.timeout = timeout
        self.where = f"freshness source {dataset} (sql)"
        self._url = resolve_url(sql, self.where)  # a missing variable or file stops the exporter at start
        check_url(self._url, timeout, self.where)  # so does a malformed URL or an unknown dialect

    def _query(self, query: str) -> tuple[bool, object]:
        try:
            engine = engine_for(self._url, self.timeout, self.where)  # imports SQLAlchemy on first use
        except ConfigError as exc:
            raise ScrapeError("parse", str(exc)) from None
        return fetch_value(engine, query, self.timeout)

    async def newest(self, scrape: Scrape) -> float | None:
        queries = [self.sql.query] + ([self.sql.count_query] if self.sql.count_query else [])
        results = await asyncio.gather(
            *(in_thread(partial(self._query, q)) for q in queries), return_exceptions=True
        )
        if len(results) > 1:
            counted = results[1]
            if isinstance(counted, BaseException):
                scrape.fail(_scrape_error(counted, "the count query"))
            else:
                try:
                    rows = to_count(counted[0], counted[1], "the count query")
                except ScrapeError as exc:
                    scrape.fail(exc)
                else:
                    scrape.metrics.gauge(m.FRESHNESS_ROWS, "", {"dataset": self.dataset}, rows)
        found = results[0]
        if isinstance(found, BaseException):
            raise _scrape_error(found, "the freshness query")
        return to_timestamp(found[0], found[1], self.sql.assume_utc, "the freshness query")


def newest_mtime(pattern: str) -> float:
    """The newest mtime of a file, of a directory and its entries, or of a glob's matches (`**` recurses)."""
    try:
        if glob.has_magic(pattern):
            newest = max((os.stat(p).st_mtime for p in glob.iglob(pattern, recursive=True)), default=None)
            if newest is None:
                raise ScrapeError("not_found", f"nothing matches {pattern}")
            return newest
        path = Path(pattern)
        stat = path.stat()
        if not path.is_dir():
            return stat.st_mtime
        with os.scandir(path) as entries:
            return max([stat.st_mtime, *(e.stat().st_mtime for e in entries)])
    except FileNotFoundError:
        raise ScrapeError("not_found", f"{pattern} does not exist") from None
    except PermissionError as exc:
        raise ScrapeError("auth", f"{pattern}: permission denied ({exc.filename})") from None
    except OSError as exc:
        raise ScrapeError("connection", f"{pattern}: {exc.strerror or exc}") from None


class FileProbe:
    def __init__(self, ref: FileRef) -> None:
        self.ref = ref

    async def newest(self, scrape: Scrape) -> float | None:
        stamp: float = await in_thread(lambda: newest_mtime(self.ref.path))
        return stamp


def _scrape_error(exc: BaseException, what: str) -> ScrapeError:
    if isinstance(exc, ScrapeError):
        return exc
    return ScrapeError("parse", f"{what}: unexpected {type(exc).__name__}: {exc}")


def make_probe(config: FreshnessSource, clock: Callable[[], float]) -> Probe:
    """The probe of a catalog entry's `sql`, `airflow`, `file` or `push` block."""
    timeout = config.timeout.seconds
    if config.sql is not None:
        return SqlProbe(config.sql, config.dataset, timeout)
    if config.airflow is not None:
        return AirflowProbe(config.airflow, config.dataset, timeout, clock)
    if config.file is not None:
        return FileProbe(config.file)
    assert config.push is not None
    return PushProbe(config.push, config.dataset, timeout, clock)


class FreshnessCollector(Source):
    kind = "freshness"
    prefix = m.FRESHNESS_PREFIX

    def __init__(self, config: FreshnessSource, clock: Callable[[], float] = time.time) -> None:
        super().__init__(
            config.dataset,
            config.service,
            config.timeout.seconds,
            min_interval=config.min_interval.seconds,
            max_series=MAX_SERIES,
        )
        self.config = config
        self.clock = clock
        self.probe = make_probe(config, clock)
        gx = config.great_expectations
        self.results = ResultsDir(gx.results_dir) if gx is not None and gx.results_dir else None

    async def _validations(self) -> list[Validation]:
        if self.results is None:
            return []
        found: list[Validation] = await in_thread(self.results.latest)
        return found

    async def collect(self, scrape: Scrape) -> None:
        newest, validations = await asyncio.gather(
            self.probe.newest(scrape), self._validations(), return_exceptions=True
        )
        failed = None  # the freshness series go first: under MAX_SERIES, GX results never crowd them out
        try:
            self._age(newest, scrape)
        except ScrapeError as exc:
            failed = exc
        if isinstance(validations, BaseException):
            scrape.fail(_scrape_error(validations, "Great Expectations results"))
        else:
            for validation in validations:
                validation_metrics(validation, self.name, scrape.metrics)
        if failed is not None:
            raise failed

    def _age(self, newest: float | BaseException | None, scrape: Scrape) -> None:
        if isinstance(newest, BaseException):
            raise _scrape_error(newest, f"freshness of {self.name}")
        labels = {"dataset": self.name}
        now = self.clock()
        if newest is None:  # e.g. a DAG that never succeeded: infinitely stale, and the stale alert fires
            scrape.metrics.gauge(m.FRESHNESS_AGE_SECONDS, "", labels, math.inf)
            return
        if newest - now > CLOCK_SKEW:
            raise ScrapeError(
                "parse",
                f"the newest data of {self.name} is {newest - now:.0f}s in the future (more than "
                f"{CLOCK_SKEW:.0f}s): a local time read as UTC? use a timestamp with a time zone, or check "
                "assume_utc",
            )
        scrape.metrics.gauge(m.FRESHNESS_TIMESTAMP_SECONDS, "", labels, newest)
        scrape.metrics.gauge(m.FRESHNESS_AGE_SECONDS, "", labels, max(0.0, now - newest))
