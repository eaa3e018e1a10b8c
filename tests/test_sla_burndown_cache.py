"""A cached team report's burn-down (api/report_cache.py `derived`): computed once per entry however many
pages wait, not cancelled with a page that gives up, not kept when it failed, and gone with its entry
when a correction clears the cache. The computation is a counted plain function in the real thread pool;
tests/test_sla_burndown_load.py covers the real service on a slow Prometheus."""

from __future__ import annotations

import asyncio
import threading
from typing import cast

import anyio
from pydantic import BaseModel

from api.report_cache import Entry, TeamReportCache, derived
from api.report_models import ReportOut

KEY = ("team-a", "7d")


class Stand(BaseModel):
    version: int


class Burn:
    """Counts calls; each waits for `gate`, then returns the call's number (or raises)."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = threading.Event()
        self.fail = False

    def __call__(self) -> int:
        self.calls += 1
        number = self.calls
        assert self.gate.wait(10)
        if self.fail:
            raise RuntimeError("Prometheus is down")
        return number

    def start(self) -> asyncio.Future[int]:
        return asyncio.ensure_future(anyio.to_thread.run_sync(self))


async def _entry(cache: TeamReportCache, version: int = 1) -> Entry:
    return await cache.fetch(KEY, lambda: cast(ReportOut, Stand(version=version)), 30)


def test_fifty_pages_share_one_burn_down_and_a_page_giving_up_cancels_nothing() -> None:
    async def scenario() -> None:
        cache, burn = TeamReportCache(), Burn()
        entry = await _entry(cache)
        pages = [asyncio.ensure_future(derived(entry, "burndown", burn.start)) for _ in range(50)]
        await asyncio.sleep(0.1)
        pages[0].cancel()  # a browser closed: the others still get the one result
        burn.gate.set()
        results = await asyncio.gather(*pages[1:])
        assert results == [1] * 49 and burn.calls == 1
        assert await derived(entry, "burndown", burn.start) == 1 and burn.calls == 1

    asyncio.run(scenario())


def test_a_failure_reaches_its_waiters_and_the_next_page_tries_again() -> None:
    async def scenario() -> None:
        cache, burn = TeamReportCache(), Burn()
        entry = await _entry(cache)
        burn.fail = True
        burn.gate.set()
        failed = await asyncio.gather(
            *(derived(entry, "burndown", burn.start) for _ in range(5)),
            return_exceptions=True,
        )
        assert all(isinstance(f, RuntimeError) for f in failed) and burn.calls == 1
        burn.fail = False
        assert await derived(entry, "burndown", burn.start) == 2
        assert await derived(entry, "burndown", burn.start) == 2 and burn.calls == 2

    asyncio.run(scenario())


def test_a_correction_drops_the_burn_down_with_its_report() -> None:
    async def scenario() -> None:
        cache, burn = TeamReportCache(), Burn()
        burn.gate.set()
        first = await _entry(cache, 1)
        assert await derived(first, "burndown", burn.start) == 1
        cache.clear()
        second = await _entry(cache, 2)
        assert second is not first
        assert await derived(second, "burndown", burn.start) == 2 and burn.calls == 2

    asyncio.run(scenario())
