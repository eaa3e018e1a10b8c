"""A background event loop for periodic jobs (the inference probes), shared by the sources that use it.

One thread runs one asyncio loop and one `HttpPool` for every job: 100 endpoints cost 100 sleeping tasks,
not 100 threads. Each job runs on its own schedule (first after `phase`, then every `interval` on a fixed
grid, so runs do not drift), never overlaps itself, and skips the ticks a run overran. The thread starts
with the first `acquire()` and stops at the last `release()`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from exporters.http import HttpPool

log = logging.getLogger("watchkeeper.exporter")
T = TypeVar("T")
Job = Callable[[], Awaitable[object]]


class ProbeLoop:
    """A refcounted background loop: `acquire`/`release` around use, `every`/`cancel` for jobs."""

    def __init__(self, name: str = "watchkeeper-probes") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._users = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: dict[object, asyncio.Task[None]] = {}  # touched on the loop's thread only
        self._http: HttpPool | None = None

    @property
    def http(self) -> HttpPool:
        """The HTTP clients of the jobs; use them on this loop only (an httpx client is bound to one loop)."""
        if self._http is None:
            self._http = HttpPool()
        return self._http

    def acquire(self) -> None:
        """Start the thread if it is not running; count one more user."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name=self.name, daemon=True)
                self._thread.start()
                asyncio.run_coroutine_threadsafe(_warm_up(), self._loop).result(timeout=30)
            self._users += 1

    def release(self) -> None:
        """Count one user less; the last one cancels what is left, closes the HTTP clients, stops the thread."""
        with self._lock:
            if self._users == 0 or self._loop is None:
                return
            self._users -= 1
            if self._users:
                return
            loop, thread = self._loop, self._thread
            self._loop, self._thread = None, None
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)
        loop.close()

    async def _shutdown(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _running(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None:
            raise RuntimeError(f"{self.name} is not running: acquire() it first")
        return loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run a coroutine on the loop from another thread and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._running()).result(timeout=timeout)

    def every(self, key: object, interval: float, phase: float, job: Job) -> None:
        """Run `job` after `phase` seconds, then every `interval` seconds, until `cancel(key)`."""
        if interval <= 0:
            raise ValueError(f"interval must be positive, not {interval}")
        loop = self._running()

        def schedule() -> None:
            old = self._tasks.pop(key, None)
            if old is not None:
                old.cancel()
            self._tasks[key] = loop.create_task(_periodic(interval, phase, job))

        loop.call_soon_threadsafe(schedule)

    def cancel(self, key: object) -> None:
        """Stop a job's schedule (a run in progress is cancelled)."""
        loop = self._loop
        if loop is None:
            return

        def unschedule() -> None:
            task = self._tasks.pop(key, None)
            if task is not None:
                task.cancel()

        loop.call_soon_threadsafe(unschedule)


async def _warm_up() -> None:
    """Load what httpx imports at its first request (its transport, h11, anyio's asyncio backend: about
    0.1 s), so that the first probe measures the endpoint, not Python's imports."""
    import anyio
    import h11  # noqa: F401
    import httpcore  # noqa: F401

    await anyio.sleep(0)


async def _periodic(interval: float, phase: float, job: Job) -> None:
    loop = asyncio.get_running_loop()
    due = loop.time() + max(phase, 0.0)
    while True:
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            await job()
        except Exception:  # a job must never end its own schedule
            log.exception("periodic job failed")
        due += interval
        late = loop.time() - due
        if late > 0:  # the run overran: skip the ticks it missed, stay on the grid
            due += math.ceil(late / interval) * interval


SHARED = ProbeLoop()
"""The loop every inference source uses unless given another (tests give their own)."""
