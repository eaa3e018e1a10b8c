"""One pooled async HTTP client for every source: JSON fetching with timeouts, size limits and error kinds.

Bodies are read raw and decoded here, not by httpx: gzip and deflate are inflated one step at a time with
the size limit checked on the decoded bytes, so a 2 MB gzip bomb costs the limit, never its 2 GB. Inflating
and parsing large bodies run in a small worker pool, off the event loop every source shares.
"""

from __future__ import annotations

import asyncio
import json
import sys
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from catalog.model.connections import HttpAuth
from exporters.errors import ScrapeError, shown
from exporters.secrets import read_secret

MAX_BODY_BYTES = 20 * 1024 * 1024
"""Larger answers, on the wire or once decoded, are refused (`too_large`): a 50 MB /jmx is a
misconfigured endpoint, not data."""
ACCEPT_ENCODING = "gzip, deflate"
"""What we ask for; any other Content-Encoding (br, zstd, compress) is a `parse` error."""
DECODE_STEP = 1024 * 1024
"""Decoded bytes produced per inflate call: the most a step can overshoot the limit by."""
STEPS_PER_JOB = 4
"""Inflate calls per job in the worker pool (4 MB decoded, a few ms)."""
MAX_INFLATING = 4
"""Bodies decoded at once: what refused bodies can hold together is this times the limit (80 MB),
however many sources send bombs."""
PARSE_INLINE_BYTES = 256 * 1024
"""Bodies up to this size are parsed on the event loop (a few ms); larger ones in the worker pool."""
MAX_LARGE_BODIES = 4
"""Bodies past PARSE_INLINE_BYTES (or compressed) held at once, from their first large chunk until parsed:
however many sources send 17 MB answers under 50 concurrent scrapes, the exporter holds at most this many
(80 MB of bodies). Small bodies never wait for a slot, so healthy sources are not queued behind them."""
_IDENTITY = ("", "identity")
_ENCODINGS = (*_IDENTITY, "gzip", "x-gzip", "deflate")
T = TypeVar("T")


def endpoint(url: str) -> str:
    """`host:port` of a URL: the label value for a NameNode, DataNode or ResourceManager."""
    return urlsplit(url).netloc or url


def _secret(env: str | None, file: str | None, where: str) -> str:
    """A basic password or bearer token (`exporters.secrets.read_secret`: start-up errors, never values)."""
    return read_secret(env, file, where)


def resolve_auth(auth: HttpAuth | None, where: str) -> httpx.Auth | None:
    """httpx auth from the catalog's references; secrets are read here, once, and never logged."""
    if auth is None:
        return None
    if auth.basic is not None:
        basic = auth.basic
        password = read_secret(basic.password_env, basic.password_file, where, "the basic auth password")
        return httpx.BasicAuth(auth.basic.username, password)
    assert auth.bearer is not None
    token = read_secret(auth.bearer.token_env, auth.bearer.token_file, where, "the bearer token")
    return _Bearer(token)


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = self._header
        yield request


class Inflater:
    """Decodes a gzip or deflate body in steps; `too_large` as soon as the decoded bytes pass `limit`.

    Each `step()` decodes at most STEPS_PER_JOB megabytes, so that a bomb queued in the worker pool
    delays other sources' work by one step, not by its whole 20 MB. Deflate is zlib-wrapped by the
    standard (RFC 9110 8.4.1.2), but some servers send it raw: both are read.
    """

    def __init__(self, raw: bytes | bytearray, encoding: str, limit: int, url: str) -> None:
        if encoding == "deflate":
            zlib_header = len(raw) >= 2 and raw[0] & 0x0F == 8 and (raw[0] << 8 | raw[1]) % 31 == 0
            wbits = zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS
        else:
            wbits = 16 + zlib.MAX_WBITS  # gzip only
        self._decoder = zlib.decompressobj(wbits)
        self._data: bytes | bytearray = raw
        self.out = bytearray()
        self.done = False
        self._encoding, self._limit, self._url = encoding, limit, url

    def step(self) -> None:
        """Decode up to STEPS_PER_JOB * DECODE_STEP bytes more; sets `done` at the end of the stream."""
        decoder, encoding, url = self._decoder, self._encoding, self._url
        try:
            for _ in range(STEPS_PER_JOB):
                piece = decoder.decompress(self._data, DECODE_STEP)
                self.out += piece
                rest = decoder.unconsumed_tail
                stuck = not piece and len(rest) == len(self._data)
                self._data = rest
                if len(self.out) > self._limit:
                    del self.out[:]  # freed now, not whenever the error is let go
                    raise ScrapeError(
                        "too_large", f"{url} sent more than {self._limit} bytes once decoded ({encoding})"
                    )
                if decoder.eof or stuck:
                    self.done = True
                    break
        except zlib.error as exc:
            raise ScrapeError("parse", f"{url}: its {encoding} body cannot be decoded: {exc}") from None
        if self.done and not decoder.eof:
            raise ScrapeError("parse", f"{url}: its {encoding} body is cut short")


