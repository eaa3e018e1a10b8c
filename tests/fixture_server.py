"""A loopback HTTP server serving recorded payloads (and faults) by path and query, for exporter tests.

HDFS and YARN cannot run here, so their real recorded payloads are served over real HTTP instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Reply:
    body: bytes
    status: int = 200
    content_type: str = "application/json; charset=utf8"
    delay: float = 0.0
    """Seconds to wait before answering (a hanging endpoint)."""
    repeat: int = 1
    """Send the body this many times (a huge answer without holding it in memory)."""


def reply_json(text: str | bytes, **kwargs: Any) -> Reply:
    return Reply(text.encode() if isinstance(text, str) else text, **kwargs)


@dataclass
class Served:
    url: str
    requests: list[str]


@contextmanager
def serve(routes: dict[str, Reply], match_query: bool = True) -> Iterator[Served]:
    """Serve `routes` keyed by path, or by `path?k=v` when the query must match exactly; 404 otherwise."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            requests.append(self.path)
            parts = urlsplit(self.path)
            query = "&".join(f"{k}={v}" for k, v in parse_qsl(parts.query))
            reply = routes.get(f"{parts.path}?{query}") if match_query and query else None
            reply = reply or routes.get(parts.path)
            if reply is None:
                body = b'{"message": "not found"}'
                reply = Reply(body, status=404)
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body) * reply.repeat))
                self.end_headers()
                for _ in range(reply.repeat):
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout or size limit): expected in fault tests

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()
