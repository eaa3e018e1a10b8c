"""The probes' own HTTP/1.1 client (exporters/probe_loop.py `LeanHttp`) on the wire, against a real HTTP
server in this process (http.server): what httpx did for the probes before must still hold.

- connections are kept alive (one client port for many probes), and a connection the server closes after
  an answer is replaced without a failed probe;
- gzip and deflate answers are decoded (the JSON path is checked on the decoded body); a bomb is refused
  once past the size limit, a corrupt one is a `shape` error;
- chunked and read-until-close bodies are read whole; a server that hangs up mid-answer is `connection`;
- the request carries Host (with its port), the catalog's headers and the auth's Authorization;
- an endpoint the environment sends through a proxy goes through httpx, which speaks to proxies.
The model-serving behaviour (latencies, faults, TLS, auth) is tested on the real model server in
tests/test_inference.py.
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from catalog.model.inference import InferenceSource
from exporters.inference import InferenceCollector
from exporters.probe_loop import ProbeLoop, Target
from tests.prometheus_stack import free_port

PREDICTION = json.dumps({"predictions": [0.25]}).encode()


@dataclass
class Wire:
    """What the server saw: each request's client port, path, headers and body."""

    url: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def wire_server() -> Iterator[Wire]:
    wire = Wire()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive unless an answer says otherwise

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length else b""
            with wire.lock:
                wire.seen.append(
                    {
                        "port": self.client_address[1],
                        "path": self.path,
                        "method": self.command,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
            behaviour = self.path.split("?")[0].rsplit("/", 1)[-1]
            payload, headers = PREDICTION, {"Content-Type": "application/json"}
            if behaviour == "gzip":
                payload, headers["Content-Encoding"] = gzip.compress(PREDICTION), "gzip"
            elif behaviour == "deflate":
                payload, headers["Content-Encoding"] = zlib.compress(PREDICTION), "deflate"
            elif behaviour == "bomb":  # 30 MB of zeros, 30 kB on the wire: past the 20 MB limit decoded
                payload, headers["Content-Encoding"] = gzip.compress(b"0" * 30_000_000), "gzip"
            elif behaviour == "corrupt":
                payload, headers["Content-Encoding"] = b"\x1f\x8b not gzip at all", "gzip"
            elif behaviour == "chunked":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in (PREDICTION[:5], PREDICTION[5:]):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
                return
            elif behaviour == "until-close":  # no length: the body ends when the connection does
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(PREDICTION)
                self.close_connection = True
                return
            elif behaviour == "cut":  # promises 100 bytes, sends 10, hangs up
                self.send_response(200)
                self.send_header("Content-Length", "100")
                self.end_headers()
                self.wfile.write(PREDICTION[:10])
                self.close_connection = True
                return
            self.send_response(200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            if behaviour == "closing":  # keep-alive by the headers, yet the socket is closed after it
                self.close_connection = True

        do_GET = do_POST = do_PUT = _answer  # noqa: N815 - http.server names them so

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    wire.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield wire
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def loop() -> Iterator[ProbeLoop]:
    probes = ProbeLoop("test-wire")
    probes.acquire()
    try:
        yield probes
    finally:
        probes.release()


@pytest.fixture
def wire() -> Iterator[Wire]:
    with wire_server() as running:
        yield running


def probe(loop: ProbeLoop, url: str, **fields: Any) -> InferenceCollector:
    fields.setdefault("expect_json_path", "predictions[0]")
    config = InferenceSource.model_validate({"name": "w", "service": "s", "url": url, **fields})
    return InferenceCollector(config, loop=loop)


def test_one_kept_alive_connection_carries_many_probes(loop: ProbeLoop, wire: Wire) -> None:
    collector = probe(loop, f"{wire.url}/v1/predict?version=2", request={"json": {"features": [1, 2, 3]}})
    results = [collector.probe_now() for _ in range(20)]
    assert [r.kind for r in results] == [None] * 20, results[0].message
    assert len({s["port"] for s in wire.seen}) == 1  # one connection, reused 19 times
    first = wire.seen[0]
    assert first["path"] == "/v1/predict?version=2" and first["method"] == "POST"
    assert json.loads(first["body"]) == {"features": [1, 2, 3]}
    port = wire.url.rsplit(":", 1)[1]
    assert first["headers"]["host"] == f"127.0.0.1:{port}"
    assert first["headers"]["content-type"] == "application/json"
    assert first["headers"]["content-length"] == str(len(first["body"]))
    assert first["headers"]["accept-encoding"] == "gzip, deflate"


def test_a_connection_the_server_closes_is_replaced_without_a_failed_probe(
    loop: ProbeLoop, wire: Wire
) -> None:
    collector = probe(loop, f"{wire.url}/closing")
    results = [collector.probe_now() for _ in range(10)]
    assert [r.kind for r in results] == [None] * 10, [r.message for r in results]
    assert len({s["port"] for s in wire.seen}) == 10  # a new connection each time


@pytest.mark.parametrize(
    ("behaviour", "kind", "words"),
    [
        ("gzip", None, ""),
        ("deflate", None, ""),
        ("chunked", None, ""),
        ("until-close", None, ""),
        ("bomb", "shape", "sent more than"),
        ("corrupt", "shape", "cannot be decoded"),
        ("cut", "connection", ""),
    ],
)
def test_bodies_are_read_and_decoded_as_httpx_did(
    loop: ProbeLoop, wire: Wire, behaviour: str, kind: str | None, words: str
) -> None:
    result = probe(loop, f"{wire.url}/{behaviour}").probe_now()
    assert result.kind == kind, result.message
    assert words in result.message
    assert result.status == (0 if kind == "connection" else 200)


def test_catalog_headers_and_auth_are_sent(
    loop: ProbeLoop, wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WK_WIRE_TOKEN", "s3cr3t-token")
    collector = probe(
        loop,
        f"{wire.url}/v1/predict",
        request={"method": "PUT", "body": "1,2,3", "headers": {"Content-Type": "text/csv", "X-Probe": "wk"}},
        auth={"bearer": {"token_env": "WK_WIRE_TOKEN"}},
    )
    assert collector.probe_now().kind is None
    got = wire.seen[0]
    assert (got["method"], got["body"]) == ("PUT", b"1,2,3")
    assert got["headers"]["content-type"] == "text/csv" and got["headers"]["x-probe"] == "wk"
    assert got["headers"]["authorization"] == "Bearer s3cr3t-token"
    assert "s3cr3t-token" not in repr(collector.headers[:-1])  # only the Authorization header holds it


def test_a_proxied_endpoint_goes_through_httpx_to_the_proxy(
    loop: ProbeLoop, wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = f"http://127.0.0.1:{free_port()}"  # a proxy that is not there: the probe must try it
    monkeypatch.setenv("HTTP_PROXY", refused)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = probe(loop, f"{wire.url}/v1/predict")
    assert proxied.proxied
    assert proxied.probe_now().kind == "connection"
    assert wire.seen == []  # never reached directly
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = probe(loop, f"{wire.url}/v1/predict")
    assert not direct.proxied and direct.probe_now().kind is None


def test_probes_take_the_lean_path_not_httpx(loop: ProbeLoop, wire: Wire) -> None:
    """The cause of the overhead figure in docs/performance.md (httpx cost about 1.7 ms of CPU a probe,
    LeanHttp about 0.3 ms): a direct endpoint never creates the loop's httpx clients."""
    collector = probe(loop, f"{wire.url}/v1/predict")
    assert not collector.proxied
    assert [collector.probe_now().kind for _ in range(3)] == [None] * 3
    assert loop._lean is not None
    assert loop._http is None or not loop._http._clients  # no httpx client was ever made


@pytest.mark.parametrize(
    ("url", "host", "port", "header", "path"),
    [
        ("http://127.0.0.1:8080/v1/predict?x=1", "127.0.0.1", 8080, "127.0.0.1:8080", b"/v1/predict?x=1"),
        ("https://models.example", "models.example", 443, "models.example", b"/"),
        ("http://[::1]:9000/p", "::1", 9000, "[::1]:9000", b"/p"),
        # IDNA: DNS and the Host header take the xn-- form (RFC 3492), as httpx sent it
        ("http://münchen.example/p", "xn--mnchen-3ya.example", 80, "xn--mnchen-3ya.example", b"/p"),
    ],
)
def test_a_target_is_parsed_once_as_the_wire_needs_it(
    url: str, host: str, port: int, header: str, path: bytes
) -> None:
    target = Target.parse(url)
    assert (target.host, target.port, target.host_header, target.path) == (host, port, header, path)
