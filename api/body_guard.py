"""An ASGI guard in front of every write: the token is checked and the body size bounded before any of the
body is read, so an unauthenticated or oversized request costs no memory and learns nothing."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from api.deps import UNAUTHORIZED, token_ok
from api.service_state import ServiceState

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Largest request body accepted (Alertmanager's webhook batches stay far below it)."""
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

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
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)
