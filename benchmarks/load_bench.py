"""Benchmark the exporter under load: concurrent scrapes, a hanging source, gzip bombs, gzip answers.

Run: .venv/bin/python benchmarks/load_bench.py [--levels 10,50,100,200] [--rounds 3] [--baseline old]

Everything runs on loopback, each part in its own process so that none steals the others' GIL: the
upstreams (loopback servers with the recorded NameNode payloads, in a child process), the exporter (the
real `watchkeeper exporter` command) and the load generator (this process, asyncio, one new connection a
scrape, as Prometheus opens when keep-alive has lapsed).

1. Concurrency: at each level N, N clients each make `--rounds` scrapes back to back (each request has a
   15 s timeout; a level stops after 90 s). Reported: p50, p99, errors (refused, reset, timed out or not
   200) and the requests that reached the upstreams per scrape. Catalog: three healthy HDFS sources
   (timeout 2 s), and for "hanging" a fourth whose NameNode answers after 3 s (timeout 500 ms).
2. Gzip bombs: four HDFS sources whose NameNode sends a 2 MB gzip body of 2 GB of zeros, and one healthy,
   under 50 concurrent scrapes for 3 rounds 1.1 s apart (each a new collection). Reported: the exporter's
   peak RSS (VmHWM) and its RSS after, and the healthy source's own scrape duration.
3. Many beans (`--parts beans`): fifteen HDFS sources whose NameNode answers both /jmx queries with
   300,000 small beans (17 MB of JSON, under the body limit), and one healthy, as part 2.
4. Gzip answers: an HDFS source with 7,000 DataNodes (about 49,000 series): the body's size and the time
   to compress it at zlib levels 1, 6 and 9, and the scrape time with and without Accept-Encoding: gzip.

Baseline in the same run: `--baseline old` runs parts 1 and 2 against the exporter of the last commit
(`git archive HEAD`, the same virtualenv), or `--baseline none`.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.prometheus_stack import free_port, stop  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
HEAD = "teams: [{name: platform, owners: [p@example.com]}]\nservices: [{name: hdfs-prod, team: platform}]\n"


# --- upstreams (child process) --------------------------------------------------------------------


def child_upstreams(kinds: list[str]) -> None:
    """Serve one NameNode per kind; print their URLs, then answer `count` with the requests each got."""
    from tests.fixture_server import Reply, gzip_bomb, serve
    from tests.test_exporter_hostile import _namenode_with_datanodes
    from tests.test_exporters import FSNAMESYSTEM_JSON, nn_routes

    bomb = gzip_bomb(2000) if "bomb" in kinds else b""
    gz = (("Content-Encoding", "gzip"),)
    many = many_beans() if "beans" in kinds else b""
    routes: dict[str, Callable[[], Any]] = {
        "healthy": nn_routes,
        "hanging": lambda: nn_routes(fs=Reply(FSNAMESYSTEM_JSON.encode(), delay=3)),
        "bomb": lambda: nn_routes(fs=Reply(bomb, headers=gz), info=Reply(bomb, headers=gz)),
        "big": lambda: nn_routes(info=_namenode_with_datanodes(7000)),
        "beans": lambda: nn_routes(fs=Reply(many), info=Reply(many)),
    }
    with ExitStack() as stack:
        served = [stack.enter_context(serve(routes[kind]())) for kind in kinds]
        print(json.dumps([s.url for s in served]), flush=True)
        for line in sys.stdin:
            if line.strip() == "count":
                print(json.dumps([len(s.requests) for s in served]), flush=True)
            else:
                break


def many_beans(count: int = 300_000) -> bytes:
    """A hostile /jmx answer: 300,000 small beans, about 17 MB of JSON (under the 20 MB body limit)."""
    beans = [{"name": f"Hadoop:service=NameNode,name=Bean{i}", "Value": i} for i in range(count)]
    return json.dumps({"beans": beans}, separators=(",", ":")).encode()


@dataclass
class Upstreams:
    proc: subprocess.Popen[str]
    urls: list[str]

    def count(self) -> int:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return sum(json.loads(self.proc.stdout.readline()))


@contextmanager
def upstreams(kinds: list[str]) -> Iterator[Upstreams]:
    proc = subprocess.Popen(
        [str(PYTHON), __file__, "--child-upstreams", ",".join(kinds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout
        yield Upstreams(proc, json.loads(proc.stdout.readline()))
    finally:
        proc.kill()
        proc.wait()


# --- the exporter (subprocess) ------------------------------------------------------------------


@dataclass
class Exporter:
    proc: subprocess.Popen[bytes]
    port: int

    def rss_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) in MiB."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


@contextmanager
def exporter(code: Path, sources: list[str], tmp: Path) -> Iterator[Exporter]:
    """`watchkeeper exporter` from the tree at `code` on a catalog of HDFS `sources` entries."""
    catalog = tmp / f"catalog-{len(list(tmp.iterdir()))}.yaml"
    catalog.write_text(HEAD + "sources: {hdfs: [" + ", ".join(sources) + "]}\n")
    port = free_port()
    cmd = [str(PYTHON), "-c", "from api.cli import main; main()", "exporter", str(catalog)]
    env = {**os.environ, "PYTHONPATH": str(code)}
    proc = subprocess.Popen(
        [*cmd, "--listen", f"127.0.0.1:{port}", "--log-level", "error"],
        cwd=code,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while asyncio.run(_get(port, "/healthz", {}, 1))[0] != 200:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit(f"the exporter at {code} did not start")
            time.sleep(0.1)
        yield Exporter(proc, port)
    finally:
        stop(proc, grace=30)


def source(name: str, url: str, timeout: str) -> str:
    return f"{{name: {name}, service: hdfs-prod, namenodes: ['{url}'], timeout: {timeout}}}"


# --- the load generator ---------------------------------------------------------------------------


async def _get(port: int, path: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """One GET on a new connection: (status, body); status 0 for a refused, reset or timed-out request."""

    async def run() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n".encode())
            raw = await reader.read()
        finally:
            writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body

    try:
        return await asyncio.wait_for(run(), timeout)
    except (OSError, TimeoutError, IndexError, ValueError):
        return 0, b""


@dataclass
class Level:
    clients: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    upstream_requests: int = 0

    def row(self) -> str:
        ok = sorted(self.latencies)
        p50 = statistics.median(ok) if ok else float("nan")
        p99 = ok[min(len(ok) - 1, int(0.99 * len(ok)))] if ok else float("nan")
        scrapes = len(self.latencies) + self.errors
        per_scrape = self.upstream_requests / scrapes if scrapes else float("nan")
        return f"| {self.clients} | {scrapes} | {p50:.3f} | {p99:.3f} | {self.errors} | {per_scrape:.2f} |"


async def _load(port: int, clients: int, rounds: int, headers: dict[str, str], limit: float) -> Level:
    level = Level(clients)
    stop = time.monotonic() + limit

    async def client() -> None:
        for _ in range(rounds):
            if time.monotonic() > stop:
                return
            start = time.perf_counter()
            status, _ = await _get(port, "/metrics", headers, 15)
            if status == 200:
                level.latencies.append(time.perf_counter() - start)
            else:
                level.errors += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    return level


def load(run: Exporter, ups: Upstreams, clients: int, rounds: int) -> Level:
    before = ups.count()
    level = asyncio.run(_load(run.port, clients, rounds, {}, 90))
    level.upstream_requests = ups.count() - before
    return level


# --- the parts ----------------------------------------------------------------------------------


def concurrency(label: str, code: Path, tmp: Path, levels: list[int], rounds: int) -> None:
    with upstreams(["healthy", "healthy", "healthy", "hanging"]) as ups:
        healthy = [source(f"nn{i}", url, "2s") for i, url in enumerate(ups.urls[:3])]
        for hanging in (False, True):
            sources = healthy + ([source("hanging", ups.urls[3], "500ms")] if hanging else [])
            print(f"\n{label}, {'with' if hanging else 'without'} a hanging source:")
            print("| clients | scrapes | p50 s | p99 s | errors | upstream requests per scrape |")
            print("|---|---|---|---|---|---|")
            with exporter(code, sources, tmp) as run:
                for clients in levels:
                    print(load(run, ups, clients, rounds).row(), flush=True)
                    time.sleep(1.2)  # let the last collection age past min_interval


def bombs(label: str, code: Path, tmp: Path, kind: str = "bomb", count: int = 4) -> None:
    with upstreams([kind] * count + ["healthy"]) as ups:
        sources = [source(f"bomb{i}", url, "10s") for i, url in enumerate(ups.urls[:count])]
        sources.append(source("healthy", ups.urls[count], "10s"))
        with exporter(code, sources, tmp) as run:
            idle = run.rss_mb()[0]
            durations, levels = [], []
            for _ in range(3):
                level = asyncio.run(_load(run.port, 50, 1, {}, 60))
                levels.append(level)
                _, body = asyncio.run(_get(run.port, "/metrics", {}, 30))
                for line in body.decode(errors="replace").splitlines():
                    if line.startswith('hdfs_scrape_duration_seconds{source="healthy"}'):
                        durations.append(float(line.split()[-1]))
                time.sleep(1.1)
            rss, peak = run.rss_mb()
    errors = sum(level.errors for level in levels)
    latencies = sorted(x for level in levels for x in level.latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else float("nan")
    healthy = ", ".join(f"{d * 1000:.0f}" for d in durations)
    print(
        f"| {label} | {idle:.0f} | {peak:.0f} | {rss:.0f} | {healthy} | "
        f"{statistics.median(latencies) if latencies else float('nan'):.2f} / {p99:.2f} | {errors} |"
    )


def gzip_answers(tmp: Path) -> None:
    with upstreams(["big"]) as ups, exporter(ROOT, [source("big", ups.urls[0], "20s")], tmp) as run:
        status, body = asyncio.run(_get(run.port, "/metrics", {}, 30))
        assert status == 200, status
        print(f"\nexposition: {len(body.splitlines())} lines, {len(body) / 1e6:.2f} MB")
        print("| zlib level | MB | x smaller | compress ms (median of 5) |")
        print("|---|---|---|---|")
        for level in (1, 6, 9):
            times = []
            for _ in range(5):
                start = time.perf_counter()
                packed = gzip.compress(body, level, mtime=0)
                times.append(time.perf_counter() - start)
            print(
                f"| {level} | {len(packed) / 1e6:.2f} | {len(body) / len(packed):.1f} | "
                f"{statistics.median(times) * 1000:.1f} |"
            )
        print("| Accept-Encoding | scrape ms, collected anew (median of 5) | served again (median of 20) |")
        print("|---|---|---|")
        for name, headers in (("none", {}), ("gzip", {"Accept-Encoding": "gzip"})):
            fresh, cached = [], []
            for _ in range(5):
                time.sleep(1.1)  # older than min_interval: the next scrape collects and renders
                start = time.perf_counter()
                asyncio.run(_get(run.port, "/metrics", headers, 30))
                fresh.append(time.perf_counter() - start)
                for _ in range(4):
                    start = time.perf_counter()
                    asyncio.run(_get(run.port, "/metrics", headers, 30))
                    cached.append(time.perf_counter() - start)
            print(
                f"| {name} | {statistics.median(fresh) * 1000:.0f} | {statistics.median(cached) * 1000:.1f} |"
            )


@contextmanager
def head_tree() -> Iterator[Path]:
    """The last commit's tree, unpacked (the baseline exporter)."""
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    with tempfile.TemporaryDirectory(prefix="wk-head-") as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", default="10,50,100,200")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", choices=["old", "none"], default="old")
    parser.add_argument("--parts", default="concurrency,bombs,gzip")
    parser.add_argument("--child-upstreams", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_upstreams:
        child_upstreams(args.child_upstreams.split(","))
        return
    levels = [int(n) for n in args.levels.split(",")]
    parts = set(args.parts.split(","))
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp_text, ExitStack() as stack:
        tmp = Path(tmp_text)
        trees = [("this tree", ROOT)]
        if args.baseline == "old":
            trees.append(("HEAD (baseline)", stack.enter_context(head_tree())))
        if "concurrency" in parts:
            for label, code in trees:
                concurrency(label, code, tmp, levels, args.rounds)
        if "bombs" in parts:
            print("\nfour gzip bombs and one healthy source, 50 concurrent scrapes x 3 rounds:")
            print(
                "| exporter | idle RSS MiB | peak RSS MiB | RSS after MiB | healthy source ms | p50 / p99 s | errors |"
            )
            print("|---|---|---|---|---|---|---|")
            for label, code in trees:
                bombs(label, code, tmp)
        if "beans" in parts:
            print(
                "\n15 NameNodes answering 300,000 beans (17 MB of JSON) and one healthy source, 50 concurrent"
            )
            print("scrapes x 3 rounds:")
            print(
                "| exporter | idle RSS MiB | peak RSS MiB | RSS after MiB | healthy source ms | p50 / p99 s | errors |"
            )
            print("|---|---|---|---|---|---|---|")
            for label, code in trees:
                bombs(label, code, tmp, "beans", 15)
        if "gzip" in parts:
            gzip_answers(tmp)


if __name__ == "__main__":
    main()
