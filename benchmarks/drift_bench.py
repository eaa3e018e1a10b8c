"""Benchmark the drift engines: fast (pandas), Evidently's DataDriftPreset and the fast engine on Spark.

Run: .venv/bin/python benchmarks/drift_bench.py [--rows 1000000] [--only fast,evidently,spark]
     [--evidently-timeout 600] [--evidently-memory-gb 8] [--spark-timeout 1800]

Data: reference and current windows of `--rows` rows each, 20 columns: 10 numeric (float64; num_0..num_2
shifted by +0.5 sd, num_3 with 1.5x the sd, the rest unchanged) and 10 categorical (pandas category dtype,
5 to 32 categories; cat_0 and cat_1 with shifted frequencies). Expected verdict: 6 of 20 columns drift.
Each engine runs in its own subprocess, so its peak RSS (ru_maxrss) is its own: data generation plus the
engine. Evidently runs under an address-space limit and a timeout so it cannot take the machine down.
The Spark path generates the same distributions in Spark (local[2], driver 4 GB) and is timed end to end;
it also reports the JVM's CPU seconds and peak RSS (from /proc), the number of Spark jobs, the columns that
fell back to exact ECDFs and the load average sampled during the run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NUM, CAT = 10, 10
EXPECTED_DRIFT = {f"num_{i}" for i in range(4)} | {"cat_0", "cat_1"}


def make_frames(rows: int, seed: int = 7) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    ref: dict[str, Any] = {}
    cur: dict[str, Any] = {}
    for i in range(NUM):
        ref[f"num_{i}"] = rng.normal(0.0, 1.0, rows)
        shift, scale = (0.5, 1.0) if i < 3 else (0.0, 1.5) if i == 3 else (0.0, 1.0)
        cur[f"num_{i}"] = rng.normal(shift, scale, rows)
    for i in range(CAT):
        k = 5 + 3 * i
        names = [f"c{j}" for j in range(k)]
        p = np.full(k, 1.0 / k)
        q = p if i >= 2 else np.linspace(2.0, 0.2, k) / np.linspace(2.0, 0.2, k).sum()
        ref[f"cat_{i}"] = pd.Categorical.from_codes(rng.choice(k, rows, p=p).astype("int8"), names)
        cur[f"cat_{i}"] = pd.Categorical.from_codes(rng.choice(k, rows, p=q).astype("int8"), names)
    return pd.DataFrame(ref), pd.DataFrame(cur)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_pandas(engine: str, rows: int) -> dict[str, Any]:
    import warnings

    warnings.filterwarnings("ignore")
    from drift.engines import compute_drift

    reference, current = make_frames(rows)
    data_rss = peak_rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    result = compute_drift(reference, current, list(reference.columns), engine=engine)  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "data_rss_mb": data_rss,
        "peak_rss_mb": peak_rss_mb(),
        "verdicts": {c.column: c.drift for c in result.columns},
        "stattests": sorted({c.stattest for c in result.columns}),
        "problems": result.problems,
    }


def jvm_usage(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and peak RSS in MB of the Spark JVM, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    status = Path(f"/proc/{pid}/status").read_text()
    hwm = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return cpu, int(hwm.split()[1]) / 1024


def worker_spark(rows: int) -> dict[str, Any]:
    import logging
    import threading

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F  # noqa: N812

    from drift.engines import compute_drift

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("watchkeeper-drift-bench")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.shuffle.partitions", "8")  # AQE coalesces; the shuffled data is small
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    fallbacks: list[str] = []

    class Fallbacks(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            fallbacks.append(record.getMessage())

    logging.getLogger("drift.engine_spark").addHandler(Fallbacks())
    logging.getLogger("drift.engine_spark").setLevel(logging.INFO)

    def frame(current: bool, seed: int) -> Any:
        cols = []
        for i in range(NUM):
            shift, scale = (
                (0.5, 1.0) if current and i < 3 else (0.0, 1.5) if current and i == 3 else (0.0, 1.0)
            )
            cols.append((F.randn(seed + i) * scale + shift).alias(f"num_{i}"))
        for i in range(CAT):
            k = 5 + 3 * i
            u = F.rand(seed + 100 + i)
            if current and i < 2:  # skewed: squaring a uniform favours low codes
                u = u * u
            cols.append(F.concat(F.lit("c"), F.floor(u * k).cast("int").cast("string")).alias(f"cat_{i}"))
        return spark.range(rows).select(*cols)

    loads: list[float] = []
    done = threading.Event()

    def sample_load() -> None:
        while not done.wait(5.0):
            loads.append(os.getloadavg()[0])

    jvm = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())  # type: ignore[union-attr]
    reference, current = frame(False, 1), frame(True, 1000)
    threading.Thread(target=sample_load, daemon=True).start()
    jvm_cpu_before, _ = jvm_usage(jvm)
    start, cpu = time.perf_counter(), time.process_time()
    spark.sparkContext.setJobGroup("drift", "compute_drift")
    result = compute_drift(
        reference, current, [f"num_{i}" for i in range(NUM)] + [f"cat_{i}" for i in range(CAT)]
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    done.set()
    jobs = len(spark.sparkContext.statusTracker().getJobIdsForGroup("drift"))
    jvm_cpu, jvm_rss = jvm_usage(jvm)
    spark.stop()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,  # the Python driver
        "jvm_cpu_seconds": jvm_cpu - jvm_cpu_before,  # the engine's Spark work (data generated on the fly)
        "jvm_peak_rss_mb": jvm_rss,  # the JVM's VmHWM over its whole life
        "peak_rss_mb": peak_rss_mb(),  # the Python driver only; the JVM is a child process
        "spark_jobs": jobs,
        "exact_fallbacks": fallbacks,
        "load_during": [min(loads, default=0), max(loads, default=0)],
        "verdicts": {c.column: c.drift for c in result.columns},
        "stattests": sorted({c.stattest for c in result.columns}),
        "scores": {c.column: c.score for c in result.columns},
        "problems": result.problems,
    }


def run_worker(kind: str, rows: int, timeout: float, memory_gb: float | None) -> dict[str, Any]:
    """One engine in a subprocess; a timeout or a memory-limit failure is reported, not raised."""

    def limit() -> None:
        if memory_gb:
            cap = int(memory_gb * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    cmd = [sys.executable, __file__, "--worker", kind, "--rows", str(rows)]
    start = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, preexec_fn=limit, check=False
        )
    except subprocess.TimeoutExpired:
        return {
            "error": f"did not finish within {timeout:.0f} s (killed)",
            "wall": time.perf_counter() - start,
        }
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {proc.returncode}: {tail[:300]}", "wall": time.perf_counter() - start}
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall"] = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the whole subprocess: imports, data, engine
    out["process_cpu_seconds"] = (cpu_after.ru_utime - cpu_before.ru_utime) + (
        cpu_after.ru_stime - cpu_before.ru_stime
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", default="fast,evidently,spark")
    parser.add_argument("--evidently-timeout", type=float, default=600)
    parser.add_argument("--evidently-memory-gb", type=float, default=8)
    parser.add_argument("--spark-timeout", type=float, default=1800)
    parser.add_argument("--worker", choices=["fast", "evidently", "spark"])
    args = parser.parse_args()
    if args.worker:
        result = worker_spark(args.rows) if args.worker == "spark" else worker_pandas(args.worker, args.rows)
        print(json.dumps(result))
        return

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console()
    console.print(
        f"rows={args.rows:,} (each window) x 20 columns; cpus={os.cpu_count()}; load average={os.getloadavg()}"
    )
    results: dict[str, dict[str, Any]] = {}
    plan = {
        "fast": (3600.0, None),
        "evidently": (args.evidently_timeout, args.evidently_memory_gb),
        "spark": (args.spark_timeout, None),
    }
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        for kind in args.only.split(","):
            task = progress.add_task(f"{kind} engine, {args.rows:,} rows", total=1)
            timeout, memory = plan[kind]
            results[kind] = run_worker(kind, args.rows, timeout, memory)
            progress.update(task, completed=1)
            console.print(
                f"{kind}: {json.dumps({k: v for k, v in results[kind].items() if k != 'verdicts'})}"
            )
    for kind, r in results.items():
        if "verdicts" in r:
            drifted = {c for c, d in r["verdicts"].items() if d}
            console.print(
                f"{kind}: drifted columns as designed: {drifted == EXPECTED_DRIFT} ({sorted(drifted)})"
            )
    fast, evidently = results.get("fast", {}), results.get("evidently", {})
    if "seconds" in fast and "seconds" in evidently:
        console.print(
            f"fast vs evidently: {evidently['seconds'] / fast['seconds']:.1f}x faster (wall), "
            f"{evidently.get('cpu_seconds', float('nan')) / fast.get('cpu_seconds', float('nan')):.1f}x (CPU); "
            f"same verdicts: {fast['verdicts'] == evidently['verdicts']}; "
            f"peak RSS fast {fast['peak_rss_mb']:.0f} MB vs evidently {evidently['peak_rss_mb']:.0f} MB"
        )
    console.print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
