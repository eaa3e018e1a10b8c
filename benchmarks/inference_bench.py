"""Benchmark the inference probes against Debian's prometheus-blackbox-exporter, on the same model server.

Run: .venv/bin/python benchmarks/inference_bench.py [--probes 300] [--interval 0.25] [--endpoints 100]
     [--every 5] [--seconds 60] [--only peers|overhead]

Needs `prometheus-blackbox-exporter` (Debian 12 ships 0.23):
    apt-get install -y --no-install-recommends prometheus-blackbox-exporter
Everything runs on loopback: the model server (tests/model_server.py, FastAPI + uvicorn, its own process)
answers POST /v1/predict after a delay; each client (by User-Agent) gets the same 100 delays in the same
order, 5.0 ms to 54.5 ms in 0.5 ms steps, shuffled once with a fixed seed.

1. Peers, side by side: both probe the same endpoint, with the same request (POST JSON, 200 expected, the
   body checked for `predictions`), every `--interval` s, at the same time, `--probes` times each (a
   multiple of 100, so each sees every delay equally often). Blackbox is driven as Prometheus drives it
   (GET /probe per probe, reading `probe_duration_seconds`); ours through the same `probe()` coroutine
   the background schedule runs (reading the duration the `..._last_duration_seconds` gauge and the
   histogram get). Reported: p50 and p99 of the per-probe durations each reports (the same quantile
   function for both), and whether they agree within 10% or 2 ms.
2. Overhead: CPU time (utime + stime from /proc/PID/stat) of the real `watchkeeper exporter` process over
   `--seconds`, after a 10 s warm-up, with `--endpoints` inference sources probed every `--every` s: all
   on one origin (connections kept alive) and each on its own port (own origin: 100 endpoints are more
   than the client pool's 20 kept-alive connections). Baselines in the same run: the same exporter with
   no source, and the blackbox exporter serving the same probes (driven at the same rate, as Prometheus
   would scrape /probe per target).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.model.inference import InferenceSource
from exporters.inference import InferenceCollector
from exporters.probe_loop import ProbeLoop
from tests.model_server import ModelServer, model_server
from tests.prometheus_stack import free_port, stop

ROOT = Path(__file__).resolve().parent.parent
BLACKBOX = "prometheus-blackbox-exporter"
INSTALL = "apt-get install -y --no-install-recommends prometheus-blackbox-exporter"
DELAYS = [0.005 + 0.0005 * i for i in range(100)]
BODY = '{"features":[1,2,3]}'
BLACKBOX_CONFIG = f"""modules:
  predict:
    prober: http
    timeout: 5s
    http:
      method: POST
      headers: {{Content-Type: application/json}}
      body: '{BODY}'
      valid_status_codes: [200]
      preferred_ip_protocol: ip4
      fail_if_body_not_matches_regexp: ['"predictions"']
