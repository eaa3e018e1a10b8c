"""The exporter runtime: a prometheus_client Collector that collects every source concurrently on scrape.

Each source runs under its own deadline on a shared event loop, so a scrape takes as long as the slowest
source (capped by its timeout), never the sum. A failing source reports `<prefix>_up 0` and counts the
error by kind; the others are unaffected.

Concurrent scrapes share one in-flight collection per source (single-flight), and a result younger than
the source's `min_interval` is served again rather than collected anew: a hundred scrapers cost the
upstreams what one does. A collection keeps at most `max_series` series; the rest are counted in
`<prefix>_series_dropped_total`. Logs are written on a change of state only (down, up, another error
kind, series dropped or no longer dropped), never on every scrape.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from catalog.durations import Duration
from catalog.model import Catalog
from exporters import names
from exporters.errors import ScrapeError
from exporters.http import HttpPool
from exporters.metric_set import MetricSet

log = logging.getLogger("watchkeeper.exporter")
GRACE = 5.0
"""Seconds a scrape waits past the largest source timeout before it serves the latest results it has."""


@dataclass
class Scrape:
    """What one source's collection produced: metrics, and the errors met on the way."""

    http: HttpPool
    metrics: MetricSet = field(default_factory=MetricSet)
    errors: list[ScrapeError] = field(default_factory=list)

    def fail(self, error: ScrapeError) -> None:
        """Record a partial failure and carry on with what can still be collected.

        The error is kept until the next collection: its traceback and context are dropped, or their
        frames would keep a refused body (20 MB of a gzip bomb) alive with it."""
        error.__traceback__ = error.__context__ = error.__cause__ = None
        self.errors.append(error)


class Source(ABC):
    """One catalog source. Subclasses set `kind` and `prefix` and fill `scrape.metrics`.

    `min_interval` (seconds) is how long a result is reused; 0 collects on every scrape (Kafka, which
    polls in the background). `max_series` caps the series of one collection; None leaves them uncapped.
    """

    kind: ClassVar[str]
    prefix: ClassVar[str]

    def __init__(
        self,
        name: str,
        service: str,
        timeout: float,
        min_interval: float = 0.0,
        max_series: int | None = None,
    ) -> None:
        self.name = name
        self.service = service
        self.timeout = timeout
        self.min_interval = min_interval
        self.max_series = max_series

    @abstractmethod
    async def collect(self, scrape: Scrape) -> None:
        """Fetch and add metrics; raise ScrapeError (or call scrape.fail) on failure."""

    def start(self) -> None:  # noqa: B027 - optional hook
        """Start background work (Kafka polls between scrapes); most sources have none."""

    def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop background work."""


class HttpSettings(Protocol):
    """What the catalog's HTTP sources (hdfs, yarn, spark) share about collecting."""

    @property
    def timeout(self) -> Duration: ...
    @property
    def min_interval(self) -> Duration: ...
    @property
    def max_series(self) -> int: ...


def http_settings(config: HttpSettings) -> dict[str, Any]:
    """`Source.__init__` keywords from an HTTP source's catalog entry: timeout, min_interval, max_series."""
    return {
        "timeout": config.timeout.seconds,
        "min_interval": config.min_interval.seconds,
        "max_series": config.max_series,
    }


@dataclass
class SourceResult:
    source: Source
    scrape: Scrape
    duration: float
    finished: float = field(default_factory=time.monotonic)

    @property
    def up(self) -> bool:
        return not self.scrape.errors


@dataclass
class _Slot:
    """One source's latest result, its collection in flight, and the state last logged."""

    result: SourceResult | None = None
    task: asyncio.Future[SourceResult] | None = None
    logged: tuple[bool, str] | None = None
    dropping: bool = False


