"""Serve `/metrics` and `/healthz` for a Runtime with uvicorn; on SIGTERM or SIGINT, drain and stop.

`/metrics` negotiates its format from the Accept header's q-values (RFC 9110 12.5.1): OpenMetrics 1.0.0
(or 0.0.1) or the Prometheus text format 0.0.4, all written by MetricSet's fast writers, gzipped when the
scraper accepts it (Prometheus always does). The server is asyncio (uvicorn over h11): an idle or slow
connection costs a socket, not a thread; the listen backlog is 2048; a connection must send its request
head within the read timeout; and on a signal it stops accepting, lets the scrapes in flight finish, and
only then closes the runtime.

Scrapes that arrive together share the runtime's collections (exporters/runtime.py) and one rendering of
the body per format: a hundred concurrent scrapes render it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gzip
import logging
import resource
import signal
import socket
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from exporters.negotiation import (  # negotiate is also imported from here by tests
    NOT_ACCEPTABLE,
    Format,
    accepts_gzip,
    negotiate,
)
from exporters.runtime import Runtime, SourceResult

log = logging.getLogger("watchkeeper.exporter")


BACKLOG = 2048
"""Connections the kernel queues before the server accepts them (Python's http.server had 5)."""
READ_TIMEOUT = 10.0
"""Seconds a connection has to send its request line and headers (slowloris), after connecting or after
its previous response."""
KEEP_ALIVE = 5
"""Seconds an idle keep-alive connection stays open."""
MAX_CONNECTIONS = 4096
"""Past this many open connections, requests are answered 503 at once."""
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 1
"""zlib level 1: a 49,000-series exposition 26x smaller, in a third of level 6's time for 4% less
(benchmarks/load_bench.py); the body is compressed once per collection, not per scrape."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass
class _Rendered:
    results: list[SourceResult]
    body: asyncio.Future[tuple[bytes, bool]]


class MetricsApp:
    """The ASGI application: `/metrics`, `/healthz`, 404 elsewhere, 405 for anything but GET."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._rendered: dict[tuple[Format, bool], _Rendered] = {}
        self._render_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="watchkeeper-render")
        self._failing = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] != "GET":
            await _send(send, 405, "text/plain; charset=utf-8", b"only GET is served\n", [(b"allow", b"GET")])
            return
        path = scope["path"]
        if path == "/healthz":
            await _send(send, 200, "text/plain; charset=utf-8", b"ok\n")
        elif path == "/metrics":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            await self._metrics(send, headers)
        else:
            await _send(send, 404, "text/plain; charset=utf-8", b"not found: try /metrics or /healthz\n")

    async def _metrics(self, send: Send, headers: dict[str, str]) -> None:
        fmt = negotiate(headers.get("accept"))
        if fmt is None:
            await _send(send, 406, "text/plain; charset=utf-8", NOT_ACCEPTABLE.encode())
            return
        try:
            results = await self._results()
            body, zipped = await self._body(results, fmt, accepts_gzip(headers.get("accept-encoding")))
        except Exception:
            if not self._failing:  # logged once until an exposition succeeds again
                log.exception("exposition failed")
            self._failing = True
            await _send(
                send, 500, "text/plain; charset=utf-8", b"exposition failed; see the exporter's log\n"
            )
            return
        self._failing = False
        extra = [(b"vary", b"Accept, Accept-Encoding")]
        if zipped:
            extra.append((b"content-encoding", b"gzip"))
        await _send(send, 200, fmt.content_type, body, extra)

    async def _results(self) -> list[SourceResult]:
        """This scrape's results: joined collections, or the latest ones if the deadline passes."""
        try:
            return await asyncio.wait_for(asyncio.wrap_future(self.runtime.submit()), self.runtime.deadline)
        except TimeoutError:
            return self.runtime.latest()

    async def _body(self, results: list[SourceResult], fmt: Format, gz: bool) -> tuple[bytes, bool]:
        """The rendered body for these results, rendered once (in a worker thread) for every scrape that
        has the same results and format."""
        key = (fmt, gz)
        cached = self._rendered.get(key)
        if cached is None or not _same(cached.results, results):
            loop = asyncio.get_running_loop()
            cached = _Rendered(
                results, loop.run_in_executor(self._render_pool, self._render, results, fmt, gz)
            )
            self._rendered[key] = cached
        try:
            return await asyncio.shield(cached.body)
        except Exception:
            if self._rendered.get(key) is cached:
                del self._rendered[key]  # try again on the next scrape
            raise

    def _render(self, results: list[SourceResult], fmt: Format, gz: bool) -> tuple[bytes, bool]:
        metrics = self.runtime.assemble(results)
        body = (metrics.openmetrics() if fmt.openmetrics else metrics.text()).encode()
        if gz and len(body) >= GZIP_MIN_BYTES:
            return gzip.compress(body, GZIP_LEVEL, mtime=0), True
        return body, False

    def close(self) -> None:
        self._render_pool.shutdown(wait=False, cancel_futures=True)


