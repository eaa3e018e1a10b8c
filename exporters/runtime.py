"""The exporter runtime: a prometheus_client Collector that scrapes every source concurrently on each scrape.

Each source runs under its own deadline on a shared event loop, so the scrape takes as long as the slowest
source (capped by its timeout), never the sum. A failing source reports `<prefix>_up 0` and counts the
error by kind; the others are unaffected.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from catalog.model import Catalog
from exporters import names
from exporters.errors import ScrapeError
from exporters.http import HttpPool
from exporters.metric_set import MetricSet

log = logging.getLogger("watchkeeper.exporter")


@dataclass
class Scrape:
    """What one source's collection produced: metrics, and the errors met on the way."""

    http: HttpPool
    metrics: MetricSet = field(default_factory=MetricSet)
    errors: list[ScrapeError] = field(default_factory=list)

    def fail(self, error: ScrapeError) -> None:
        """Record a partial failure and carry on with what can still be collected."""
        self.errors.append(error)


class Source(ABC):
    """One catalog source. Subclasses set `kind` and `prefix` and fill `scrape.metrics`."""

    kind: ClassVar[str]
    prefix: ClassVar[str]

    def __init__(self, name: str, service: str, timeout: float) -> None:
        self.name = name
        self.service = service
        self.timeout = timeout

    @abstractmethod
    async def collect(self, scrape: Scrape) -> None:
        """Fetch and add metrics; raise ScrapeError (or call scrape.fail) on failure."""

    def start(self) -> None:  # noqa: B027 - optional hook
        """Start background work (Kafka polls between scrapes); most sources have none."""

    def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop background work."""


@dataclass
class SourceResult:
    source: Source
    scrape: Scrape
    duration: float

    @property
    def up(self) -> bool:
        return not self.scrape.errors


class Runtime(Collector):
    """Collects every source on each `collect()` and exposes fresh metric families."""

    def __init__(self, catalog: Catalog, sources: list[Source], pool: HttpPool | None = None) -> None:
        self.catalog = catalog
        self.sources = sources
        self.pool = pool or HttpPool()
        self._errors: dict[tuple[str, str, str], int] = {}
        self._was_up: dict[tuple[str, str], bool] = {}
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="watchkeeper-scrape", daemon=True)
        self._thread.start()
        for source in sources:
            source.start()

    # --- scraping ---------------------------------------------------------------------------------

    async def _scrape_one(self, source: Source) -> SourceResult:
        scrape = Scrape(self.pool)
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
            log.exception("source failed unexpectedly", extra={"source": source.name, "kind": source.kind})
            scrape.fail(ScrapeError("parse", f"{type(exc).__name__}: {exc}"))
        return SourceResult(source, scrape, time.perf_counter() - start)

    async def _scrape_all(self) -> list[SourceResult]:
        return list(await asyncio.gather(*(self._scrape_one(s) for s in self.sources)))

    def scrape(self) -> list[SourceResult]:
        """Scrape every source now (from any thread) and record the error counts."""
        deadline = max((s.timeout for s in self.sources), default=0) + 5
        future = asyncio.run_coroutine_threadsafe(self._scrape_all(), self._loop)
        results = future.result(timeout=deadline)
        with self._lock:
            for result in results:
                self._record(result)
        return results

    def _record(self, result: SourceResult) -> None:
        source = result.source
        for error in result.scrape.errors:
            key = (source.prefix, source.name, error.kind)
            self._errors[key] = self._errors.get(key, 0) + 1
        state = (source.prefix, source.name)
        if self._was_up.get(state) != result.up:
            fields = {"source": source.name, "kind": source.kind, "duration_s": round(result.duration, 3)}
            if result.up:
                log.info("source up", extra=fields)
            else:
                first = result.scrape.errors[0]
                log.warning("source down", extra={**fields, "error_kind": first.kind, "error": str(first)})
        self._was_up[state] = result.up

    # --- exposition -------------------------------------------------------------------------------

    def collect(self) -> Iterable[Metric]:
        yield from self.gather().families()

    def exposition(self) -> str:
        """Scrape now and return the Prometheus text format (the fast path `/metrics` serves)."""
        return self.gather().text()

    def gather(self) -> MetricSet:
        """Scrape every source and add the per-source and ownership series."""
        results = self.scrape()
        out = MetricSet()
        for result in results:
            out.merge(result.scrape.metrics)
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
                for kind in names.ERROR_KINDS:
                    out.counter(
                        names.scrape_errors(source.prefix),
                        f"{source.kind} scrape errors by kind",
                        {names.SOURCE_LABEL: source.name, "kind": kind},
                        self._errors.get((source.prefix, source.name, kind), 0),
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
