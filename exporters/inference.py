"""Inference endpoints, probed in the background like blackbox_exporter probes, but per catalog endpoint.

Each source sends its configured request (`request:` method, JSON or raw body, headers; the source's
`auth` and `tls_verify` as for every HTTP source) every `interval` on the shared probe loop
(`exporters/probe_loop.py`), never at scrape time. A probe fails by kind: `timeout` (no full answer within
`timeout`), `connection` (refused, reset, TLS), `status` (not in `expected_status`) or `shape` (the body is
not JSON, lacks `expect_json_path`, or is too large). Scrapes serve the cumulative counters and latency
histogram and the last probe's outcome; `up` is the last probe's success.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import math
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from catalog.model.inference import InferenceSource, JsonStep
from exporters import names as m
from exporters.errors import ScrapeError
from exporters.http import ACCEPT_ENCODING, inflate, resolve_auth
from exporters.probe_loop import SHARED, ProbeConnectionError, ProbeLoop, Target
from exporters.runtime import Scrape, Source

log = logging.getLogger("watchkeeper.exporter")
SCRAPE_KIND = {"timeout": "timeout", "connection": "connection", "status": "http_status", "shape": "parse"}
"""A probe's error kind -> the runtime's scrape error kind (`<prefix>_scrape_errors_total{kind}`)."""
MAX_PHASE = 1.0
"""The first probe of a source starts within this many seconds (spread by name, so that 100 sources do
not all hit their servers in the same millisecond)."""
FIRST_GRACE = 0.5
"""A scrape in the first moments after start waits for the first probe until this long after its phase
(and never longer than the timeout); later scrapes never wait: an endpoint that hangs holds up no scrape."""


def bucket_bounds(config: InferenceSource) -> tuple[float, ...]:
    """The histogram's bounds: the model-serving defaults, plus `latency_target` when it is not one."""
    bounds = list(m.INFERENCE_BUCKETS)
    target = config.latency_target.seconds if config.latency_target else None
    if target is not None and target > 0 and not any(abs(b - target) <= 1e-9 * target for b in bounds):
        bounds = sorted([*bounds, target])
    return tuple(float(b) for b in bounds)


def json_path_holds(document: Any, steps: tuple[JsonStep, ...]) -> bool:
    """True if the path leads to a value that is not null (keys into objects, indices into lists)."""
    node = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return False
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                return False
            node = node[step]
    return node is not None


USER_AGENT = "watchkeeper-probe/1"


