"""The team report cache: each report is computed by one request at a time (single flight), fresh for
`ttl` seconds, then served stale for up to another `ttl` while one refresh runs, so an expiry under load
costs one computation instead of one per waiting request. A correction clears it: reports computed
before the clear are never stored after it. An entry also keeps what is derived from its report (the
HTML burn-down), computed once per entry (`derived`)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from api.report_models import ReportOut

Key = tuple[str, str]
T = TypeVar("T")
log = logging.getLogger("watchkeeper.sla")


@dataclass(frozen=True)
class Entry:
    fresh_until: float
    stale_until: float
    report: ReportOut
    rendered: bytes
    derived: dict[str, asyncio.Future[Any]] = field(default_factory=dict, compare=False, repr=False)
    """What is computed from `report` (the HTML burn-down), once each: see `derived`."""


RETRY_AFTER_FAILURE_S = 5.0
"""After a failed refresh, requests are served the stale entry without a new attempt for this long."""


class TeamReportCache:
    """Team reports by (team, window) with their JSON already rendered. `get` and `clear` may be called
    from any thread; `fetch` runs on the event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[Key, Entry] = {}
        self._generation = 0
        self._flights: dict[Key, tuple[int, asyncio.Task[Entry]]] = {}
        self._failed: dict[Key, float] = {}

    def get(self, key: Key) -> Entry | None:
        """The entry if it may still be served (fresh or stale), else None."""
        with self._lock:
            entry = self._items.get(key)
            if entry is not None and entry.stale_until < time.monotonic():
                del self._items[key]
                return None
            return entry

    def clear(self) -> None:
        """Drop every cached report (a correction was posted): refreshes already running are neither kept
        nor joined by later requests."""
        with self._lock:
            self._items.clear()
            self._generation += 1

    def _put(self, key: Key, report: ReportOut, ttl: float, generation: int, started: float) -> Entry:
        """Store a report computed from `started` on: its age counts from then, not from its end."""
        entry = Entry(started + ttl, started + 2 * ttl, report, report.model_dump_json().encode())
        with self._lock:
            if ttl > 0 and generation == self._generation:
                self._items[key] = entry
        return entry

    async def fetch(self, key: Key, compute: Callable[[], ReportOut], ttl: float) -> Entry:
        """A fresh entry as is; a stale one as is while one refresh runs (none for a few seconds after one
        failed); else wait for the one computation of `key` in flight since the last clear (started here
        if there is none)."""
        entry = self.get(key)
        now = time.monotonic()
        if entry is not None and entry.fresh_until >= now:
            return entry
        with self._lock:
            generation = self._generation
        running = self._flights.get(key)
        flight = running[1] if running is not None and running[0] == generation else None
        if flight is None:
            if entry is not None and now < self._failed.get(key, 0.0) + RETRY_AFTER_FAILURE_S:
                return entry

            def work() -> Entry:
                return self._put(key, compute(), ttl, generation, now)

            flight = asyncio.ensure_future(run_in_threadpool(work))
            self._flights[key] = (generation, flight)
            flight.add_done_callback(lambda done: self._landed(key, done))
        if entry is not None:
            return entry
        return await asyncio.shield(flight)

    def _landed(self, key: Key, flight: asyncio.Task[Entry]) -> None:
        running = self._flights.get(key)
        if running is not None and running[1] is flight:
            del self._flights[key]
        if flight.cancelled():
            return
        error = flight.exception()  # retrieved: no asyncio warning
        if error is None:
            self._failed.pop(key, None)
            return
        first = key not in self._failed
        self._failed[key] = time.monotonic()
        if first:  # one warning per run of failures, not one per retry
            log.warning("team report %s/%s not refreshed: %s", *key, error)


async def derived(entry: Entry, name: str, start: Callable[[], Awaitable[T]]) -> T:
    """`start()`'s result for `entry`, computed once (single flight, on the event loop) and kept with the
    entry, so it goes with it (expiry, a correction); a failure is not kept: the next request after it
    lands tries again."""
    flight = entry.derived.get(name)
    if flight is None:
        flight = entry.derived[name] = asyncio.ensure_future(start())

        def landed(done: asyncio.Future[Any]) -> None:
            failed = done.cancelled() or done.exception() is not None  # retrieved: no asyncio warning
            if failed and entry.derived.get(name) is done:
                del entry.derived[name]

        flight.add_done_callback(landed)
    result: T = await asyncio.shield(flight)
    return result


def team_cache(request: Request) -> TeamReportCache:
    """The application's team report cache (created with the application's state)."""
    cache: TeamReportCache | None = getattr(request.app.state, "team_report_cache", None)
    if cache is None:
        with _create_lock:
            cache = getattr(request.app.state, "team_report_cache", None)
            if cache is None:
                cache = request.app.state.team_report_cache = TeamReportCache()
    return cache


_create_lock = threading.Lock()
