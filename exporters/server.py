"""Serve `/metrics` and `/healthz` for a Runtime; stop cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.exposition import choose_encoder

from exporters.runtime import Runtime

log = logging.getLogger("watchkeeper.exporter")


def make_server(runtime: Runtime, host: str, port: int) -> ThreadingHTTPServer:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(runtime)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                accept = self.headers.get("Accept", "")
                encoder, content_type = choose_encoder(accept)
                try:
                    if "openmetrics" in accept:
                        body = encoder(registry)
                    else:  # the fast writer, same samples as prometheus_client's (tests compare them)
                        body, content_type = runtime.exposition().encode(), CONTENT_TYPE_LATEST
                except Exception:
                    log.exception("exposition failed")
                    self._send(
                        500, "text/plain; charset=utf-8", b"exposition failed; see the exporter's log\n"
                    )
                    return
                self._send(200, content_type, body)
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
