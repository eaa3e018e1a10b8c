"""Benchmark dashboard generation: 1,000 SLOs and 100 sources (the issue's target: under 2 s).

Run: .venv/bin/python benchmarks/dashboards_bench.py [--slos 1000] [--sources 100] [--runs 5]

Times, on an in-memory catalog of N events SLOs (four windows) over 10 teams, and M sources of every
collected kind plus drift monitors: `dashboard_files` (every dashboard as Grafana JSON text; SLO dashboards
from one template per shape, dashboards/slo_render.py) and the provisioning (ConfigMaps YAML), in wall
and CPU seconds. Baselines, in the same run: building every dashboard directly with grafanalib and only
serialising it with grafanalib's own encoder (`boards` + `DashboardEncoder`: the naive path, without the
schema fixes), and `json.loads` + `json.dumps` of the output (the floor of touching 20 MB of JSON once).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

from catalog.model import Catalog
from dashboards.generate import DashboardOptions, boards, dashboard_files
from dashboards.provisioning import ProvisioningOptions, provisioning_files

KINDS = ("hdfs", "yarn", "spark", "kafka", "freshness", "inference")


def _source(kind: str, i: int, service: str) -> dict[str, Any]:
    url = f"http://host-{i}.example.com:8080"
    by_kind: dict[str, dict[str, Any]] = {
        "hdfs": {"name": f"hdfs-{i}", "service": service, "namenodes": [url]},
        "yarn": {"name": f"yarn-{i}", "service": service, "resourcemanagers": [url]},
        "spark": {"name": f"spark-{i}", "service": service, "url": url},
        "kafka": {"name": f"kafka-{i}", "service": service, "bootstrap": f"host-{i}.example.com:9092"},
        "freshness": {
            "dataset": f"ds.table_{i}",
            "service": service,
            "max_age": "2h",
            "file": {"path": f"/d/{i}"},
        },
        "inference": {"name": f"model-{i}", "service": service, "url": url + "/predict"},
    }
    return by_kind[kind]


def bench_catalog(slos: int, sources: int, teams: int = 10) -> Catalog:
    services = [{"name": f"svc-{i}", "team": f"team-{i % teams}"} for i in range(slos // 5 + 1)]
    entries = [
        {
            "name": f"slo-{i}",
            "service": f"svc-{i // 5}",
            "objective": 99.9,
            "window": ("30d", "28d", "7d", "month")[i % 4],
            "sli": {
                "events": {
                    "errors": f'sum(rate(bench_requests_total{{slo="s{i}",code="500"}}[{{{{window}}}}]))',
                    "total": f'sum(rate(bench_requests_total{{slo="s{i}"}}[{{{{window}}}}]))',
                }
            },
        }
        for i in range(slos)
    ]
    by_kind: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for i in range(sources):
        kind = KINDS[i % len(KINDS)]
        by_kind[kind].append(_source(kind, i, f"svc-{i % len(services)}"))
    drift = [
        {
            "name": f"drift-{i}",
            "service": f"svc-{i}",
            "reference": {"path": "r.parquet"},
            "current": {"path": "c.parquet"},
        }
        for i in range(max(1, sources // 10))
    ]
    return Catalog.model_validate(
        {
            "teams": [{"name": f"team-{t}", "owners": [f"t{t}@example.com"]} for t in range(teams)],
            "services": services,
            "slos": entries,
            "sources": by_kind,
            "drift": drift,
        }
    )


def _timed(fn: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def _naive(catalog: Catalog, options: DashboardOptions) -> list[str]:
    return [
        json.dumps(
            g.Dashboard(title=b.title, uid=b.uid, panels=b.panels).to_json_data(), cls=DashboardEncoder
        )
        for b in boards(catalog, options)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    catalog = bench_catalog(args.slos, args.sources)
    options = DashboardOptions()
    rows: dict[str, list[tuple[float, float]]] = {
        "files": [],
        "provisioning": [],
        "total": [],
        "naive": [],
        "json": [],
    }
    files: dict[str, str] = {}
    for _ in range(args.runs):
        wall, cpu, files = _timed(lambda: dashboard_files(catalog, options))
        rows["files"].append((wall, cpu))
        p_wall, p_cpu, _ = _timed(
            lambda files=files: provisioning_files(files, ProvisioningOptions(options.datasource_uid))
        )
        rows["provisioning"].append((p_wall, p_cpu))
        rows["total"].append((wall + p_wall, cpu + p_cpu))
        n_wall, n_cpu, _ = _timed(lambda: _naive(catalog, options))
        rows["naive"].append((n_wall, n_cpu))
        j_wall, j_cpu, _ = _timed(lambda files=files: [json.dumps(json.loads(t)) for t in files.values()])
        rows["json"].append((j_wall, j_cpu))
    med = statistics.median
    print(f"catalog: {args.slos} SLOs, {args.sources} sources, {len(catalog.services)} services, 10 teams")
    size = sum(len(t) for t in files.values()) / 1e6
    print(f"dashboards: {len(files)}, {size:.1f} MB of JSON; load average {os.getloadavg()[0]:.1f}")
    labels = {
        "files": "dashboard_files",
        "provisioning": "provisioning",
        "total": "total (target < 2 s)",
        "naive": "baseline: grafanalib only",
        "json": "baseline: json round trip",
    }
    for key, label in labels.items():
        walls, cpus = [r[0] for r in rows[key]], [r[1] for r in rows[key]]
        print(f"{label:28} wall {med(walls):.3f} s (min {min(walls):.3f})   cpu {med(cpus):.3f} s")
    ratio = med([r[1] for r in rows["naive"]]) / med([r[1] for r in rows["total"]])
    print(f"naive grafanalib serialisation / total, CPU: {ratio:.1f}x (median of {args.runs} runs)")


if __name__ == "__main__":
    main()
