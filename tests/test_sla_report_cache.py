"""The team report cache under concurrency: one computation per key however many requests wait, stale
answers (never older than two TTLs) while one refresh runs, nothing computed before a correction is
stored after it, and a failed computation reaches its waiters and is retried by the next request.

The computation here is a plain function in the real thread pool (counted and gated with events); the
API tests cover the real report through Prometheus."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, cast

import pytest
from pydantic import BaseModel

from api.report_cache import TeamReportCache
from api.report_models import ReportOut

KEY = ("team-a", "7d")


class Stand(BaseModel):
    """Stands in for a ReportOut: the cache only renders it to JSON."""

    version: int


class Compute:
    """Counts calls; each call may wait for `gate` and returns the next version (or raises)."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()
        self.fail = False
        self.lock = threading.Lock()

    def __call__(self) -> ReportOut:
        with self.lock:
            self.calls += 1
            version = self.calls
        assert self.gate.wait(10)
        if self.fail:
            raise RuntimeError("Prometheus is down")
        return cast(ReportOut, Stand(version=version))


def version(entry: Any) -> int:
    return cast(Stand, entry.report).version


def test_fifty_concurrent_misses_compute_once() -> None:
    async def scenario() -> None:
        cache, compute = TeamReportCache(), Compute()
        compute.gate.clear()
        waiting = [asyncio.ensure_future(cache.fetch(KEY, compute, 30)) for _ in range(50)]
        await asyncio.sleep(0.2)
        assert not any(w.done() for w in waiting)
        compute.gate.set()
        entries = await asyncio.gather(*waiting)
        assert compute.calls == 1
        assert {version(e) for e in entries} == {1}
        assert entries[0].rendered == b'{"version":1}'
        assert version(await cache.fetch(KEY, compute, 30)) == 1 and compute.calls == 1

    asyncio.run(scenario())


def test_an_expired_report_is_served_stale_while_one_refresh_runs() -> None:
    async def scenario() -> None:
        cache, compute = TeamReportCache(), Compute()
        ttl = 2.0
        await cache.fetch(KEY, compute, ttl)
        await asyncio.sleep(ttl + 0.1)  # past fresh, inside stale
        compute.gate.clear()
        # The refresh is held at the gate: a request that waited for it would time out here.
        stale = await asyncio.wait_for(
            asyncio.gather(*(cache.fetch(KEY, compute, ttl) for _ in range(20))), 5
        )
        assert {version(e) for e in stale} == {1}
        await asyncio.sleep(0.05)
        assert compute.calls == 2  # one refresh for twenty requests
        compute.gate.set()
        await asyncio.sleep(0.2)
        assert version(await cache.fetch(KEY, compute, ttl)) == 2 and compute.calls == 2

    asyncio.run(scenario())


def test_past_two_ttls_a_request_waits_for_a_new_report() -> None:
    async def scenario() -> None:
        cache, compute = TeamReportCache(), Compute()
        ttl = 0.2
        await cache.fetch(KEY, compute, ttl)
        await asyncio.sleep(2 * ttl + 0.05)
        assert cache.get(KEY) is None
        assert version(await cache.fetch(KEY, compute, ttl)) == 2

    asyncio.run(scenario())


def test_a_report_computed_across_a_clear_is_not_kept() -> None:
    async def scenario() -> None:
        cache, compute = TeamReportCache(), Compute()
        compute.gate.clear()
        first = asyncio.ensure_future(cache.fetch(KEY, compute, 30))
        await asyncio.sleep(0.1)
        cache.clear()  # a correction lands while version 1 is being computed
        compute.gate.set()
        assert version(await first) == 1  # its own requester gets it ...
        assert cache.get(KEY) is None  # ... but it is not served to anyone after the correction
        assert version(await cache.fetch(KEY, compute, 30)) == 2

    asyncio.run(scenario())


def test_a_failure_reaches_every_waiter_and_the_next_request_retries() -> None:
    async def scenario() -> None:
        cache, compute = TeamReportCache(), Compute()
        compute.fail = True
        compute.gate.clear()
        waiting = [asyncio.ensure_future(cache.fetch(KEY, compute, 30)) for _ in range(5)]
        await asyncio.sleep(0.1)
        compute.gate.set()
        results = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(r, RuntimeError) for r in results) and compute.calls == 1
        compute.fail = False
        assert version(await cache.fetch(KEY, compute, 30)) == 2

    asyncio.run(scenario())