def inflate(raw: bytes | bytearray, encoding: str, limit: int, url: str) -> bytearray:
    """A whole gzip or deflate body decoded (Inflater's steps in a row)."""
    inflater = Inflater(raw, encoding, limit, url)
    while not inflater.done:
        inflater.step()
    return inflater.out


def parse_json(body: bytes | bytearray, url: str) -> Any:
    """JSON from a body; ScrapeError(parse) for malformed, truncated or absurdly nested JSON."""
    try:
        return json.loads(body)
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # not Python's advice to raise its limit
            digits = sys.get_int_max_str_digits()
            raise ScrapeError(
                "parse", f"{url} sent JSON with a number of more than {digits} digits"
            ) from None
        raise ScrapeError("parse", f"{url} sent malformed or truncated JSON: {exc}") from None
    except RecursionError:
        raise ScrapeError("parse", f"{url} sent JSON nested too deeply to read") from None


def protocol_error(url: str, exc: httpx.RemoteProtocolError) -> ScrapeError:
    """A peer that closed before answering is `connection`; one that answered with something that is not
    HTTP (random bytes, a header line past h11's limit) is `parse`: it is reachable, its answer is bad."""
    text = str(exc)
    if "disconnected without sending" in text or "peer closed connection" in text:
        return ScrapeError("connection", f"{url}: {type(exc).__name__}: {shown(exc, 200)}")
    return ScrapeError("parse", f"{url} did not answer with valid HTTP: {shown(text, 200)}")


class ItemLimit:
    """Counts a marker (such as `"name"`, a key each item holds once) in a body as it streams in, and
    refuses it (`too_large`) past `limit`: an answer of 300,000 small items is stopped after the first
    thousand, before most of it is read and long before the 110 MB its parse would take."""

    def __init__(self, marker: bytes, limit: int, what: str) -> None:
        self.marker, self.limit, self.what = marker, limit, what
        self.count = 0
        self._tail = b""

    def feed(self, data: bytes | bytearray, url: str) -> None:
        keep = len(self.marker) - 1  # an occurrence across the boundary starts in the last `keep` bytes
        window = self._tail + bytes(data[:keep])
        self.count += window.count(self.marker) + data.count(self.marker)
        self._tail = (self._tail + bytes(data[-keep:]))[-keep:]
        if self.count > self.limit:
            raise ScrapeError("too_large", f"{url} sent more than {self.limit} {self.what}")


def _limited_json(body: bytes | bytearray, url: str, items: ItemLimit | None) -> Any:
    if items is not None:
        items.feed(body, url)
    return parse_json(body, url)


class _Slot:
    """One of MAX_LARGE_BODIES places for a large body, taken at most once per request."""

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore, self.held = semaphore, False

    async def acquire(self) -> None:
        if not self.held:
            await self._semaphore.acquire()
            self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._semaphore.release()


