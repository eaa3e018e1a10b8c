"""Serve `/metrics` and `/healthz` for a Runtime; stop cleanly on SIGTERM or SIGINT.

`/metrics` negotiates its format from the Accept header's q-values (RFC 9110 12.5.1): OpenMetrics 1.0.0
(or 0.0.1) or the Prometheus text format 0.0.4, all written by MetricSet's fast writers.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from exporters.runtime import Runtime

log = logging.getLogger("watchkeeper.exporter")


@dataclass(frozen=True)
class Format:
    media_type: str
    version: str
    openmetrics: bool

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; version={self.version}; charset=utf-8"


TEXT = Format("text/plain", "0.0.4", openmetrics=False)
OPENMETRICS = Format("application/openmetrics-text", "1.0.0", openmetrics=True)
OPENMETRICS_001 = Format("application/openmetrics-text", "0.0.1", openmetrics=True)
FORMATS = (TEXT, OPENMETRICS, OPENMETRICS_001)
"""What /metrics serves; on equal q-values the first listed wins (text for `*/*`, then the newest)."""
NOT_ACCEPTABLE = (
    "not acceptable: /metrics serves text/plain;version=0.0.4 and "
    "application/openmetrics-text;version=1.0.0 or 0.0.1\n"
)


def _ranges(accept: str) -> list[tuple[str, str, str | None, float]]:
    """(type, subtype, version or None, q) per media range; a malformed range is skipped."""
    out = []
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        kind, slash, subtype = media.lower().partition("/")
        if not slash or not kind or not subtype:
            continue
        version, q = None, 1.0
        try:
            for param in params:
                key, _, raw = param.partition("=")
                key, raw = key.strip().lower(), raw.strip().strip('"')
                if key == "q":
                    q = float(raw)
                    if not 0 <= q <= 1:
                        raise ValueError(raw)
                elif key == "version":
                    version = raw
        except ValueError:
            continue
        out.append((kind, subtype, version, q))
    return out


def _quality(fmt: Format, ranges: list[tuple[str, str, str | None, float]]) -> float | None:
    """The q of the most specific range matching `fmt`; None if none does."""
    kind, subtype = fmt.media_type.split("/")
    best: tuple[int, float] | None = None
    for r_kind, r_subtype, version, q in ranges:
        if r_kind == "*" and r_subtype == "*":
            specificity = 0
        elif r_kind == kind and r_subtype == "*":
            specificity = 1
        elif (r_kind, r_subtype) == (kind, subtype) and version in (None, fmt.version):
            specificity = 2 if version is None else 3
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, q)
    return None if best is None else best[1]


def negotiate(accept: str | None) -> Format | None:
    """The format to serve for an Accept header; None when every format we have is refused (406).

    A header matching nothing we serve (application/json, OpenMetrics 2.0) gets the text format, as
    Prometheus' client_golang does.
    """
    if not accept or not accept.strip():
        return TEXT
    ranges = _ranges(accept)
    scored = [(q, -i, fmt) for i, fmt in enumerate(FORMATS) if (q := _quality(fmt, ranges)) is not None]
    acceptable = [entry for entry in scored if entry[0] > 0]
    if acceptable:
        return max(acceptable, key=lambda entry: entry[:2])[2]
    return None if any(fmt == TEXT for _, _, fmt in scored) else TEXT


def make_server(runtime: Runtime, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                fmt = negotiate(self.headers.get("Accept"))
                if fmt is None:
                    self._send(406, "text/plain; charset=utf-8", NOT_ACCEPTABLE.encode())
                    return
                try:
                    metrics = runtime.gather()
                    body = (metrics.openmetrics() if fmt.openmetrics else metrics.text()).encode()
                except Exception:
                    log.exception("exposition failed")
                    self._send(
                        500, "text/plain; charset=utf-8", b"exposition failed; see the exporter's log\n"
                    )
                    return
                self._send(200, fmt.content_type, body)
            elif path == "/healthz":
                self._send(200, "text/plain; charset=utf-8", b"ok\n")
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found: try /metrics or /healthz\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(runtime: Runtime, host: str, port: int) -> None:
    """Block serving until SIGTERM/SIGINT, then shut down the server and the runtime."""
    server = make_server(runtime, host, port)

    def stop(signum: int, _frame: object) -> None:
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "listening", extra={"address": f"{host}:{server.server_address[1]}", "sources": len(runtime.sources)}
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()
        runtime.close()
        log.info("stopped")