"""


def quantiles(values: list[float]) -> tuple[float, float]:
    """p50 and p99 (linear interpolation between closest ranks, as numpy's default)."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]


@contextmanager
def process(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        yield proc
    finally:
        stop(proc)


def wait_http(url: str, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.1)


@contextmanager
def blackbox(workdir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = shutil.which(BLACKBOX)
    if binary is None:
        sys.exit(f"{BLACKBOX} is not installed; install it with: {INSTALL}")
    (workdir / "blackbox.yml").write_text(BLACKBOX_CONFIG)
    port = free_port()
    command = [binary, f"--config.file={workdir / 'blackbox.yml'}", f"--web.listen-address=127.0.0.1:{port}"]
    with process(command, workdir / "blackbox.log") as proc:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/metrics", "the blackbox exporter")
        yield url, proc


def blackbox_probe(base: str, target: str) -> tuple[float, bool]:
    """One /probe, as Prometheus scrapes it: (probe_duration_seconds, probe_success)."""
    with urllib.request.urlopen(f"{base}/probe?module=predict&target={quote(target)}", timeout=10) as r:
        text = r.read().decode()
    found = {}
    for line in text.splitlines():
        if line.startswith(("probe_duration_seconds ", "probe_success ")):
            name, value = line.split()
            found[name] = float(value)
    return found["probe_duration_seconds"], found["probe_success"] == 1


def on_grid(count: int, interval: float, task: Callable[[], None]) -> None:
    """Run `task` `count` times, one every `interval` seconds on a fixed grid (late runs do not drift)."""
    start = time.monotonic()
    for i in range(count):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        task()


def renice(pid: int, nice: int) -> None:
    """Run a process at another priority (both probers and the server alike), if allowed: every thread
    of it (Linux sets a priority per thread; the threads a thread starts later inherit it)."""
    if nice:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                os.setpriority(os.PRIO_PROCESS, int(task.name), nice)
            except PermissionError:
                print(f"(cannot renice {pid} to {nice}: not allowed)")
                return
            except ProcessLookupError:
                pass  # the thread ended meanwhile


def peers(server: ModelServer, workdir: Path, probes: int, interval: float, nice: int = 0) -> None:
    order = list(DELAYS)
    random.Random(7).shuffle(order)
    server.cycle(order)
    ours_ms: list[float] = []
    theirs_ms: list[float] = []
    failures = {"ours": 0, "blackbox": 0}
    with blackbox(workdir) as (bb, bb_proc):
        renice(bb_proc.pid, nice)
        renice(server.proc.pid, nice)

        def ours() -> None:  # in a process of its own: the blackbox driver here takes no CPU from it
            child = [sys.executable, __file__, "--child", server.url, str(probes), str(interval), str(nice)]
            lines = subprocess.run(child, capture_output=True, text=True, check=True).stdout.split()
            for line in lines:
                ok, ms = line.split(",")
                failures["ours"] += ok != "1"
                ours_ms.append(float(ms))

        def theirs() -> None:
            duration, ok = blackbox_probe(bb, server.url)
            if not ok:
                failures["blackbox"] += 1
            theirs_ms.append(duration * 1000)

        threads = [
            threading.Thread(target=ours),
            threading.Thread(target=on_grid, args=(probes, interval, theirs)),
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
    print(f"\n## Peers: {probes} probes each, every {interval:g} s, side by side ({took:.0f} s), nice {nice}")
    print("delays injected: 5.0-54.5 ms, each 1/100 of the probes (the same order for both)")
    print("| prober | p50 ms | p99 ms | min ms | max ms | failed |")
    print("|---|---|---|---|---|---|")
    rows = {"watchkeeper": ours_ms, "blackbox_exporter 0.23": theirs_ms}
    for name, values in rows.items():
        p50, p99 = quantiles(values)
        fails = failures["ours" if name == "watchkeeper" else "blackbox"]
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {min(values):.2f} | {max(values):.2f} | {fails} |")
    (o50, o99), (b50, b99) = quantiles(ours_ms), quantiles(theirs_ms)
    for label, ours_q, theirs_q in (("p50", o50, b50), ("p99", o99, b99)):
        diff = ours_q - theirs_q
        ok = abs(diff) <= max(0.1 * theirs_q, 2.0)
        print(
            f"{label}: ours - blackbox = {diff:+.2f} ms ({diff / theirs_q:+.1%}): {'agree' if ok else 'DISAGREE'}"
        )


def child(url: str, probes: int, interval: float, nice: int) -> None:
    """Our prober alone in this process: the same `probe()` the background schedule runs, on a grid."""
    renice(os.getpid(), nice)
    loop = ProbeLoop("bench-probes")
    loop.acquire()
    config = InferenceSource(
        name="bench",
        service="bench",
        url=url,
        request={"method": "POST", "json": {"features": [1, 2, 3]}},
        expect_json_path="predictions[0]",
        interval="1s",  # (unused: probed on the benchmark's grid)
        timeout="1s",
    )
    collector = InferenceCollector(config, loop=loop)
    out: list[str] = []

    def one() -> None:
        result = collector.probe_now()
        out.append(f"{int(result.ok)},{result.duration * 1000:.4f}")

    on_grid(probes, interval, one)
    loop.release()
    print("\n".join(out))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def measure(pid: int, seconds: float, warmup: float = 10) -> float:
    """Share of one core the process used over `seconds`, after `warmup`."""
    time.sleep(warmup)
    before, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - start)


def catalog(urls: list[str], every: float) -> str:
    lines = [
        "teams: [{name: ml, owners: [ml@example.com]}]",
        "services: [{name: churn, team: ml}]",
        "sources:" if urls else "sources: {}",
    ]
    if urls:
        lines.append("  inference:")
        lines += [
            f"    - {{name: m{i}, service: churn, url: '{url}', interval: {every:g}s, timeout: {min(every, 2):g}s,"
            f" expect_json_path: 'predictions[0]', request: {{json: {{features: [1, 2, 3]}}}}}}"
            for i, url in enumerate(urls)
        ]
    return "\n".join(lines) + "\n"


def exporter_cpu(workdir: Path, name: str, urls: list[str], every: float, seconds: float) -> float:
    path = workdir / f"{name}.yaml"
    path.write_text(catalog(urls, every))
    port = free_port()
    exe = ROOT / ".venv" / "bin" / "watchkeeper"
    command = [str(exe), "exporter", str(path), "--listen", f"127.0.0.1:{port}", "--log-level", "warning"]
    with process(command, workdir / f"{name}.log") as proc:
        wait_http(f"http://127.0.0.1:{port}/healthz", "the exporter")
        share = measure(proc.pid, seconds)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as r:
            text = r.read().decode()
    up = sum(
        1
        for line in text.splitlines()
        if line.startswith("watchkeeper_inference_up{") and line.endswith(" 1.0")
    )
    probes = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("watchkeeper_inference_probes_total{")
    )
    print(f"| watchkeeper: {name} | {len(urls)} | {share:.2%} | {up} up, {probes:.0f} probes in all |")
    return share


def blackbox_cpu(workdir: Path, urls: list[str], every: float, seconds: float) -> float:
    stop = threading.Event()
    counts = {"probes": 0, "failed": 0}
    with blackbox(workdir) as (bb, proc), ThreadPoolExecutor(max_workers=16) as pool:

        def drive() -> None:
            start, tick = time.monotonic(), 0
            while not stop.is_set():
                for i, url in enumerate(urls):  # spread over the period, as Prometheus spreads targets
                    at = start + tick * every + every * i / len(urls)
                    delay = at - time.monotonic()
                    if delay > 0 and stop.wait(delay):
                        return
                    pool.submit(one, url)
                tick += 1

        def one(url: str) -> None:
            _, ok = blackbox_probe(bb, url)
            counts["probes"] += 1
            counts["failed"] += 0 if ok else 1

        driver = threading.Thread(target=drive, daemon=True)
        driver.start()
        share = measure(proc.pid, seconds)
        stop.set()
        driver.join(timeout=10)
    print(f"| blackbox_exporter 0.23 (driven like Prometheus) | {len(urls)} | {share:.2%} | {counts} |")
    return share


def overhead(
    server: ModelServer, ports: list[int], workdir: Path, endpoints: int, every: float, seconds: float
) -> None:
    server.cycle([0.01])  # every answer after 10 ms
    same_origin = [server.url_for(f"m{i}") for i in range(endpoints)]
    own_origin = [f"http://127.0.0.1:{port}/models/m{i}/predict" for i, port in enumerate(ports[:endpoints])]
    print(f"\n## Overhead: {endpoints} endpoints, one probe each every {every:g} s, CPU over {seconds:g} s")
    print("| process | endpoints | CPU (share of one core) | check |")
    print("|---|---|---|---|")
    exporter_cpu(workdir, "no sources (baseline)", [], every, seconds)
    exporter_cpu(workdir, "one origin", same_origin, every, seconds)
    exporter_cpu(workdir, "one origin each", own_origin, every, seconds)
    blackbox_cpu(workdir, own_origin, every, seconds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=300, help="per prober (a multiple of 100)")
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--only", choices=["peers", "overhead"])
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="peers only: run both probers and the model server at this priority (e.g. -10, as root), "
        "to keep other jobs on a shared machine out of the latencies",
    )
    parser.add_argument(
        "--child", nargs=4, metavar=("URL", "PROBES", "INTERVAL", "NICE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), float(args.child[2]), int(args.child[3]))
        return
    if shutil.which(BLACKBOX) is None:
        sys.exit(f"{BLACKBOX} is not installed; install it with: {INSTALL}")
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    ports = [free_port() for _ in range(args.endpoints)]
    with TemporaryDirectory() as tmp, model_server(more_ports=ports[1:]) as server:
        workdir = Path(tmp)
        if args.only in (None, "peers"):
            peers(server, workdir, args.probes, args.interval, args.nice)
        if args.only in (None, "overhead"):
            own = [int(server.base.rsplit(":", 1)[1]), *ports[1:]]
            overhead(server, own, workdir, args.endpoints, args.every, args.seconds)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
