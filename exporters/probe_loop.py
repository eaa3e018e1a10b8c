"""A background event loop for periodic jobs (the inference probes), shared by the sources that use it.

One thread runs one asyncio loop and one `HttpPool` for every job: 100 endpoints cost 100 sleeping tasks,
not 100 threads. Each job runs on its own schedule (first after `phase`, then every `interval` on a fixed
grid, so runs do not drift), never overlaps itself, and skips the ticks a run overran. The thread starts
with the first `acquire()` and stops at the last `release()`.

Probes talk HTTP/1.1 through `LeanHttp`: h11 over asyncio streams, connections kept alive per origin. A
probe through httpx cost about 1.7 ms of CPU here (its request/response models, auth flow and anyio
layers), through LeanHttp about 0.3 ms: 100 endpoints every 5 s would otherwise take 4 to 5% of a core
(docs/performance.md). httpx stays for proxied endpoints (HTTP_PROXY and the like), which LeanHttp does
not speak.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import ssl
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import h11
import httpx

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
        self._lean: LeanHttp | None = None

    @property
    def http(self) -> HttpPool:
        """The HTTP clients of the jobs; use them on this loop only (an httpx client is bound to one loop)."""
        if self._http is None:
            self._http = HttpPool()
        return self._http

    @property
    def lean(self) -> LeanHttp:
        """The probes' HTTP/1.1 connections; use them on this loop only."""
        if self._lean is None:
            self._lean = LeanHttp()
        return self._lean

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
        if self._lean is not None:
            await self._lean.aclose()
            self._lean = None

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


class ProbeConnectionError(Exception):
    """No answer: refused, reset, a TLS failure, a malformed or cut-off response."""


@dataclass(frozen=True)
class Target:
    """Where a probe goes, parsed once: origin, the Host header and the request target."""

    scheme: str
    host: str
    port: int
    host_header: str
    path: bytes

    @classmethod
    def parse(cls, url: str) -> Target:
        parsed = httpx.URL(url)
        tls = parsed.scheme == "https"
        port = parsed.port or (443 if tls else 80)
        host = parsed.raw_host.decode("ascii")  # IDNA-encoded, as DNS and the Host header take it
        shown = f"[{host}]" if ":" in host else host
        header = shown if parsed.port is None else f"{shown}:{parsed.port}"
        return cls(parsed.scheme, host, port, header, parsed.raw_path)


@dataclass(frozen=True)
class Answer:
    """A complete answer (or its first `limit` bytes: `too_large`), its body as sent (not yet decoded)."""

    status: int
    body: bytes
    encoding: str
    too_large: bool


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    h11: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))

    def close(self) -> None:
        self.writer.close()

    @property
    def usable(self) -> bool:
        return not (self.reader.at_eof() or self.writer.is_closing())


class _StaleConnectionError(Exception):
    """A kept-alive connection closed by the server before any byte of the answer."""


class LeanHttp:
    """HTTP/1.1 requests for probes: h11 over asyncio streams, idle connections kept per origin and TLS
    setting. A connection the server closed while idle is dropped, and a request it drops before any byte
    of the answer is sent once more on a new connection (as httpcore does). The caller bounds the time."""

    MAX_IDLE = 8
    """Idle connections kept per origin."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int, str], list[_Connection]] = {}
        self._contexts: dict[str, ssl.SSLContext] = {}

    def _context(self, verify: bool | str) -> ssl.SSLContext:
        key = str(verify)
        if key not in self._contexts:
            if verify is False:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                import certifi  # httpx's own default trust store, so that a move changes nothing

                context = ssl.create_default_context(cafile=certifi.where() if verify is True else verify)
            self._contexts[key] = context
        return self._contexts[key]

    async def request(
        self,
        target: Target,
        method: str,
        headers: list[tuple[str, str]],
        body: bytes,
        verify: bool | str,
        limit: int,
    ) -> Answer:
        """Send one request and read its answer; ProbeConnectionError when there is none."""
        key = (target.scheme, target.host, target.port, str(verify))
        idle = self._idle.setdefault(key, [])
        while True:
            reused = bool(idle)
            connection = idle.pop() if idle else await self._open(target, verify)
            if not connection.usable:
                connection.close()
                continue
            try:
                answer, keep = await self._exchange(connection, target, method, headers, body, limit)
            except _StaleConnectionError:
                connection.close()
                if reused:
                    continue
                raise ProbeConnectionError("the server closed the connection without answering") from None
            except (OSError, h11.ProtocolError, EOFError) as exc:
                connection.close()
                raise ProbeConnectionError(f"{type(exc).__name__}: {exc}") from None
            except BaseException:  # a timeout or a cancellation: the connection is mid-exchange
                connection.close()
                raise
            if keep and len(idle) < self.MAX_IDLE:
                idle.append(connection)
            else:
                connection.close()
            return answer

    async def _open(self, target: Target, verify: bool | str) -> _Connection:
        context = self._context(verify) if target.scheme == "https" else None
        try:
            reader, writer = await asyncio.open_connection(
                target.host, target.port, ssl=context, server_hostname=target.host if context else None
            )
        except OSError as exc:
            raise ProbeConnectionError(f"{type(exc).__name__}: {exc}") from None
        return _Connection(reader, writer)

    async def _exchange(
        self,
        connection: _Connection,
        target: Target,
        method: str,
        headers: list[tuple[str, str]],
        body: bytes,
        limit: int,
    ) -> tuple[Answer, bool]:
        """(the answer, whether the connection can carry another request)."""
        state = connection.h11
        data = state.send(h11.Request(method=method, target=target.path, headers=headers))
        if body:
            data += state.send(h11.Data(data=body))
        data += state.send(h11.EndOfMessage())
        try:
            connection.writer.write(data)
            await connection.writer.drain()
        except (ConnectionResetError, BrokenPipeError):
            raise _StaleConnectionError from None
        status, encoding, raw, started = 0, "", bytearray(), False
        while True:
            event = state.next_event()
            if event is h11.NEED_DATA:
                chunk = await connection.reader.read(65536)
                if not chunk and not started:
                    raise _StaleConnectionError
                started = True
                state.receive_data(chunk)
            elif isinstance(event, h11.Response):
                status = event.status_code
                encoding = next(
                    (
                        v.decode("latin-1").strip().lower()
                        for k, v in event.headers
                        if k == b"content-encoding"
                    ),
                    "",
                )
            elif isinstance(event, h11.Data):
                raw += event.data
                if len(raw) > limit:
                    return Answer(status, bytes(raw[: limit + 1]), encoding, True), False
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ProbeConnectionError("the server closed the connection mid-answer")
        keep = state.our_state is h11.DONE and state.their_state is h11.DONE
        if keep:
            state.start_next_cycle()
        return Answer(status, bytes(raw), encoding, False), keep

    async def aclose(self) -> None:
        """Close the idle connections (and wait for them, so no transport outlives the loop)."""
        connections = [c for idle in self._idle.values() for c in idle]
        self._idle.clear()
        for connection in connections:
            connection.close()
        if connections:  # a TLS peer that never answers the close would hold this up: 2 s at most
            closing = asyncio.gather(*(c.writer.wait_closed() for c in connections), return_exceptions=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closing, 2)


SHARED = ProbeLoop()
"""The loop every inference source uses unless given another (tests give their own)."""