class Runtime(Collector):
    """Collects the sources on `collect()` (shared and reused as above) and exposes fresh metric families."""

    def __init__(self, catalog: Catalog, sources: list[Source], pool: HttpPool | None = None) -> None:
        self.catalog = catalog
        self.sources = sources
        self.pool = pool or HttpPool()
        self._slots = [_Slot() for _ in sources]
        self._errors: dict[tuple[str, str, str], int] = {}
        self._dropped: dict[tuple[str, str], int] = {}
        self._overran = False
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="watchkeeper-scrape", daemon=True)
        self._thread.start()
        for source in sources:
            source.start()

    # --- collecting -------------------------------------------------------------------------------

    async def _scrape_one(self, source: Source) -> SourceResult:
        scrape = Scrape(self.pool, MetricSet(source.max_series))
        start = time.perf_counter()
        try:
            await asyncio.wait_for(source.collect(scrape), source.timeout)
        except TimeoutError:
            scrape.fail(
                ScrapeError("timeout", f"{source.kind} {source.name}: no answer within {source.timeout:g}s")
            )
        except ScrapeError as exc:
            scrape.fail(exc)
        except Exception as exc:  # a bug or a payload shape we did not foresee: never crash the exporter
            detail = traceback.format_exc(limit=8)
            scrape.fail(ScrapeError("parse", f"unexpected {type(exc).__name__}: {exc}", detail))
        return SourceResult(source, scrape, time.perf_counter() - start)

    async def _refresh(self, index: int) -> SourceResult:
        slot = self._slots[index]
        try:
            result = await self._scrape_one(self.sources[index])
            with self._lock:
                self._record(slot, result)
            slot.result = result
            return result
        finally:
            slot.task = None

    async def _current(self, index: int) -> SourceResult:
        """The source's latest result if younger than its min_interval, else the collection in flight
        (started now if none is)."""
        slot, source = self._slots[index], self.sources[index]
        result = slot.result
        if result is not None and time.monotonic() - result.finished < source.min_interval:
            return result
        if slot.task is None:
            slot.task = asyncio.ensure_future(self._refresh(index))
        return await asyncio.shield(slot.task)  # a scrape that gives up never cancels the shared collection

    async def _scrape_all(self) -> list[SourceResult]:
        return list(await asyncio.gather(*(self._current(i) for i in range(len(self.sources)))))

    def submit(self) -> concurrent.futures.Future[list[SourceResult]]:
        """Start (or join) the collections of a scrape; the future gives every source's result."""
        return asyncio.run_coroutine_threadsafe(self._scrape_all(), self._loop)

    @property
    def deadline(self) -> float:
        """Seconds a scrape waits for its results before serving the latest ones (`latest()`)."""
        return max((s.timeout for s in self.sources), default=0.0) + GRACE

    def latest(self) -> list[SourceResult]:
        """The latest result of every source, for a scrape that overran its deadline (a loop starved of
        CPU): a source with no result yet is reported as timed out. Logged once until scrapes keep time."""
        if not self._overran:
            self._overran = True
            log.warning(
                "scrape overran its deadline; serving the latest results", extra={"deadline_s": self.deadline}
            )
        out = []
        for slot, source in zip(self._slots, self.sources, strict=True):
            result = slot.result
            if result is None:
                scrape = Scrape(self.pool)
                scrape.fail(ScrapeError("timeout", f"{source.kind} {source.name}: not collected yet"))
                result = SourceResult(source, scrape, self.deadline)
            out.append(result)
        return out

    def scrape(self) -> list[SourceResult]:
        """Every source's result for a scrape now, from any thread; never raises."""
        future = self.submit()
        try:
            results = future.result(timeout=self.deadline)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return self.latest()
        self._overran = False
        return results

    def _record(self, slot: _Slot, result: SourceResult) -> None:
        """Count errors and dropped series; log a change of state (called with the lock held)."""
        source = result.source
        for error in result.scrape.errors:
            key = (source.prefix, source.name, error.kind)
            self._errors[key] = self._errors.get(key, 0) + 1
        dropped = result.scrape.metrics.dropped
        where = {"source": source.name, "kind": source.kind}
        if dropped:
            self._dropped[(source.prefix, source.name)] = (
                self._dropped.get((source.prefix, source.name), 0) + dropped
            )
            if not slot.dropping:
                log.warning(
                    "series dropped: raise max_series if they are wanted",
                    extra={**where, "max_series": source.max_series, "dropped": dropped},
                )
        elif slot.dropping:
            log.info("series no longer dropped", extra=where)
        slot.dropping = bool(dropped)
        first = result.scrape.errors[0] if result.scrape.errors else None
        state = (result.up, first.kind if first else "")
        if slot.logged == state:
            return
        slot.logged = state
        fields = {**where, "duration_s": round(result.duration, 3)}
        if first is None:
            log.info("source up", extra=fields)
            return
        fields |= {"error_kind": first.kind, "error": str(first), "errors": len(result.scrape.errors)}
        if first.detail:
            fields["exception"] = first.detail
        log.warning("source down", extra=fields)

    # --- exposition -------------------------------------------------------------------------------

    def collect(self) -> Iterable[Metric]:
        yield from self.gather().families()

    def exposition(self) -> str:
        """Scrape now and return the Prometheus text format (the fast path `/metrics` serves)."""
        return self.gather().text()

    def gather(self) -> MetricSet:
        """Scrape every source and add the per-source and ownership series."""
        return self.assemble(self.scrape())

    def assemble(self, results: list[SourceResult]) -> MetricSet:
        """The exposition of a scrape's results: theirs, then per source its up, duration, error and
        dropped-series counters, then the ownership series."""
        out = MetricSet()
        for result in results:
            out.merge(result.scrape.metrics)
        out.dropped = 0  # counted per source below, not here
        for result in results:
            source, labels = result.source, {names.SOURCE_LABEL: result.source.name}
            out.gauge(
                names.up(source.prefix),
                f"1 if the last scrape of every {source.kind} endpoint succeeded",
                labels,
                1 if result.up else 0,
            )
            out.gauge(
                names.scrape_duration(source.prefix),
                f"Seconds the last {source.kind} scrape took",
                labels,
                result.duration,
            )
        with self._lock:
            for source in self.sources:
                labels = {names.SOURCE_LABEL: source.name}
                for kind in names.ERROR_KINDS:
                    out.counter(
                        names.scrape_errors(source.prefix),
                        f"{source.kind} scrape errors by kind",
                        {**labels, "kind": kind},
                        self._errors.get((source.prefix, source.name, kind), 0),
                    )
                if source.max_series is not None:
                    out.counter(
                        names.series_dropped(source.prefix),
                        f"{source.kind} series past max_series",
                        labels,
                        self._dropped.get((source.prefix, source.name), 0),
                    )
        for service in self.catalog.services:
            out.gauge(
                names.OWNERSHIP_INFO,
                "Owner of each catalog service: join with * on(service) group_left(team)",
                {"service": service.name, "team": service.team, "tier": service.tier.value},
                1,
            )
        return out

    def close(self) -> None:
        for source in self.sources:
            source.stop()
        asyncio.run_coroutine_threadsafe(self.pool.aclose(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
