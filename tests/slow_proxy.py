"""A small HTTP proxy in front of a real Prometheus that waits `delay` seconds before forwarding (or answers
`status` without forwarding), and counts the requests per API path. For tests of a slow Prometheus."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FORM = "application/x-www-form-urlencoded"


@dataclass
class Proxy:
    url: str
    delay: float = 0.0
    status: int = 0
    """Answer this HTTP status instead of forwarding (0: forward)."""
    seen: Counter[str] = field(default_factory=Counter)
    """Requests received per path (e.g. /api/v1/query_range)."""
    busy: Counter[str] = field(default_factory=Counter)
    """Requests being answered per path now; `peak`: the most at once."""
    peak: Counter[str] = field(default_factory=Counter)
    queries: list[str] = field(default_factory=list)
    """Each request's path, query string and body, decoded."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()
            self.peak.clear()
            self.queries.clear()


@contextmanager
def slow_proxy(upstream: str) -> Iterator[Proxy]:
    """A proxy to `upstream` on a free local port, stopped afterwards."""
    proxy = Proxy("")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?")[0]
            with proxy.lock:
                proxy.seen[path] += 1
                proxy.busy[path] += 1
                proxy.peak[path] = max(proxy.peak[path], proxy.busy[path])
                proxy.queries.append(
                    urllib.parse.unquote_plus(f"{self.path}&{body.decode(errors='replace')}")
                )
            try:
                self._slowly(body)
            finally:
                with proxy.lock:
                    proxy.busy[path] -= 1

        def _slowly(self, body: bytes) -> None:
            time.sleep(proxy.delay)
            if proxy.status:
                self._answer(proxy.status, b"unavailable", "text/plain")
                return
            kind = self.headers.get("Content-Type", FORM)
            request = urllib.request.Request(
                upstream + self.path, data=body or None, method=self.command, headers={"Content-Type": kind}
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    self._answer(answer.status, answer.read(), answer.headers.get("Content-Type", ""))
            except urllib.error.HTTPError as error:
                self._answer(error.code, error.read(), error.headers.get("Content-Type", ""))

        def _answer(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _forward  # noqa: N815 - the names BaseHTTPRequestHandler calls

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