def test_a_stale_report_survives_a_failed_refresh(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        cache, compute = TeamReportCache(), Compute()
        ttl = 0.3
        await cache.fetch(KEY, compute, ttl)
        await asyncio.sleep(ttl + 0.05)
        compute.fail = True
        assert version(await cache.fetch(KEY, compute, ttl)) == 1
        await asyncio.sleep(0.1)  # the refresh failed in the background
        assert version(await cache.fetch(KEY, compute, ttl)) == 1  # still the stale one, retried
        await asyncio.sleep(0.1)

    asyncio.run(scenario())
    assert "not refreshed" in caplog.text and "Prometheus is down" in caplog.text


def test_a_zero_ttl_stores_nothing_but_still_shares_the_computation() -> None:
    async def scenario() -> None:
        cache, compute = TeamReportCache(), Compute()
        compute.gate.clear()
        waiting = [asyncio.ensure_future(cache.fetch(KEY, compute, 0)) for _ in range(10)]
        await asyncio.sleep(0.1)
        compute.gate.set()
        await asyncio.gather(*waiting)
        assert compute.calls == 1 and cache.get(KEY) is None

    asyncio.run(scenario())


def test_a_request_after_a_clear_never_joins_a_refresh_started_before_it() -> None:
    # Review 13b's blocker: a correction acknowledged while a refresh is running; the next request must
    # get a report computed after the correction, not the refresh's older one.
    async def scenario(stale_first: bool) -> None:
        cache, store = TeamReportCache(), {"corrections": 0}
        gate = threading.Event()

        def compute() -> ReportOut:
            seen = store["corrections"]  # the refresh reads the store first ...
            assert gate.wait(10)  # ... then waits on Prometheus
            return cast(ReportOut, Stand(version=seen))

        first: asyncio.Future[Any] | None = None
        if stale_first:
            gate.set()
            await cache.fetch(KEY, compute, 1.0)
            await asyncio.sleep(1.1)  # stale: the next fetch starts a refresh and answers at once
            gate.clear()
            assert version(await cache.fetch(KEY, compute, 1.0)) == 0
        else:
            first = asyncio.ensure_future(cache.fetch(KEY, compute, 30))
        await asyncio.sleep(0.1)  # the refresh has read the store
        store["corrections"] = 1
        cache.clear()  # the correction is acknowledged
        after = asyncio.ensure_future(cache.fetch(KEY, compute, 30))
        await asyncio.sleep(0.1)
        gate.set()
        assert version(await asyncio.wait_for(after, 10)) == 1
        assert version(cache.get(KEY)) == 1
        if first is not None:
            assert version(await first) == 0  # its own requester, who asked before the correction

    asyncio.run(scenario(stale_first=False))
    asyncio.run(scenario(stale_first=True))


def test_after_a_failed_refresh_the_stale_report_is_served_without_retrying_for_a_while() -> None:
    async def scenario() -> None:
        cache, compute = TeamReportCache(), Compute()
        ttl = 1.0
        await cache.fetch(KEY, compute, ttl)
        await asyncio.sleep(ttl + 0.1)
        compute.fail = True
        for _ in range(50):  # a burst of requests while Prometheus fails
            assert version(await cache.fetch(KEY, compute, ttl)) == 1
            await asyncio.sleep(0.005)
        assert compute.calls == 2  # the first fill and ONE failed refresh, not one per request

    asyncio.run(scenario())


def test_an_entry_ages_from_when_its_computation_started() -> None:
    async def scenario() -> None:
        cache = TeamReportCache()

        def slow() -> ReportOut:
            time.sleep(0.6)
            return cast(ReportOut, Stand(version=1))

        started = time.monotonic()
        entry = await cache.fetch(KEY, slow, 1.0)
        assert started <= entry.fresh_until - 1.0 <= started + 0.3  # not the end of the computation

    asyncio.run(scenario())