def _same(a: list[SourceResult], b: list[SourceResult]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


async def _send(
    send: Send, status: int, content_type: str, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


def _protocol(read_timeout: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection that has not sent a request head within `read_timeout`
    (uvicorn itself only times out idle keep-alive connections)."""

    class Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            self._head_timer = self.loop.call_later(read_timeout, self._timed_out, self.cycle)

        def _timed_out(self, cycle: object) -> None:
            if self.cycle is cycle and not self.transport.is_closing():  # no request began since armed
                self.transport.close()

    return Protocol


class _Uvicorn(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            log.info("stopping", extra={"signal": signal.Signals(sig).name})
        super().handle_exit(sig, frame)


class MetricsServer:
    """The exporter's HTTP server, with the start/stop interface of `http.server` servers:
    `serve_forever()` (blocks), `shutdown()` (from another thread: drain, then return), `server_close()`."""

    def __init__(self, runtime: Runtime, host: str, port: int, read_timeout: float = READ_TIMEOUT) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        if family == socket.AF_INET and host and not host.replace(".", "").isdigit():
            family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
            self.socket.listen(BACKLOG)
        except OSError:
            self.socket.close()
            raise
        self.socket.setblocking(False)
        self.server_address: tuple[Any, ...] = self.socket.getsockname()
        self.app = MetricsApp(runtime)
        config = uvicorn.Config(
            self.app,
            http=_protocol(read_timeout),
            interface="asgi3",
            lifespan="off",
            loop="asyncio",
            log_config=None,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            backlog=BACKLOG,
            limit_concurrency=MAX_CONNECTIONS,
            timeout_keep_alive=KEEP_ALIVE,
            timeout_graceful_shutdown=int(runtime.deadline) + 1,
        )
        self._server = _Uvicorn(config)
        self._started = threading.Event()
        self._done = threading.Event()

    @property
    def address(self) -> str:
        """`host:port`, with the host in brackets for IPv6."""
        host, port = self.server_address[0], self.server_address[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def serve_forever(self) -> None:
        self._started.set()
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self._done.set()

    def stop_on_signal(self, sig: int, frame: FrameType | None) -> None:
        """A signal handler: stop as on SIGTERM (drain, then return from serve_forever)."""
        self._server.handle_exit(sig, frame)

    def shutdown(self) -> None:
        """Stop accepting, let requests in flight finish, and return once the server has stopped."""
        self._server.should_exit = True
        if self._started.is_set():
            self._done.wait(timeout=(self._server.config.timeout_graceful_shutdown or 0) + 5)

    def server_close(self) -> None:
        self.socket.close()
        self.app.close()


def make_server(runtime: Runtime, host: str, port: int, read_timeout: float = READ_TIMEOUT) -> MetricsServer:
    """A bound server for `runtime` (port 0: any free port); start it with `serve_forever()`."""
    return MetricsServer(runtime, host, port, read_timeout)


def _raise_file_limit() -> None:
    """Each connection is a file descriptor: raise the soft limit to the hard one (at most 65536)."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


M_MMAP_THRESHOLD = -3
"""glibc's mallopt parameter (malloc.h); setting it also turns the dynamic threshold off."""


def _return_freed_memory() -> None:
    """Make glibc give large freed buffers back to the system at once.

    glibc serves an allocation above its mmap threshold with mmap, but raises that threshold (up to 32 MB)
    whenever such a buffer is freed: from then on the 20 MB buffers a refused body needs come from each
    thread's heap, which keeps them. Fixing the threshold at its default (128 KiB) keeps the exporter's
    memory where its live data is (benchmarks/load_bench.py). Not glibc: nothing to do.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)


def serve(runtime: Runtime, host: str, port: int) -> None:
    """Serve until SIGTERM/SIGINT; then drain the scrapes in flight, close the runtime, and return."""
    server = make_server(runtime, host, port)
    _raise_file_limit()
    _return_freed_memory()
    # uvicorn handles the signals while it runs, and re-raises them once stopped: to this handler, so that
    # a drained shutdown exits 0 rather than dying of the signal. It also covers a signal that arrives
    # before uvicorn has installed its own.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, server.stop_on_signal)
    log.info("listening", extra={"address": server.address, "sources": len(runtime.sources)})
    try:
        server.serve_forever()
    finally:
        server.server_close()
        runtime.close()
        log.info("stopped")
