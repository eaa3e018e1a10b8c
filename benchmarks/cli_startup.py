"""Benchmark: wall time of `watchkeeper --help` against a bare interpreter start, in the same run.

Run: .venv/bin/python benchmarks/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "watchkeeper"


def timed(command: list[str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    cases = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "python -c 'import typer, rich'": [sys.executable, "-c", "import typer, rich"],
        "watchkeeper --help": [str(SCRIPT), "--help"],
        "watchkeeper --version": [str(SCRIPT), "--version"],
        "watchkeeper validate examples/catalog": [str(SCRIPT), "validate", "examples/catalog"],
        "python -c 'import pandas, evidently' (what lazy imports avoid)": [
            sys.executable,
            "-c",
            "import pandas, evidently",
        ],
    }
    results = {
        name: timed(cmd, runs if "evidently" not in name else max(3, runs // 5))
        for name, cmd in cases.items()
    }
    baseline = statistics.median(results["python -c pass (baseline)"])
    print(f"{'command':<66} {'median s':>9} {'p90 s':>7} {'x baseline':>10}")
    for name, samples in results.items():
        median = statistics.median(samples)
        p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
        print(f"{name:<66} {median:>9.3f} {p90:>7.3f} {median / baseline:>10.1f}")


if __name__ == "__main__":
    main()
