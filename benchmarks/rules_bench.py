"""Benchmark the rules: generation time for many SLOs, and evaluation cost in one real Prometheus
against Sloth-style rules over the same backfilled series.

Run: .venv/bin/python benchmarks/rules_bench.py [--slos 1000] [--eval-slos 10] [--days 3]

Generation: build a catalog of N ratio/latency SLOs in memory, then time `generate_rules` (rules plus their
promtool tests) and rendering to YAML; the baseline is `yaml.safe_dump` of the same rule data.

Evaluation: backfill `--days` of raw request counters (and the 5m recordings each rule set chains from,
at the evaluation interval, as Prometheus would have recorded them) with `promtool tsdb
create-blocks-from openmetrics`; start Prometheus with Watchkeeper's rules and Sloth-style rules (the form
of slok/sloth's `_gen` output: 5m..3d ratios from raw series, 30d chained) for the same SLOs, and compare
the summed `prometheus_rule_group_last_duration_seconds` of each set over repeated evaluations.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.model import Catalog
from rules.generate import generate_rules
from rules.render import rule_file, write_rules
from tests.prometheus_stack import get_json, prometheus, wait_for

WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
ALERTS = [
    ("page", "1h", "5m", 14.4),
    ("page", "6h", "30m", 6),
    ("ticket", "1d", "2h", 3),
    ("ticket", "3d", "6h", 1),
]


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


# --- evaluation cost ---------------------------------------------------------------------------------


def sloth_style(i: int) -> list[dict[str, Any]]:
    """Sloth's generated groups for one events SLO (the shape of slok/sloth examples/_gen/*.yml)."""
    sid = {"sloth_id": f"bench-slo-{i}", "sloth_service": "bench", "sloth_slo": f"slo-{i}"}
    sel = "{" + ", ".join(f'{k}="{v}"' for k, v in sid.items()) + "}"
    errors = f'sum(rate(bench_requests_total{{slo="s{i}",code="500"}}[WINDOW]))'
    total = f'sum(rate(bench_requests_total{{slo="s{i}"}}[WINDOW]))'
    sli = [
        {
            "record": f"slo:sli_error:ratio_rate{w}",
            "expr": f"({errors.replace('WINDOW', w)})\n/\n({total.replace('WINDOW', w)})",
            "labels": {**sid, "sloth_window": w},
        }
        for w in WINDOWS
    ]
    sli.append(
        {
            "record": "slo:sli_error:ratio_rate30d",
            "expr": f"sum_over_time(slo:sli_error:ratio_rate5m{sel}[30d])\n/ ignoring (sloth_window)\n"
            f"count_over_time(slo:sli_error:ratio_rate5m{sel}[30d])",
            "labels": {**sid, "sloth_window": "30d"},
        }
    )
    on = "/ on(sloth_id, sloth_slo, sloth_service) group_left\n"
    meta = [
        {"record": "slo:objective:ratio", "expr": "vector(0.999)", "labels": sid},
        {"record": "slo:error_budget:ratio", "expr": "vector(1-0.999)", "labels": sid},
        {"record": "slo:time_period:days", "expr": "vector(30)", "labels": sid},
        {
            "record": "slo:current_burn_rate:ratio",
            "expr": f"slo:sli_error:ratio_rate5m{sel}\n{on}slo:error_budget:ratio{sel}",
            "labels": sid,
        },
        {
            "record": "slo:period_burn_rate:ratio",
            "expr": f"slo:sli_error:ratio_rate30d{sel}\n{on}slo:error_budget:ratio{sel}",
            "labels": sid,
        },
        {
            "record": "slo:period_error_budget_remaining:ratio",
            "expr": f"1 - slo:period_burn_rate:ratio{sel}",
            "labels": sid,
        },
        {"record": "sloth_slo_info", "expr": "vector(1)", "labels": {**sid, "sloth_objective": "99.9"}},
    ]
    alerts = []
    for severity in ("page", "ticket"):
        conds = [
            f"(max(slo:sli_error:ratio_rate{short}{sel} > ({f} * 0.001)) without (sloth_window)\nand\n"
            f"max(slo:sli_error:ratio_rate{long}{sel} > ({f} * 0.001)) without (sloth_window))"
            for sev, long, short, f in ALERTS
            if sev == severity
        ]
        alerts.append(
            {
                "alert": f"BenchSloth{i}",
                "expr": "(\n" + "\nor\n".join(conds) + "\n)",
                "labels": {"sloth_severity": severity},
            }
        )
    return [
        {"name": f"sloth-slo-sli-recordings-bench-slo-{i}", "rules": sli},
        {"name": f"sloth-slo-meta-recordings-bench-slo-{i}", "rules": meta},
        {"name": f"sloth-slo-alerts-bench-slo-{i}", "rules": alerts},
    ]