def _proxied(target: Target) -> bool:
    """True if the environment sends this origin through a proxy (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY,
    minus NO_PROXY), as httpx would."""
    import urllib.request

    proxies = urllib.request.getproxies_environment()
    if not (proxies.get(target.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass_environment(target.host, proxies)  # type: ignore[attr-defined]


def _request(
    config: InferenceSource, target: Target, auth: httpx.Auth | None
) -> tuple[list[tuple[str, str]], bytes]:
    """The probe's headers and body, built once: the defaults httpx sent, the catalog's headers over them,
    and the auth's Authorization over those (as httpx's auth flow sets it last)."""
    request = config.request
    body = b""
    headers = {
        "host": ("Host", target.host_header),
        "accept": ("Accept", "application/json"),
        "accept-encoding": ("Accept-Encoding", ACCEPT_ENCODING),
        "user-agent": ("User-Agent", USER_AGENT),
    }
    if request.json_body is not None:
        body = json.dumps(
            request.json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode()
        headers["content-type"] = ("Content-Type", "application/json")
    elif request.body is not None:
        body = request.body.encode()
    if body or request.method in ("POST", "PUT"):
        headers["content-length"] = ("Content-Length", str(len(body)))
    for name, value in request.headers.items():
        headers[name.lower()] = (name, value)
    if auth is not None:
        signed = next(auth.auth_flow(httpx.Request(request.method, config.url)))
        headers["authorization"] = ("Authorization", signed.headers["Authorization"])
    return list(headers.values()), body


@dataclass(frozen=True)
class ProbeResult:
    """One probe's outcome. `status` is 0 without an answer; `kind` is None on success."""

    status: int
    duration: float
    kind: str | None
    message: str
    finished_at: float

    @property
    def ok(self) -> bool:
        return self.kind is None


class LatencyHistogram:
    """Cumulative counts of probe durations per bucket (an observation equal to a bound is in it: `le`)."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # per bucket, not cumulative; the last one is +Inf
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.sum += seconds

    def cumulative(self) -> list[tuple[float, float]]:
        out, running = [], 0
        for bound, count in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += count
            out.append((bound, float(running)))
        return out


class InferenceCollector(Source):
    kind = "inference"
    prefix = m.INFERENCE_PREFIX

    def __init__(
        self, config: InferenceSource, loop: ProbeLoop | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(config.name, config.service, config.timeout.seconds)
        self.config = config
        self.loop = loop or SHARED
        self.clock = clock
        self.auth: httpx.Auth | None = resolve_auth(config.auth, f"inference source {config.name}")
        self.target = Target.parse(config.url)
        self.proxied = _proxied(self.target)  # then httpx, which speaks to proxies; LeanHttp does not
        self.headers, self.body = _request(config, self.target, self.auth)
        self.steps = config.json_path()
        self.histogram = LatencyHistogram(bucket_bounds(config))
        self.probes = 0
        self.errors = dict.fromkeys(m.INFERENCE_ERROR_KINDS, 0)
        self.last: ProbeResult | None = None
        self._lock = threading.Lock()  # probes update on the probe loop, scrapes read on the runtime's
        self._first = threading.Event()
        self._started = False
        spread = (zlib.crc32(self.name.encode()) % 1000) / 1000
        self.phase = spread * min(config.interval.seconds, MAX_PHASE)
        self._first_due = 0.0  # monotonic time until which a scrape waits for the first probe

    # --- background probing ---------------------------------------------------------------------

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.loop.acquire()
            self._first_due = time.monotonic() + self.phase + FIRST_GRACE
            self.loop.every(self, self.config.interval.seconds, self.phase, self.probe)

    def stop(self) -> None:
        if self._started:
            self._started = False
            self.loop.cancel(self)
            self.loop.release()

    def probe_now(self) -> ProbeResult:
        """One probe, now, from any thread (the loop must be acquired): for tests and benchmarks."""
        return self.loop.run(self.probe(), self.timeout + 10)

    async def probe(self) -> ProbeResult:
        """Send the request once, record the outcome and return it. Never raises."""
        result, observed = await self._send()
        with self._lock:
            self.probes += 1
            if result.kind is not None:
                self.errors[result.kind] += 1
            if observed:
                self.histogram.observe(result.duration)
            self.last = result
        self._first.set()
        if result.kind is not None:
            log.debug(
                "probe failed",
                extra={"source": self.name, "error_kind": result.kind, "error": result.message},
            )
        return result

    async def _send(self) -> tuple[ProbeResult, bool]:
        """(result, whether its duration is a latency to observe: not for a connection that never opened)."""
        if self.proxied:
            return await self._send_httpx()
        config, limit = self.config, self.loop.http.max_body_bytes
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                answer = await self.loop.lean.request(
                    self.target, config.request.method, self.headers, self.body, config.tls_verify, limit
                )
        except TimeoutError:
            message = f"{config.url} did not answer within {self.timeout:g}s"
            return self._result(0, start, "timeout", message), True
        except ProbeConnectionError as exc:
            return self._result(0, start, "connection", f"{config.url}: {exc}"), False
        duration = time.perf_counter() - start
        body, too_large = answer.body, answer.too_large
        if answer.encoding not in ("", "identity") and not too_large:
            try:
                body = bytes(inflate(body, answer.encoding, limit, config.url))
            except ScrapeError as exc:
                if exc.kind != "too_large":
                    return ProbeResult(answer.status, duration, "shape", str(exc), self.clock()), True
                too_large = True
        kind, message = self.check(answer.status, body, too_large, limit)
        return ProbeResult(answer.status, duration, kind, message, self.clock()), True

    async def _send_httpx(self) -> tuple[ProbeResult, bool]:
        """The request through httpx, for an endpoint behind a proxy."""
        config, request = self.config, self.config.request
        client = self.loop.http.client(config.tls_verify)
        limit = self.loop.http.max_body_bytes
        status, body, too_large = 0, bytearray(), False
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                async with client.stream(
                    request.method,
                    config.url,
                    json=request.json_body,
                    content=request.body,
                    headers=request.headers,
                    auth=self.auth,
                    timeout=self.timeout,
                ) as response:
                    status = response.status_code
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > limit:
                            too_large = True
                            break
        except (TimeoutError, httpx.TimeoutException):
            message = f"{config.url} did not answer within {self.timeout:g}s"
            return self._result(status, start, "timeout", message), True
        except httpx.DecodingError as exc:
            return self._result(status, start, "shape", f"{config.url}: undecodable answer: {exc}"), True
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            message = f"{config.url}: {type(exc).__name__}: {exc}"
            return self._result(0, start, "connection", message), False
        except Exception as exc:  # an answer httpx could not take apart: never stop the probe loop
            log.exception("probe failed unexpectedly", extra={"source": self.name})
            return self._result(0, start, "connection", f"{config.url}: {type(exc).__name__}: {exc}"), False
        duration = time.perf_counter() - start
        kind, message = self.check(status, bytes(body), too_large, limit)
        return ProbeResult(status, duration, kind, message, self.clock()), True

    def _result(self, status: int, start: float, kind: str, message: str) -> ProbeResult:
        return ProbeResult(status, time.perf_counter() - start, kind, message, self.clock())

    def check(self, status: int, body: bytes, too_large: bool, limit: int) -> tuple[str | None, str]:
        """The error kind and message of a complete answer, or (None, "") when it is what is expected."""
        url = self.config.url
        if status not in self.config.expected_status:
            expected = ", ".join(map(str, self.config.expected_status))
            return "status", f"{url} answered HTTP {status} (expected {expected})"
        if too_large:
            return "shape", f"{url} sent more than {limit} bytes"
        if self.steps is None:
            return None, ""
        try:
            document = json.loads(body)
        except ValueError as exc:
            return "shape", f"{url} did not answer JSON: {exc}"
        if not json_path_holds(document, self.steps):
            return "shape", f"{url}: the answer has no {self.config.expect_json_path} (or it is null)"
        return None, ""

    # --- scrape -----------------------------------------------------------------------------------

    async def collect(self, scrape: Scrape) -> None:
        deadline = min(self._first_due, time.monotonic() + self.timeout * 0.9)
        while not self._first.is_set() and time.monotonic() < deadline:  # just started: let it finish
            await asyncio.sleep(0.02)  # (no thread per waiting source: 100 of them start together)
        labels = {m.SOURCE_LABEL: self.name}
        out = scrape.metrics
        with self._lock:
            last, probes, errors = self.last, self.probes, dict(self.errors)
            buckets, total = self.histogram.cumulative(), self.histogram.sum
        out.histogram(m.INFERENCE_PROBE_DURATION_SECONDS, "Probe latency", labels, buckets, total)
        out.counter(m.INFERENCE_PROBES, "Probes sent", labels, probes)
        for kind, count in errors.items():
            out.counter(m.INFERENCE_PROBE_ERRORS, "Failed probes by kind", {**labels, "kind": kind}, count)
        if last is None:
            scrape.fail(ScrapeError("timeout", f"inference {self.name}: the first probe has not finished"))
            return
        out.gauge(m.INFERENCE_PROBE_SUCCESS, "1 if the last probe succeeded", labels, 1 if last.ok else 0)
        out.gauge(m.INFERENCE_PROBE_STATUS_CODE, "HTTP status of the last probe", labels, last.status)
        out.gauge(
            m.INFERENCE_PROBE_LAST_DURATION_SECONDS, "Seconds the last probe took", labels, last.duration
        )
        age = max(0.0, self.clock() - last.finished_at)
        out.gauge(m.INFERENCE_PROBE_AGE_SECONDS, "Seconds since the last probe ended", labels, age)
        if last.kind is not None:
            scrape.fail(ScrapeError(SCRAPE_KIND[last.kind], last.message))
