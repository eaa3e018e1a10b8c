"""Benchmark the YAML writer (catalog/yaml_dump.py) with a cold string cache, on ASCII rule data and on
the same data with non-ASCII annotations (an emoji and a NEL, the characters it must now escape or keep).

Run: .venv/bin/python benchmarks/yaml_dump_bench.py [--slos 1000] [--runs 7]

Baseline: PyYAML's libyaml-backed CSafeDumper on the same data, measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rules_bench import bench_catalog

from catalog import yaml_dump
from rules.generate import generate_rules


def _spiced(node: Any) -> Any:
    """The data with an emoji and a NEL appended to every summary and description."""
    if isinstance(node, dict):
        return {
            k: v + " \U0001f525\x85" if k in {"summary", "description"} and isinstance(v, str) else _spiced(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_spiced(item) for item in node]
    return node


def _time(fn: Any, payload: list[Any], runs: int) -> float:
    samples = []
    for _ in range(runs):
        yaml_dump._string.cache_clear()
        start = time.perf_counter()
        for item in payload:
            fn(item)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    files = generate_rules(bench_catalog(args.slos), with_tests=False).files
    data = [{"groups": [g.as_dict() for g in groups]} for groups in files.values()]
    size = sum(len(yaml_dump.dump_yaml(d)) for d in data) / 1e6
    print(
        f"{args.slos} SLOs, {size:.1f} MB of rule YAML; medians of {args.runs} runs, string cache cleared each run"
    )
    print(f"  {'data':<34} {'PyYAML C s':>10} {'yaml_dump s':>11} {'x baseline':>10}")
    for label, payload in [("ASCII rule data", data), ("annotations with emoji + NEL", _spiced(data))]:
        base = _time(lambda d: yaml.dump(d, Dumper=yaml.CSafeDumper, sort_keys=False), payload, args.runs)
        ours = _time(yaml_dump.dump_yaml, payload, args.runs)
        print(f"  {label:<34} {base:>10.3f} {ours:>11.3f} {ours / base:>10.2f}")


if __name__ == "__main__":
    main()
