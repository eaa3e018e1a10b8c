"""A loopback stand-in for Airflow's stable REST API (v1 for Airflow 2, v2 for Airflow 3), serving stored DAG
and DAG-run objects (tests/fixtures/airflow) with the filters the API documents: `state` (repeatable),
`order_by` (`-` for descending), `limit`, `end_date_gte`, and `total_entries` counted before `limit`.

Auth as Airflow does it: v1 takes HTTP basic auth; v2 takes a bearer JWT issued by `POST /auth/token`
(201 `{"access_token": ...}`, 401 for a wrong password). Faults can be switched on per server.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


def _when(text: str | None) -> float | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


def make_jwt(claims: dict[str, Any]) -> str:
    """An unsigned-looking JWT (header.claims.signature): the probe only reads `exp`; the server checks it."""

    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS512', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


@dataclass
class FakeAirflow:
    version: int
    dags: dict[str, dict[str, Any]]
    runs: dict[str, list[dict[str, Any]]]
    user: str
    password: str
    now: Callable[[], float]
    token_life: float = 3600.0
    url: str = ""
    logins: int = 0
    tokens: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    status: int | None = None
    """Answer every GET with this status (a broken server)."""
    malformed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def revoke(self) -> None:
        with self.lock:
            self.tokens.clear()

    def _authorized(self, header: str | None) -> bool:
        if self.version == 1:
            expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            return header == f"Basic {expected}"
        return header is not None and header.removeprefix("Bearer ") in self.tokens

    def login(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            doc = json.loads(body)
        except ValueError:
            return 422, {"detail": "body is not JSON"}
        if doc.get("username") != self.user or doc.get("password") != self.password:
            return 401, {"detail": "Invalid credentials"}
        with self.lock:
            self.logins += 1
            token = make_jwt({"sub": self.user, "exp": int(self.now() + self.token_life), "n": self.logins})
            self.tokens.add(token)
        return 201, {"access_token": token}

    def get(self, path: str, query: list[tuple[str, str]], auth: str | None) -> tuple[int, Any]:
        if not self._authorized(auth):
            return 401, {"detail": "Not authenticated"}
        if self.status is not None:
            return self.status, {"detail": "broken on purpose"}
        prefix = f"/api/v{self.version}/dags/"
        if not path.startswith(prefix):
            return 404, {"detail": "Not Found"}
        dag_id, _, rest = unquote(path.removeprefix(prefix)).partition("/")
        if dag_id not in self.dags:
            return 404, {"detail": f"The DAG with dag_id: `{dag_id}` was not found"}
        if rest == "":
            return 200, self.dags[dag_id]
        if rest != "dagRuns":
            return 404, {"detail": "Not Found"}
        runs = list(self.runs.get(dag_id, []))
        states = [v for k, v in query if k == "state"]
        if states:
            runs = [r for r in runs if r["state"] in states]
        since = dict(query).get("end_date_gte")
        if since:
            floor = _when(since) or 0.0
            runs = [r for r in runs if (_when(r["end_date"]) or -1.0) >= floor]
        order = dict(query).get("order_by", "id")
        key = order.lstrip("-")
        if key != "id":
            present = sorted(
                (r for r in runs if r.get(key)),
                key=lambda r: _when(r[key]) or 0.0,
                reverse=order.startswith("-"),
            )
            runs = present + [r for r in runs if not r.get(key)]
        total = len(runs)
        limit = int(dict(query).get("limit", "100"))
        return 200, {"dag_runs": runs[:limit], "total_entries": total}


@contextmanager
def fake_airflow(airflow: FakeAirflow) -> Iterator[FakeAirflow]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, doc: Any) -> None:
            body = json.dumps(doc).encode()
            if airflow.malformed and status == 200:
                body = body[: len(body) // 2]
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            with airflow.lock:
                airflow.requests.append(self.path)
            self._send(*airflow.get(parts.path, parse_qsl(parts.query), self.headers.get("Authorization")))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if airflow.version != 2 or self.path != "/auth/token":
                self._send(404, {"detail": "Not Found"})
                return
            self._send(*airflow.login(body))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    airflow.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield airflow
    finally:
        server.shutdown()
        server.server_close()
