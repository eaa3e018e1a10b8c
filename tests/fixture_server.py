"""A loopback HTTP server serving recorded payloads (and faults) by path and query, for exporter tests.

HDFS and YARN cannot run here, so their real recorded payloads are served over real HTTP instead.
"""

from __future__ import annotations

import sys
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
    headers: tuple[tuple[str, str], ...] = ()
    """Extra response headers, such as `("Content-Encoding", "gzip")`."""


def reply_json(text: str | bytes, **kwargs: Any) -> Reply:
    return Reply(text.encode() if isinstance(text, str) else text, **kwargs)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    """Load tests open hundreds of connections at once: the default backlog of 5 would refuse them."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up is no error here
            super().handle_error(request, client_address)


@dataclass
class Served:
    url: str
    requests: list[str]


@contextmanager
def serve(routes: dict[str, Reply], match_query: bool = True) -> Iterator[Served]:
    """Serve `routes` keyed by path, or by `path?k=v` when the query must match exactly; 404 otherwise."""
    requests: list[str] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with lock:
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
                for key, value in reply.headers:
                    self.send_header(key, value)
                self.end_headers()
                for _ in range(reply.repeat):
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout or size limit): expected in fault tests

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()


def gzip_bomb(decoded_mib: int = 2000) -> bytes:
    """A valid gzip body of `decoded_mib` MiB of zeros in about 1 KB a MiB (2000 MiB in 2 MB).

    Built from one compressed MiB repeated: after a full flush deflate output is byte-aligned and its
    window is reset, so every MiB of zeros compresses to the same bytes. The trailer's CRC-32 and size
    are those of the whole content, so a decoder reaching the end finds a correct stream.
    """
    import struct
    import zlib

    block = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    middle = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush()[:-8]  # the final empty block, without the trailer of a 2 MiB stream
    crc = 0
    for _ in range(decoded_mib):
        crc = zlib.crc32(block, crc)
    trailer = struct.pack("<II", crc, (decoded_mib << 20) & 0xFFFFFFFF)
    return first + middle * (decoded_mib - 1) + end + trailer
