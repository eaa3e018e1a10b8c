"""The evaluation half of benchmarks/rules_bench.py: backfill raw counters and the 5m recordings, then
measure each rule set alone in a real Prometheus (Watchkeeper's rules against Sloth-style rules).
Run it through rules_bench.py (`--eval-slos N --days D`)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from rules.generate import generate_rules
from rules.render import write_rules
from tests.prometheus_stack import get_json, prometheus, wait_for

WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
ALERTS = [
    ("page", "1h", "5m", 14.4),
    ("page", "6h", "30m", 6),
    ("ticket", "1d", "2h", 3),
    ("ticket", "3d", "6h", 1),
]


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


BLOCK = 7200  # promtool's backfill block length in seconds; blocks are aligned to multiples of it


def backfill(promtool: str, work: Path, indices: list[int], days: float, step: int, instances: int) -> int:
    """Backfill raw counters (1% errors, 10 req/s per instance) and each rule set's recorded 5m series,
    ending now; one OpenMetrics file per 2h block, two promtool processes at a time. Returns the
    number of samples written."""
    end = (int(time.time()) - 60) // step * step
    start = end - int(days * 86400) // step * step
    per_second = 10 * instances
    series: list[tuple[str, float, float]] = []  # (name and labels, value at `start`, increase per step)
    for i in indices:
        for inst in range(instances):
            for code, share in (("200", 0.99), ("500", 0.01)):
                labels = f'slo="s{i}",instance="i{inst}",code="{code}"'
                series.append((f"bench_requests_total{{{labels}}}", 0.0, share * 10 * step))
    recorded: list[tuple[str, float, float]] = []
    for i in indices:
        wk = f'service="svc-{i // 5}",slo="slo-{i}"'
        sloth = f'sloth_id="bench-slo-{i}",sloth_service="bench",sloth_slo="slo-{i}",sloth_window="5m"'
        recorded += [
            (f"slo:sli_errors:rate5m{{{wk}}}", per_second * 0.01, 0.0),
            (f"slo:sli_total:rate5m{{{wk}}}", float(per_second), 0.0),
            (f"slo:sli_error:ratio_rate5m{{{sloth}}}", 0.01, 0.0),
        ]
    families = [("bench_requests", "counter", series)] + [
        (name, "gauge", [r for r in recorded if r[0].startswith(name + "{")])
        for name in ("slo:sli_errors:rate5m", "slo:sli_total:rate5m", "slo:sli_error:ratio_rate5m")
    ]
    windows = range(start // BLOCK * BLOCK, end + 1, BLOCK)
    samples = 0

    def write(index: int, lo: int) -> Path:
        nonlocal samples
        times = [t for t in range(max(lo, start), min(lo + BLOCK, end + 1)) if (t - start) % step == 0]
        path = work / f"backfill-{index}.om"
        with path.open("w") as out:
            for family, kind, members in families:
                out.write(f"# TYPE {family} {kind}\n")
                for text, first, inc in members:
                    out.write(
                        "".join(f"{text} {first + inc * ((t - start) // step):.1f} {t}\n" for t in times)
                        if inc
                        else "".join(f"{text} {first!r} {t}\n" for t in times)
                    )
            out.write("# EOF\n")
        samples += len(times) * (len(series) + len(recorded))
        return path

    def convert(path: Path) -> None:
        command = [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "-q",
            str(path),
            str(work / "prom-data"),
        ]
        subprocess.run(command, check=True, capture_output=True)
        path.unlink()

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(convert, (write(i, lo) for i, lo in enumerate(windows))))
    return samples


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


def _tsdb_state(url: str) -> tuple[float, float]:
    """(blocks loaded, compactions run) from Prometheus' own /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples}
    return values.get("prometheus_tsdb_blocks_loaded", 0), values.get(
        "prometheus_tsdb_compaction_duration_seconds_count", 0
    )


