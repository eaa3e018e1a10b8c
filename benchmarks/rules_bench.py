"""Benchmark the rules: generation time for many SLOs, `generate rules` end to end as a user runs it,
and evaluation cost in one real Prometheus against Sloth-style rules over the same backfilled series.

Run: .venv/bin/python benchmarks/rules_bench.py [--slos 1000] [--cli-runs 5] [--eval-slos 100] [--days 7]

Generation: build a catalog of N ratio/latency SLOs in memory, then time `generate_rules` (rules plus their
promtool tests) and rendering to YAML; the baseline is PyYAML's libyaml dump of the same rule data.

End to end: write that catalog to a YAML file and time `.venv/bin/watchkeeper generate rules CATALOG
--out DIR` in a subprocess (wall time and the CPU time of it and its promtool children), with the
promtool check on. Baseline, in the same run: one `promtool check rules` over the files it wrote.
`--old-tree DIR` also times another checkout's CLI (run with PYTHONPATH=DIR) on the same catalog.

Evaluation (benchmarks/rules_eval.py): backfill `--days` of raw request counters, and the 5m recordings
each rule set chains from (the values Prometheus records for these constant-rate counters), with
`promtool tsdb create-blocks-from openmetrics`: one input file per 2h block, because promtool re-reads
its whole input once per 2h block it writes (quadratic in the days backfilled). Then run Prometheus over
that data with Sloth-style rules alone (the form of slok/sloth's `_gen` output: 5m..3d ratios from raw
series, 30d chained), then with Watchkeeper's rules alone, wait for its compactions to settle each time,
and compare the Prometheus process's CPU seconds per evaluation interval (and, for reference, the summed
`prometheus_rule_group_last_duration_seconds`, which grows when groups compete for the CPUs).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rules_eval import bench_evaluation  # benchmarks/, the script's own directory

from catalog.model import Catalog
from catalog.yaml_dump import dump_yaml
from rules.generate import generate_rules
from rules.render import rule_file


def bench_catalog(slos: int, teams: int = 10) -> Catalog:
    services = [
        {"name": f"svc-{i}", "team": f"team-{i % teams}", "tier": "high"} for i in range(slos // 5 + 1)
    ]
    entries = []
    for i in range(slos):
        sli: dict[str, Any]
        if i % 4 == 3:
            sli = {
                "latency": {"histogram": "bench_duration_seconds", "le": 0.5, "selector": f'{{slo="s{i}"}}'}
            }
        else:
            sli = {
                "events": {
                    "errors": f'sum(rate(bench_requests_total{{slo="s{i}",code="500"}}[{{{{window}}}}]))',
                    "total": f'sum(rate(bench_requests_total{{slo="s{i}"}}[{{{{window}}}}]))',
                }
            }
        entries.append({"name": f"slo-{i}", "service": f"svc-{i // 5}", "objective": 99.9, "sli": sli})
    return Catalog.model_validate(
        {
            "teams": [{"name": f"team-{t}", "owners": [f"t{t}@example.com"]} for t in range(teams)],
            "services": services,
            "slos": entries,
        }
    )


def bench_generation(slos: int, runs: int) -> None:
    catalog = bench_catalog(slos)
    gen, tests, render, dump = [], [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        ruleset = generate_rules(catalog, with_tests=False)
        gen.append(time.perf_counter() - start)
        start = time.perf_counter()
        texts = [rule_file(groups) for groups in ruleset.files.values()]
        render.append(time.perf_counter() - start)
        start = time.perf_counter()
        with_tests = generate_rules(catalog, with_tests=True)
        tests.append(time.perf_counter() - start)
        data = [{"groups": [g.as_dict() for g in groups]} for groups in ruleset.files.values()]
        start = time.perf_counter()
        for d in data:
            yaml.dump(d, Dumper=yaml.CSafeDumper, sort_keys=False)
        dump.append(time.perf_counter() - start)
    rules = sum(len(g.rules) for gs in ruleset.files.values() for g in gs)
    groups = sum(len(t) for t in with_tests.tests.values())
    base = statistics.median(dump)
    print(
        f"generation: {slos} SLOs -> {rules} rules ({sum(map(len, texts)) / 1e6:.1f} MB); with --tests, {groups} promtool test groups"
    )
    print(f"  {'step':<52} {'median s':>9} {'x baseline':>10}")
    for name, samples in [
        ("PyYAML+libyaml dump of the rule data (baseline)", dump),
        ("generate_rules (no I/O)", gen),
        ("render to rule-file YAML", render),
        ("generate + render", [a + b for a, b in zip(gen, render, strict=True)]),
        ("generate_rules with the promtool tests", tests),
    ]:
        print(f"  {name:<52} {statistics.median(samples):>9.3f} {statistics.median(samples) / base:>10.2f}")


# --- end to end: the CLI ----------------------------------------------------------------------------


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def bench_cli(slos: int, runs: int, old_tree: Path | None) -> None:
    """`watchkeeper generate rules CATALOG --out DIR` as a user runs it, promtool check on."""
    promtool = shutil.which("promtool")
    if not promtool:
        sys.exit("promtool is needed: run scripts/bootstrap.sh")
    cli = str(Path(sys.executable).with_name("watchkeeper"))
    data = bench_catalog(slos).model_dump(mode="json", by_alias=True, exclude_defaults=True)
    with tempfile.TemporaryDirectory() as tmp:
        catalog, out = Path(tmp) / "catalog.yaml", Path(tmp) / "rules"
        catalog.write_text(dump_yaml(data), encoding="utf-8")
        env = {**os.environ, "NO_COLOR": "1"}
        variants = {"watchkeeper generate rules (promtool check on)": env}
        if old_tree is not None:
            variants[f"the same, code from {old_tree}"] = {**env, "PYTHONPATH": str(old_tree)}
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        baseline: list[tuple[float, float]] = []
        for _ in range(runs):
            for name, variant_env in variants.items():
                results[name].append(
                    _timed([cli, "generate", "rules", str(catalog), "--out", str(out)], variant_env)
                )
            files = sorted(str(p) for p in out.glob("*.rules.yml"))
            baseline.append(_timed([promtool, "check", "rules", *files], env))
        size = sum(Path(f).stat().st_size for f in files) / 1e6
    base = statistics.median(w for w, _ in baseline)
    print(
        f"end to end: {slos} SLOs, {len(files)} rule files ({size:.1f} MB), median of {runs} runs, {os.cpu_count()} CPUs"
    )
    print(f"  {'command':<58} {'wall s':>7} {'CPU s':>6} {'x baseline':>10}")
    rows = [("promtool check rules on the files, one process (baseline)", baseline), *results.items()]
    for name, samples in rows:
        wall, cpu = statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)
        print(f"  {name:<58} {wall:>7.2f} {cpu:>6.2f} {wall / base:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slos", type=int, default=1000, help="SLOs for the generation and CLI benchmarks")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cli-runs", type=int, default=5, help="runs of the CLI benchmark (0: skip it)")
    parser.add_argument("--old-tree", type=Path, help="also time the CLI of this checkout")
    parser.add_argument(
        "--eval-slos", type=int, default=8, help="SLOs for the evaluation benchmark (0: skip it)"
    )
    parser.add_argument("--days", type=float, default=3)
    parser.add_argument("--samples", type=int, default=4, help="evaluations measured per rule set")
    parser.add_argument("--step", type=int, default=60, help="seconds between backfilled samples")
    parser.add_argument("--instances", type=int, default=20, help="instances per SLO (2 series each)")
    parser.add_argument("--interval", type=int, default=20, help="Prometheus' evaluation interval, seconds")
    parser.add_argument("--idle", action="store_true", help="also measure an idle Prometheus and subtract it")
    args = parser.parse_args()
    if args.runs:
        bench_generation(args.slos, args.runs)
    if args.cli_runs:
        bench_cli(args.slos, args.cli_runs, args.old_tree)
    if args.eval_slos:
        bench_evaluation(
            bench_catalog,
            args.eval_slos,
            args.days,
            args.samples,
            args.step,
            args.instances,
            args.interval,
            args.idle,
        )


if __name__ == "__main__":
    main()
