"""Start the real Prometheus and Alertmanager (Debian's packages) on free loopback ports, for tests and benchmarks."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get_json(url: str, timeout: float = 5) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll until `condition()` returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except (OSError, ValueError) as exc:
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last_error})")


def stop(proc: subprocess.Popen[bytes], grace: float = 10) -> None:
    """SIGTERM, then SIGKILL if the process is still there after `grace` seconds; reap it either way."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def _process(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            stop(proc)


@contextmanager
def alertmanager(binary: str, config: str, workdir: Path) -> Iterator[str]:
    """Run Alertmanager with `config` (YAML text); yield its base URL."""
    port = free_port()
    (workdir / "alertmanager.yml").write_text(config)
    command = [
        binary,
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    url = f"http://127.0.0.1:{port}"
    with _process(command, workdir / "alertmanager.log"):
        wait_for(lambda: get_json(f"{url}/api/v2/status"), 15, "Alertmanager to start")
        yield url


def backfill(openmetrics: str, workdir: Path) -> None:
    """Write `openmetrics` (ending in `# EOF`) into TSDB blocks where `prometheus(..., workdir)` reads
    them, with the real `promtool tsdb create-blocks-from openmetrics`."""
    from tests.conftest import require_binary

    (workdir / "data.om").write_text(openmetrics)
    command = [
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        str(workdir / "data.om"),
        str(workdir / "prom-data"),
    ]
    subprocess.run([require_binary("promtool"), *command], check=True, capture_output=True)


@contextmanager
def prometheus(
    binary: str,
    rule_files: list[Path],
    workdir: Path,
    scrape_targets: list[str] = (),  # type: ignore[assignment]
    alertmanager_url: str | None = None,
    interval: str = "1s",
    extra_flags: tuple[str, ...] = (),
    scrape_configs: list[dict[str, Any]] | None = None,
) -> Iterator[str]:
    """Run Prometheus evaluating `rule_files` every `interval`; yield its base URL. `scrape_configs` are
    added as given (e.g. a Pushgateway job with `honor_labels: true`)."""
    port = free_port()
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [{"job_name": "synthetic", "static_configs": [{"targets": list(scrape_targets)}]}]
        if scrape_targets
        else [],
    }
    config["scrape_configs"] += scrape_configs or []
    if alertmanager_url:
        config["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": [alertmanager_url.removeprefix("http://")]}]}]
        }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    command = [
        binary,
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'prom-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
        "--rules.alert.resend-delay=1s",
        *extra_flags,
    ]
    url = f"http://127.0.0.1:{port}"
    with _process(command, workdir / "prometheus.log"):
        wait_for(lambda: _ready(url), 20, "Prometheus to start")
        yield url


def _ready(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
        return bool(response.status == 200)


@dataclass
class Recorder:
    """A loopback HTTP server: serves `metrics()` on /metrics and records every POST body by path."""

    metrics: Callable[[], str] = lambda: ""
    posts: dict[str, list[Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self, path: str) -> list[Any]:
        with self.lock:
            return list(self.posts.get(path, []))


@contextmanager
def recorder(metrics: Callable[[], str] = lambda: "") -> Iterator[tuple[str, Recorder]]:
    state = Recorder(metrics)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state.metrics().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"null")
            with state.lock:
                state.posts.setdefault(self.path, []).append(payload)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
