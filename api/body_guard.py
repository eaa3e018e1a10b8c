"""An ASGI guard in front of every write: the token is checked and the body size bounded before any of the
body is read, so an unauthenticated or oversized request costs no memory and learns nothing. A body must
be JSON (`Content-Type: application/json`, else 415) nested at most `MAX_DEPTH` deep (else 400), checked
before any parser sees it. `HeadAsGet` answers HEAD on every GET endpoint (the GET's headers, no body)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from api.deps import UNAUTHORIZED, token_ok
from api.service_state import ServiceState

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Largest request body accepted (Alertmanager's webhook batches stay far below it)."""
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_DEPTH = 64
"""Deepest JSON nesting accepted (Alertmanager's webhook is 4 deep; Python's parser overflows near 1,000)."""
NOT_JSON = "send application/json (Content-Type: application/json); nothing stored"


def json_media(content_type: str) -> bool:
    """application/json or any +json type, with or without parameters (charset)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def json_depth(body: bytes) -> int:
    """The deepest nesting of `[` and `{` in `body`, outside strings (a scan, no parser, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _answer(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": detail}).encode()
    base = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": base + headers})
    await send({"type": "http.response.body", "body": body})


class BodyGuard:
    """Refuse writes without the token (401) or with a body over `limit` bytes (413), before reading it."""

    def __init__(self, app: ASGIApp, state: ServiceState, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.state, self.limit = app, state, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if not token_ok(headers.get("authorization", ""), self.state):
            await _answer(send, 401, UNAUTHORIZED, [(b"www-authenticate", b"Bearer")])
            return
        too_large = f"request body over {self.limit} bytes; send smaller batches"
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await _answer(send, 413, too_large, [])
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _answer(send, 413, too_large, [])
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        if body.strip() and scope["method"] != "DELETE":
            if not json_media(headers.get("content-type", "")):
                await _answer(send, 415, NOT_JSON, [])
                return
            if json_depth(body) > MAX_DEPTH:
                message_400 = f"JSON nested deeper than {MAX_DEPTH} levels; nothing stored"
                await _answer(send, 400, message_400, [])
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class HeadAsGet:
    """HEAD on a GET endpoint: the GET's status and headers (Content-Length included), no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headless(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        inner = {**scope, "method": "GET"}
        try:
            await self.app(inner, receive, headless)
        finally:
            if "route" in inner:  # the matched route, for RequestTimer outside
                scope["route"] = inner["route"]


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods labelled as sent; any other is "other" (h11 passes any token, each would be new series)."""
UNMATCHED = "unmatched"


class RequestTimer:
    """`request_duration` by method, route template and status: plain ASGI, so timing a request costs
    no extra task or body copy (Starlette's `BaseHTTPMiddleware` cost about a third of a cached read).
    Both labels are bounded: methods outside `METHODS` are "other"; a request answered before routing
    (the guard's 401, 413, 415) gets the template its path matches, and one matching none "unmatched"."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app, self.state = app, state
        self._templates: list[tuple[re.Pattern[str], str]] | None = None

    def _route_of(self, scope: Scope) -> str:
        """The template of the app's route `scope`'s path matches (its OpenAPI paths, in route order)."""
        if self._templates is None:
            from starlette.routing import compile_path

            app: Any = scope.get("app")
            try:  # built once (FastAPI caches it); its paths carry every router's prefix
                paths = list(app.openapi().get("paths", {})) if hasattr(app, "openapi") else []
            except Exception:  # a metric label is never worth a failed request
                paths = []
            self._templates = [(compile_path(path)[0], path) for path in paths]
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return next((template for regex, template in self._templates if regex.match(path)), UNMATCHED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def record_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) if route is not None else None
            if not isinstance(template, str):
                template = self._route_of(scope) if status[0] != 404 else UNMATCHED
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.state.metrics.request_duration.labels(method, template, str(status[0])).observe(
                time.perf_counter() - started
            )