def wait_until_compacted(url: str, quiet: int = 20, limit: int = 900) -> None:
    """Wait until the backfilled blocks are loaded and no compaction has run for `quiet` seconds."""
    deadline = time.monotonic() + limit
    last, since = _tsdb_state(url), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(5)
        state = _tsdb_state(url)
        if state != last:
            last, since = state, time.monotonic()
        elif last[0] > 0 and time.monotonic() - since >= quiet:
            return
    raise AssertionError(f"Prometheus was still compacting after {limit} s")


def bench_evaluation(
    bench_catalog: Any,
    slos: int,
    days: float,
    samples: int,
    step: int,
    instances: int,
    interval: int,
    with_idle: bool = False,
) -> None:
    promtool, prom = shutil.which("promtool"), shutil.which("prometheus")
    if not promtool or not prom:
        sys.exit("promtool and prometheus are needed: run scripts/bootstrap.sh")
    catalog = bench_catalog(slos * 4 // 3 + 1)
    events = [s for s in catalog.slos if s.sli.events is not None][:slos]  # every 4th SLO is a latency one
    catalog = catalog.model_copy(update={"slos": events})
    indices = [int(s.name.split("-")[1]) for s in events]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        written = backfill(promtool, work, indices, days, step, instances)
        print(
            f"backfill: {days:g} d of {slos * instances * 2} raw counters and {slos * 3} recorded series "
            f"at {step} s ({written / 1e6:.1f} M samples) in {time.perf_counter() - started:.1f} s"
        )
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
        sets = [("Sloth-style (baseline)", [sloth_file]), ("Watchkeeper", wk_files)]
        costs = {name: measure(prom, files, work, interval, samples) for name, files in sets}
        idle = measure(prom, [], work, interval, 2)[0] if with_idle else 0.0
    base = costs["Sloth-style (baseline)"][0] - idle
    print(
        f"evaluation: {len(catalog.slos)} SLOs, each rule set alone in Prometheus, every {interval} s, "
        f"{samples} evaluations; "
        + (
            f"idle Prometheus: {idle:.2f} CPU s per interval (subtracted)"
            if with_idle
            else "idle not measured"
        )
    )
    print(
        f"  {'rule set':<28} {'CPU s / evaluation':>18} {'x Sloth':>8} {'summed group s':>15} {'missed':>7}"
    )
    for name, (cpu, summed, missed, errors) in costs.items():
        print(f"  {name:<28} {cpu - idle:>18.3f} {(cpu - idle) / base:>8.2f} {summed:>15.3f} {missed:>7.0f}")
        if errors:
            print(f"    rules with evaluation errors: {errors}")


def _process_metrics(url: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


def measure(
    prom: str, files: list[Path], work: Path, interval: int, samples: int
) -> tuple[float, float, float, list[str]]:
    """One rule set alone in Prometheus over the backfilled data: (Prometheus CPU seconds per interval,
    median summed `prometheus_rule_group_last_duration_seconds`, evaluations missed, rules in error).
    CPU time, unlike the groups' wall durations, does not grow when the groups (or other processes)
    compete for the CPUs."""
    with prometheus(prom, files, work, interval=f"{interval}s") as url:
        wait_until_compacted(url)
        if files:
            wait_for(lambda: all(v > 0 for v in rule_group_durations(url).values()), 300, "rule evaluation")
        time.sleep(interval)
        before, start = _process_metrics(url), time.monotonic()
        summed = []
        for _ in range(samples):
            time.sleep(interval)
            summed.append(sum(rule_group_durations(url).values()))
        after, elapsed = _process_metrics(url), time.monotonic() - start
        groups = get_json(f"{url}/api/v1/rules")["data"]["groups"]
        errors = [r["name"] for g in groups for r in g["rules"] if r["health"] != "ok"]
    cpu = (after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]) / (elapsed / interval)
    missed = after.get("prometheus_rule_group_iterations_missed_total", 0) - before.get(
        "prometheus_rule_group_iterations_missed_total", 0
    )
    return cpu, statistics.median(summed) if summed else 0.0, missed, errors