def openmetrics(slos: int, days: float, step: int, end: int, instances: int) -> str:
    """Raw counters (1% errors) plus each rule set's recorded 5m series, ending at `end`."""
    points = int(days * 86400 // step)
    lines = ["# TYPE bench_requests counter"]
    for i in range(slos):
        for inst in range(instances):
            for code, share in (("200", 0.99), ("500", 0.01)):
                labels = f'slo="s{i}",instance="i{inst}",code="{code}"'
                lines += [
                    f"bench_requests_total{{{labels}}} {share * 10 * k * step:.1f} {end - (points - k) * step}"
                    for k in range(points)
                ]
    for name in ("slo:sli_errors:rate5m", "slo:sli_total:rate5m"):
        lines.append(f"# TYPE {name.replace(':', '_')} gauge")
    recorded = []
    for i in range(slos):
        wk = f'service="svc-{i // 5}",slo="slo-{i}"'
        sloth = f'sloth_id="bench-slo-{i}",sloth_service="bench",sloth_slo="slo-{i}",sloth_window="5m"'
        per_second = 10 * instances
        for k in range(points):
            t = end - (points - k) * step
            recorded += [
                f"slo:sli_errors:rate5m{{{wk}}} {per_second * 0.01} {t}",
                f"slo:sli_total:rate5m{{{wk}}} {per_second} {t}",
                f"slo:sli_error:ratio_rate5m{{{sloth}}} 0.01 {t}",
            ]
    return "\n".join(lines + recorded) + "\n# EOF\n"


def rule_group_durations(url: str) -> dict[str, float]:
    """`prometheus_rule_group_last_duration_seconds` per rule group, read from Prometheus' own /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        sample.labels["rule_group"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "prometheus_rule_group_last_duration_seconds"
        for sample in family.samples
    }


def bench_evaluation(slos: int, days: float, samples: int, step: int, instances: int) -> None:
    promtool, prom = shutil.which("promtool"), shutil.which("prometheus")
    if not promtool or not prom:
        sys.exit("promtool and prometheus are needed: run scripts/bootstrap.sh")
    catalog = bench_catalog(slos)
    events = [s for s in catalog.slos if s.sli.events is not None]
    catalog = catalog.model_copy(update={"slos": events})
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        end = int(time.time()) - 60
        started = time.perf_counter()
        (work / "data.om").write_text(openmetrics(slos, days, step, end, instances))
        subprocess.run(
            [
                promtool,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                str(work / "data.om"),
                str(work / "prom-data"),
            ],
            check=True,
            capture_output=True,
        )
        (work / "data.om").unlink()
        print(
            f"backfill: {days} d x {slos * instances * 2} raw series + recordings at {step}s in {time.perf_counter() - started:.1f} s"
        )
        # Only the SLOs whose series were backfilled (events SLOs with index < slos).
        wanted = {f"slo-{i}" for i in range(slos)}
        catalog = catalog.model_copy(update={"slos": [s for s in catalog.slos if s.name in wanted]})
        wk_files = write_rules(generate_rules(catalog, with_tests=False).files, work / "wk")
        wk_files = [f for f in wk_files if f.name.startswith("slo-")]
        sloth_file = work / "sloth" / "sloth.rules.yml"
        sloth_file.parent.mkdir()
        sloth_file.write_text(
            yaml.safe_dump(
                {"groups": [g for s in catalog.slos for g in sloth_style(int(s.name.split("-")[1]))]},
                sort_keys=False,
            )
        )
        with prometheus(prom, [*wk_files, sloth_file], work, interval="2s") as url:
            wait_for(lambda: all(v > 0 for v in rule_group_durations(url).values()), 30, "rule evaluation")
            time.sleep(6)
            wk_costs, sloth_costs = [], []
            for _ in range(samples):
                durations = rule_group_durations(url)
                wk_costs.append(sum(v for k, v in durations.items() if "/wk/" in k))
                sloth_costs.append(sum(v for k, v in durations.items() if "/sloth/" in k))
                time.sleep(2)
            ok = get_json(f"{url}/api/v1/rules")["data"]["groups"]
            errors = [r["name"] for g in ok for r in g["rules"] if r["health"] != "ok"]
    sloth, wk = statistics.median(sloth_costs), statistics.median(wk_costs)
    print(
        f"evaluation: {len(catalog.slos)} SLOs, median of {samples} samples of the summed last group durations"
    )
    print(f"  {'rule set':<44} {'median ms':>9} {'x Sloth':>8}")
    print(f"  {'Sloth-style (baseline)':<44} {sloth * 1000:>9.2f} {1:>8.2f}")
    print(f"  {'Watchkeeper':<44} {wk * 1000:>9.2f} {wk / sloth:>8.2f}")
    if errors:
        print(f"  rules with evaluation errors: {errors}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slos", type=int, default=1000, help="SLOs for the generation benchmark")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--eval-slos", type=int, default=8, help="SLOs for the evaluation benchmark (0: skip it)"
    )
    parser.add_argument("--days", type=float, default=3)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--step", type=int, default=60, help="seconds between backfilled samples")
    parser.add_argument("--instances", type=int, default=20, help="instances per SLO (2 series each)")
    args = parser.parse_args()
    bench_generation(args.slos, args.runs)
    if args.eval_slos:
        bench_evaluation(args.eval_slos, args.days, args.samples, args.step, args.instances)


if __name__ == "__main__":
    main()
