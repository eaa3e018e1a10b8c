"""Run the real `watchkeeper exporter` command as a subprocess and scrape it, for load and hostile-input tests."""

from __future__ import annotations

import http.client
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tests.prometheus_stack import free_port

ROOT = Path(__file__).resolve().parent.parent
EXE = ROOT / ".venv" / "bin" / "watchkeeper"
HEAD = (
    "teams: [{name: platform, owners: [p@example.com]}]\n"
    "services: [{name: hdfs-prod, team: platform}, {name: yarn-prod, team: platform}]\n"
)
T = TypeVar("T")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def get(
    host: str, port: int, path: str = "/metrics", headers: dict[str, str] | None = None, timeout: float = 15
) -> Answer:
    """One GET on a fresh connection; raises OSError (refused, reset, timed out) as the client sees it."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        conn.close()


def concurrently(n: int, task: Callable[[int], T]) -> list[T | BaseException]:
    """Run `task(i)` in n threads released together; each result, or the exception it raised."""
    barrier = threading.Barrier(n)
    out: list[T | BaseException] = [RuntimeError("not run")] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = task(i)
        except BaseException as exc:  # reported to the test as a failed request
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return out


@dataclass
class Exporter:
    proc: subprocess.Popen[bytes]
    host: str
    port: int
    log: Path

    def get(
        self, path: str = "/metrics", headers: dict[str, str] | None = None, timeout: float = 15
    ) -> Answer:
        return get(self.host, self.port, path, headers, timeout)

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def peak_rss_mb(self) -> float:
        """The process's peak resident set (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM in /proc/PID/status")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit code (killed after `timeout`)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


@contextmanager
def exporter(tmp_path: Path, sources_yaml: str, host: str = "127.0.0.1", *args: str) -> Iterator[Exporter]:
    """Start `watchkeeper exporter` on a catalog of `sources_yaml` (the `sources:` mapping) and wait for /healthz."""
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(HEAD + f"sources: {sources_yaml}\n", encoding="utf-8")
    port = free_port()
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    log = tmp_path / "exporter.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(EXE), "exporter", str(catalog), "--listen", listen, *args], stderr=err, cwd=ROOT
        )
    running = Exporter(proc, host, port, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if running.get("/healthz", timeout=1).status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None:
                raise AssertionError(f"the exporter exited with {proc.returncode}: {running.stderr()}")
            assert time.monotonic() < deadline, f"the exporter did not start: {running.stderr()}"
            time.sleep(0.1)
        yield running
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
