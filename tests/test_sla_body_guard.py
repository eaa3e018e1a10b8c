"""Writes are refused before their body is read: no token is a 401, an oversized body a 413.

Found by a hostile-input review: a POST without a token made `serve` read a 1 GB body into memory (RSS 2 GB)
and answer 422 with JSON-parser details. Real uvicorn server (tests/sla_service.py), real sockets.
"""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from api.body_guard import MAX_BODY_BYTES
from tests.sla_service import TOKEN, database_url, service


def _raw_post(port: int, headers: str, body_bytes: int) -> str:
    """Send headers that declare a large body, then only part of it; return the status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST /api/v1/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {body_bytes}\r\n{headers}\r\n".encode()
        )
        sock.sendall(b" " * 65536)  # far less than declared: a guard that reads the body would wait here
        return sock.recv(4096).decode("latin-1").splitlines()[0]


def test_no_token_is_401_before_the_body_is_read(tmp_path: Path) -> None:
    with database_url("sqlite", tmp_path) as url, service(url, tmp_path) as svc:
        port = int(svc.url.rsplit(":", 1)[1])
        assert " 401 " in _raw_post(port, "", 10**9)
        assert " 401 " in _raw_post(port, "Authorization: Bearer wrong\r\n", 10**9)
        # Malformed JSON without a token: 401, never parser details.
        answer = httpx.post(f"{svc.url}/api/v1/alerts", content=b"{not json", timeout=10)
        assert answer.status_code == 401 and "JSON" not in answer.text


def test_an_oversized_body_is_413_declared_or_streamed(tmp_path: Path) -> None:
    with database_url("sqlite", tmp_path) as url, service(url, tmp_path) as svc:
        port = int(svc.url.rsplit(":", 1)[1])
        assert " 413 " in _raw_post(port, f"Authorization: Bearer {TOKEN}\r\n", MAX_BODY_BYTES + 1)

        def chunks():  # type: ignore[no-untyped-def]
            for _ in range(MAX_BODY_BYTES // 65536 + 2):
                yield b" " * 65536

        answer = httpx.post(
            f"{svc.url}/api/v1/alerts",
            content=chunks(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 413, answer.text
        # A normal delivery still works through the guard.
        ok = httpx.post(
            f"{svc.url}/api/v1/alerts",
            json={
                "version": "4",
                "status": "firing",
                "receiver": "r",
                "groupLabels": {},
                "commonLabels": {},
                "commonAnnotations": {},
                "externalURL": "http://am",
                "alerts": [],
            },
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert ok.status_code in {200, 422}, ok.text
