"""Benchmark: load and validate generated catalogs of growing size against plain YAML parsing of the same files.

Run: .venv/bin/python benchmarks/catalog_bench.py [--sizes 100,1000,10000] [--services 200000] [--runs 3]

Each size N writes a catalog directory of N SLOs over N/5 services and N/100 teams (one file per team, as
a real catalog is split), plus `--services` bare services (no SLOs) over 1,000 teams, written both ways:
one file per team, and all in one file. Every measurement runs in a fresh interpreter so its peak RSS is
its own:

- `yaml.safe_load` (pure-Python PyYAML) and `yaml.load(Loader=CSafeLoader)` (libyaml) of the same files:
  the baselines, which give neither line numbers nor any validation;
- `load_catalog`: parse with line numbers, refuse hostile YAML, validate every entry and cross-reference.

Times are the median of `--runs` loads in the same process (the first one, which imports the libraries,
included); CPU is the process's own CPU time, steadier than wall time on a shared machine; peak RSS is the
child's `ru_maxrss` after all its runs ("validate CLI": the whole `watchkeeper validate` command).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVICE = """  - name: svc-{i}
    team: team-{team}
    tier: {tier}
    runbook: https://runbooks.example.com/svc-{i}
    description: Service number {i}.
"""
EVENTS_SLO = """  - name: slo-{i}
    service: svc-{service}
    objective: 99.{nines}
    window: 30d
    description: Requests of svc-{service} that do not fail.
    sli:
      events:
        errors: sum(rate(http_requests_total{{service="svc-{service}",code=~"5.."}}[{{{{window}}}}]))
        total: sum(rate(http_requests_total{{service="svc-{service}"}}[{{{{window}}}}]))
"""
LATENCY_SLO = """  - name: slo-{i}
    service: svc-{service}
    objective: 99
    window: 28d
    sli:
      latency: {{histogram: http_request_duration_seconds, le: 0.3, selector: '{{service="svc-{service}"}}'}}
    alerting:
      min_events_per_hour: 20
      page: {{labels: {{escalation: primary}}}}
"""
TIERS = ("critical", "high", "medium", "low")


def write_catalog(directory: Path, slos: int, services: int, teams: int, one_file: bool = False) -> int:
    """Write a catalog split into one file per team (or all in one file); return the total bytes written."""
    directory.mkdir(parents=True, exist_ok=True)
    buffers: list[dict[str, list[str]]] = [{"services": [], "slos": []} for _ in range(teams)]
    for i in range(services):
        buffers[i % teams]["services"].append(SERVICE.format(i=i, team=i % teams, tier=TIERS[i % 4]))
    for i in range(slos):
        service = i // 5 % max(services, 1)
        template = LATENCY_SLO if i % 4 == 3 else EVENTS_SLO
        buffers[service % teams]["slos"].append(template.format(i=i, service=service, nines=i % 10))
    if one_file:
        text = "teams:\n" + "".join(
            f"  - {{name: team-{t}, owners: [team-{t}@example.com]}}\n" for t in range(teams)
        )
        text += "services:\n" + "".join(line for parts in buffers for line in parts["services"])
        if slos:
            text += "slos:\n" + "".join(line for parts in buffers for line in parts["slos"])
        (directory / "catalog.yaml").write_text(text, encoding="utf-8")
        return len(text.encode())
    total = 0
    for t, parts in enumerate(buffers):
        text = (
            f"teams:\n  - name: team-{t}\n    owners: [team-{t}@example.com]\n"
            f'    channels: {{slack: {{channel: "#team-{t}", api_url_env: SLACK_URL_{t}}}}}\n'
        )
        if parts["services"]:
            text += "services:\n" + "".join(parts["services"])
        if parts["slos"]:
            text += "slos:\n" + "".join(parts["slos"])
        (directory / f"team-{t:04d}.yaml").write_text(text, encoding="utf-8")
        total += len(text.encode())
    return total


def measure(kind: str, directory: Path, runs: int) -> dict[str, float]:
    """Run in a child process: time `kind` over the catalog `runs` times, report times and peak RSS."""
    import yaml

    files = sorted(directory.glob("*.yaml"))
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        if kind == "safe_load":
            for path in files:
                yaml.safe_load(path.read_text(encoding="utf-8"))
        elif kind == "csafe_load":
            for path in files:
                yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        elif kind == "load_catalog":
            from catalog import load_catalog

            load_catalog(directory)
        elif kind == "cli_validate":
            subprocess.run(
                [str(Path(sys.executable).parent / "watchkeeper"), "validate", str(directory)],
                check=True,
                capture_output=True,
            )
        else:
            raise SystemExit(f"unknown measurement {kind}")
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    peak_kb = resource.getrusage(
        resource.RUSAGE_CHILDREN if kind == "cli_validate" else resource.RUSAGE_SELF
    ).ru_maxrss
    return {"median": statistics.median(walls), "cpu": statistics.median(cpus), "peak_mb": peak_kb / 1024}


def child(kind: str, directory: Path, runs: int, timeout: float) -> dict[str, float] | None:
    command = [sys.executable, __file__, "--child", kind, str(directory), "--runs", str(runs)]
    try:
        out = subprocess.run(command, check=True, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000,10000", help="SLO counts, comma-separated")
    parser.add_argument(
        "--services", type=int, default=200_000, help="size of the services-only catalog (0: skip)"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600, help="give up on one measurement after this")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]), args.runs)))
        return
    cases = [
        (f"{n:,} SLOs, {n // 5:,} services, {max(1, n // 100):,} teams", n, n // 5, max(1, n // 100), False)
        for n in (int(s) for s in args.sizes.split(",") if s)
    ]
    if args.services:
        label = f"{args.services:,} services, 0 SLOs, 1,000 teams"
        cases.append((label + ", one file per team", 0, args.services, 1000, False))
        cases.append((label + ", all in one file", 0, args.services, 1000, True))
    kinds = ("safe_load", "csafe_load", "load_catalog", "cli_validate")
    print(
        "median wall s (CPU s of the process, for load_catalog) / peak RSS MB; x = load_catalog / CSafeLoader"
    )
    print(
        f"| {'catalog':<60} | {'MB':>5} | {'safe_load':>9} | {'CSafeLoader':>11} | {'load_catalog':>12} "
        f"| {'(CPU)':>6} | {'x':>5} | {'RSS MB':>6} | {'validate CLI':>12} |"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, slos, services, teams, one_file in cases:
            directory = Path(tmp) / f"c{slos}-{services}-{'one' if one_file else 'split'}"
            size = write_catalog(directory, slos, services, teams, one_file)
            results: dict[str, dict[str, float] | None] = {}
            for kind in kinds:
                runs = 1 if kind == "safe_load" and services > 50_000 else args.runs
                results[kind] = child(kind, directory, runs, args.timeout)
            cells = [f"{r['median']:.3f}" if r else "timeout" for r in results.values()]
            base, ours = results["csafe_load"], results["load_catalog"]
            ratio = ours["median"] / base["median"] if base and ours else float("nan")
            cpu = f"{ours['cpu']:.3f}" if ours else "-"
            rss = f"{ours['peak_mb']:.0f}" if ours else "-"
            print(
                f"| {label:<60} | {size / 1e6:>5.1f} | {cells[0]:>9} | {cells[1]:>11} | {cells[2]:>12} | {cpu:>6} "
                f"| {ratio:>5.2f} | {rss:>6} | {cells[3]:>12} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