class HttpPool:
    """Async clients shared by all sources, one per TLS setting, with keep-alive connection pools, and the
    worker pool that inflates and parses large bodies."""

    def __init__(self, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}
        self.max_body_bytes = max_body_bytes
        self._workers: ThreadPoolExecutor | None = None
        self._inflating: asyncio.Semaphore | None = None
        self._large: asyncio.Semaphore | None = None

    def client(self, verify: bool | str) -> httpx.AsyncClient:
        key = str(verify)
        if key not in self._clients:
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
            self._clients[key] = httpx.AsyncClient(
                verify=verify,
                limits=limits,
                headers={"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING},
            )
        return self._clients[key]

    async def offload(self, work: Callable[..., T], *args: Any) -> T:
        """Run CPU-heavy `work(*args)` (inflating, parsing, building thousands of series) in the worker
        pool, so the event loop keeps serving every other source meanwhile."""
        if self._workers is None:
            self._workers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="watchkeeper-parse")
        return await asyncio.get_running_loop().run_in_executor(self._workers, work, *args)

    async def get_json(
        self,
        url: str,
        *,
        params: dict[str, str] | None = None,
        timeout: float,
        auth: httpx.Auth | None = None,
        verify: bool | str = True,
        max_bytes: int | None = None,
        items: ItemLimit | None = None,
    ) -> Any:
        """GET a JSON document; raise ScrapeError with the kind of failure. `max_bytes` lowers the body
        limit for this request; `items` refuses a body holding more items than it allows, as it streams
        in (a compressed body once decoded), before it is parsed."""
        if self._large is None:
            self._large = asyncio.Semaphore(MAX_LARGE_BODIES)
        slot = _Slot(self._large)
        try:
            return await self._get_json(url, params, timeout, auth, verify, max_bytes, items, slot)
        finally:
            slot.release()

    async def _get_json(
        self,
        url: str,
        params: dict[str, str] | None,
        timeout: float,
        auth: httpx.Auth | None,
        verify: bool | str,
        max_bytes: int | None,
        items: ItemLimit | None,
        slot: _Slot,
    ) -> Any:
        limit = min(self.max_body_bytes, max_bytes or self.max_body_bytes)
        try:
            async with self.client(verify).stream(
                "GET", url, params=params, timeout=timeout, auth=auth
            ) as response:
                if response.status_code != 200:
                    raise ScrapeError("http_status", f"{url} answered HTTP {response.status_code}")
                ctype = response.headers.get("content-type", "")
                if "json" not in ctype.lower():
                    raise ScrapeError(
                        "parse", f"{url} sent {shown(ctype) if ctype else 'no content type'}, not JSON"
                    )
                encoding = response.headers.get("content-encoding", "").strip().lower()
                if encoding not in _ENCODINGS:
                    raise ScrapeError(
                        "parse",
                        f"{url} sent Content-Encoding {shown(encoding)}; only {ACCEPT_ENCODING} are read",
                    )
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise ScrapeError("too_large", f"{url} sent {declared} bytes (limit {limit})")
                body = bytearray()
                streamed = items if encoding in _IDENTITY else None
                async for chunk in response.aiter_raw():
                    body += chunk
                    if streamed is not None:
                        streamed.feed(chunk, url)
                    if len(body) > limit:
                        del body[:]
                        raise ScrapeError("too_large", f"{url} sent more than {limit} bytes")
                    if len(body) > PARSE_INLINE_BYTES:
                        await slot.acquire()  # wait here, reading no more, while others hold theirs
        except httpx.TimeoutException:
            raise ScrapeError("timeout", f"{url} did not answer within {timeout:g}s") from None
        except httpx.RemoteProtocolError as exc:
            raise protocol_error(url, exc) from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise ScrapeError("connection", f"{url}: {type(exc).__name__}: {shown(exc, 200)}") from None
        if encoding not in _IDENTITY:
            await slot.acquire()
            if self._inflating is None:
                self._inflating = asyncio.Semaphore(MAX_INFLATING)
            async with self._inflating:
                inflater = Inflater(body, encoding, limit, url)
                del body
                while not inflater.done:
                    await self.offload(inflater.step)
                body = inflater.out
        recount = items if encoding not in _IDENTITY else None  # counted on the decoded bytes
        if len(body) > PARSE_INLINE_BYTES:
            await slot.acquire()
            return await self.offload(_limited_json, body, url, recount)
        return _limited_json(body, url, recount)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        if self._workers is not None:
            self._workers.shutdown(wait=False, cancel_futures=True)
            self._workers = None
