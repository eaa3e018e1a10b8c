"""Benchmark ownership: rule generation with many claims, and what the per-claim rules cost Prometheus.

Run: .venv/bin/python benchmarks/ownership_bench.py [--slos 1000] [--claims 5000] [--groups 2000]
     [--eval-claims 200] [--evaluations 20]
     .venv/bin/python benchmarks/ownership_bench.py --one-team 6050   (one team's claims: N/2 vs N)
     .venv/bin/python benchmarks/ownership_bench.py --promtool 100,300,1000,3025 [--promtool-timeout 900]

Generation: the rules_bench catalog of `--slos` SLOs plus `--claims` claims (Kafka groups and topics,
YARN queues, Spark applications; nine in ten literal, one in ten a `re:` pattern with its own prefix)
spread over 100 services; `generate_rules` timed (best of 3) without and with the promtool tests. Baseline
in the same run: the same catalog without its claims.

Evaluation: one real Prometheus scraping `--groups` consumer groups' lag series (a static exposition on
loopback), evaluating every 2 s, first the Kafka component alerts without ownership (no claims), then with
`--eval-claims` claims on those groups (one alert per claim plus the rest), then the ownership info
recordings alone. Reported: the summed `evaluationTime` of the rule groups from `/api/v1/rules` (median
over `--evaluations` evaluations) and Prometheus' CPU seconds per evaluation interval.

Promtool: for each size N, the `--one-team` catalog with N claims; its rules and generated tests written
to a temporary directory, then `promtool test rules` timed (wall and the child's CPU) on the claiming
team's components tests and on the source owner's (which holds the unclaimed shares).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rules_bench import bench_catalog  # benchmarks/, the script's own directory

from catalog.model import Catalog
from exporters import names as m
from rules.generate import generate_rules
from rules.render import write_rules

KINDS = ("kafka_group", "kafka_topic", "yarn_queue", "spark_app")


def with_claims(catalog: Catalog, claims: int, services: int = 100) -> Catalog:
    """`catalog` plus shared sources and `claims` claims over `services` claiming services."""
    data = catalog.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data["services"].append({"name": "shared", "team": "team-0", "tier": "critical"})
    data["sources"] = {
        "kafka": [{"name": "prod", "service": "shared", "bootstrap": "kafka:9092"}],
        "yarn": [{"name": "prod", "service": "shared", "resourcemanagers": ["http://rm:8088"]}],
        "spark": [{"name": "history", "service": "shared", "url": "http://spark:18080"}],
    }
    owned: dict[int, dict[str, Any]] = {}
    for i in range(claims):
        svc = owned.setdefault(i % services, {"kafka": [], "yarn": [], "spark": []})
        kind = KINDS[i % 4]
        name = f"p{i}-" if i % 10 == 9 else f"n{i}"
        pattern = f"re:^{name}.*" if i % 10 == 9 else name
        if kind == "kafka_group":
            svc["kafka"].append({"source": "prod", "groups": [pattern]})
        elif kind == "kafka_topic":
            svc["kafka"].append({"source": "prod", "topics": [pattern]})
        elif kind == "yarn_queue":
            svc["yarn"].append({"source": "prod", "queues": [f"root.q{i}"]})
        else:
            svc["spark"].append({"source": "history", "applications": [pattern]})
    for i, claim in owned.items():
        data["services"][i]["claims"] = {k: v for k, v in claim.items() if v}
    return Catalog.model_validate(data)


def bare(catalog: Catalog) -> Catalog:
    """The catalog without claims."""
    services = [s.model_copy(update={"claims": type(s.claims)()}) for s in catalog.services]
    return catalog.model_copy(update={"services": services})


def best(fn: Any, runs: int = 3) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds of this process) over `runs` runs."""
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def bench_generation(slos: int, claims: int) -> None:
    catalog = with_claims(bench_catalog(slos), claims)
    plain = bare(catalog)
    rules = generate_rules(catalog, with_tests=False)
    alerts = sum(1 for gs in rules.files.values() for g in gs for r in g.rules if r.alert)
    base_alerts = sum(
        1
        for gs in generate_rules(plain, with_tests=False).files.values()
        for g in gs
        for r in g.rules
        if r.alert
    )
    print(
        f"generation: {slos} SLOs, {claims} claims ({alerts} alerts; {base_alerts} without claims), best of 3"
    )
    for label, tests in (("rules only", False), ("rules and promtool tests", True)):
        base = best(lambda t=tests: generate_rules(plain, with_tests=t))
        owned = best(lambda t=tests: generate_rules(catalog, with_tests=t))
        print(
            f"  {label:<26} without claims {base[0]:6.3f} s (CPU {base[1]:6.3f} s)   "
            f"with claims {owned[0]:6.3f} s (CPU {owned[1]:6.3f} s)   x{owned[1] / base[1]:.2f} CPU"
        )


def exposition(groups: int) -> str:
    lines = [f"# TYPE {m.KAFKA_GROUP_MAX_LAG_SECONDS} gauge"]
    lines += [
        f'{m.KAFKA_GROUP_MAX_LAG_SECONDS}{{cluster="prod",group="g{i}"}} {i % 50}' for i in range(groups)
    ]
    lines.append(f"# TYPE {m.KAFKA_GROUP_STATUS} gauge")
    lines += [f'{m.KAFKA_GROUP_STATUS}{{cluster="prod",group="g{i}",status="OK"}} 1' for i in range(groups)]
    return "\n".join(lines) + "\n"


def eval_catalog(claims: int) -> Catalog:
    services: list[dict[str, Any]] = [{"name": "kafka-prod", "team": "platform", "tier": "critical"}]
    for i in range(claims):
        pattern = f"re:^g{i}[0-9]+$" if i % 10 == 9 else f"g{i}"
        services.append(
            {
                "name": f"svc-{i}",
                "team": f"team-{i % 10}",
                "claims": {"kafka": [{"source": "prod", "groups": [pattern]}]},
            }
        )
    teams = [{"name": "platform", "owners": ["p@example.com"]}] + [
        {"name": f"team-{i}", "owners": ["t@example.com"]} for i in range(10)
    ]
    return Catalog.model_validate(
        {
            "teams": teams,
            "services": services,
            "sources": {"kafka": [{"name": "prod", "service": "kafka-prod", "bootstrap": "kafka:9092"}]},
        }
    )


def measure(
    prom: str, files: list[Path], work: Path, target: str, evaluations: int
) -> tuple[float, float, int]:
    """(median summed evaluationTime s, Prometheus CPU s per interval, rules) for one rule set alone."""
    from tests.prometheus_stack import get_json, prometheus, wait_for

    work.mkdir()
    with prometheus(prom, files, work, [target], interval="2s") as url:
        wait_for(lambda: get_json(f"{url}/api/v1/query?query=up")["data"]["result"], 30, "a scrape")
        time.sleep(6)
        cpu0, t0 = _cpu(url), time.monotonic()
        sums = []
        for _ in range(evaluations):
            time.sleep(2)
            groups = get_json(f"{url}/api/v1/rules")["data"]["groups"]
            sums.append(sum(g["evaluationTime"] for g in groups))
        cpu = (_cpu(url) - cpu0) / ((time.monotonic() - t0) / 2)
        rules = sum(len(g["rules"]) for g in groups)
        bad = [r["name"] for g in groups for r in g["rules"] if r["health"] != "ok"]
        assert not bad, bad
    return statistics.median(sums), cpu, rules


def _cpu(url: str) -> float:
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("process_cpu_seconds_total "):
                return float(line.split()[1])
    return 0.0


def bench_evaluation(groups: int, claims: int, evaluations: int) -> None:
    import shutil

    from tests.prometheus_stack import recorder

    prom = shutil.which("prometheus")
    if not prom:
        sys.exit("prometheus is needed: run scripts/bootstrap.sh")
    text = exposition(groups)
    with tempfile.TemporaryDirectory() as tmp, recorder(lambda: text) as (hook, _):
        work = Path(tmp)
        target = hook.removeprefix("http://")
        owned = generate_rules(eval_catalog(claims), with_tests=False).files
        plain = generate_rules(eval_catalog(0), with_tests=False).files
        sets = {
            "Kafka alerts without ownership": {k: v for k, v in plain.items() if k.startswith("components-")},
            f"Kafka alerts with {claims} claims": {
                k: v for k, v in owned.items() if k.startswith("components-")
            },
            "ownership info recordings": {k: v for k, v in owned.items() if k.startswith("ownership")},
        }
        results = {}
        for i, (name, files) in enumerate(sets.items()):
            results[name] = measure(
                prom, write_rules(files, work / f"r{i}"), work / f"p{i}", target, evaluations
            )
    base = results["Kafka alerts without ownership"][0]
    print(f"evaluation: {groups} consumer groups, every 2 s, median of {evaluations} evaluations")
    print(f"  {'rule set':<34} {'rules':>6} {'evaluationTime s':>17} {'x':>6} {'CPU s / interval':>17}")
    for name, (seconds, cpu, rules) in results.items():
        print(f"  {name:<34} {rules:>6} {seconds:>17.5f} {seconds / base:>6.2f} {cpu:>17.4f}")


def one_team(claims: int, per_service: int = 55) -> Catalog:
    """Issue 11 review's h/big shape: one team, `claims` literal claims (half Kafka groups, half YARN child
    queues) over services of `per_service` claims each."""
    services: list[dict[str, Any]] = [{"name": "kafka-prod", "team": "platform"}]
    for s in range(-(-claims // (2 * per_service))):
        n = min(per_service, claims // 2 - s * per_service)
        services.append(
            {
                "name": f"svc-{s}",
                "team": "team-a",
                "claims": {
                    "kafka": [{"source": "prod", "groups": [f"grp-{s}-{i}" for i in range(n)]}],
                    "yarn": [{"source": "rm", "queues": [f"root.q{s}.c{i}" for i in range(n)]}],
                },
            }
        )
    return Catalog.model_validate(
        {
            "teams": [
                {"name": "platform", "owners": ["p@example.com"]},
                {"name": "team-a", "owners": ["a@x.com"]},
            ],
            "services": services,
            "sources": {
                "kafka": [{"name": "prod", "service": "kafka-prod", "bootstrap": "k:9092"}],
                "yarn": [{"name": "rm", "service": "kafka-prod", "resourcemanagers": ["http://rm:8088"]}],
            },
        }
    )


def bench_one_team(claims: int, runs: int = 3) -> None:
    """Generation with tests for `claims` claims in one team against half as many (linear: about 2x)."""
    print(
        f"one team's claims: generate_rules with tests (best of {runs}), {claims // 2:,} vs {claims:,} claims"
    )
    times = []
    for n in (claims // 2, claims):
        catalog = one_team(n)
        wall, cpu = best(lambda c=catalog: generate_rules(c, with_tests=True), runs)
        times.append(wall)
        print(f"  {n:>7,} claims  {wall:8.2f} s wall  {cpu:8.2f} s CPU")
    print(f"  ratio {times[1] / times[0]:.2f}x for 2x the claims")


def _promtool_run(promtool: str, path: Path, timeout: float) -> tuple[float, float, str]:
    """(wall s, child CPU s, outcome) of `promtool test rules path`; outcome "ok", "FAILED" or "timeout"."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with subprocess.Popen(
        [promtool, "test", "rules", path.name],
        cwd=path.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as proc:
        try:
            outcome = "ok" if proc.wait(timeout=timeout) == 0 else "FAILED"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)  # only the promtool this function started
            proc.wait()
            outcome = "timeout"
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), outcome


def bench_promtool(sizes: list[int], timeout: float, sample: int = 0) -> None:
    """`promtool test rules` on the generated tests of one team with N claims, for each N in `sizes`.
    With `sample`, a file of more test groups runs only that many (evenly spaced) and its times are scaled
    up: an estimate for test files too slow to run whole (the old one group per share)."""
    import shutil

    import yaml

    from rules.render import write_tests

    promtool = shutil.which("promtool")
    if not promtool:
        sys.exit("promtool is needed: run scripts/bootstrap.sh")
    print(f"promtool test rules on one team's generated tests (timeout {timeout:g} s per file)")
    print(f"  {'claims':>7} {'file':<28} {'test groups':>11} {'wall s':>9} {'CPU s':>9}  outcome")
    rows: list[tuple[int, float]] = []
    for n in sizes:
        result = generate_rules(one_team(n), with_tests=True)
        with tempfile.TemporaryDirectory() as tmp:
            write_rules(result.files, Path(tmp) / "rules")
            written = write_tests(result.tests, result.files, Path(tmp) / "rules", Path(tmp) / "tests")
            total_cpu = 0.0
            for path in sorted(written):
                if not path.name.startswith("components-"):
                    continue
                data = yaml.safe_load(path.read_text())
                groups = len(data["tests"])
                scale = 1.0
                if sample and groups > sample:  # an evenly spaced sample of the groups, scaled up
                    data["tests"] = data["tests"][:: -(-groups // sample)]
                    scale = groups / len(data["tests"])
                    path = path.with_name(f"sample-{path.name}")  # noqa: PLW2901
                    path.write_text(yaml.safe_dump(data, sort_keys=False))
                wall, cpu, outcome = _promtool_run(promtool, path, timeout)
                total_cpu += cpu * scale
                note = f" (estimate: {len(data['tests'])} groups run, x{scale:.1f})" if scale > 1 else ""
                print(
                    f"  {n:>7,} {path.name.removeprefix('sample-'):<28} {groups:>11,} {wall * scale:>9.2f} "
                    f"{cpu * scale:>9.2f}  {outcome}{note}",
                    flush=True,
                )
            rows.append((n, total_cpu))
    for (n0, c0), (n1, c1) in itertools.pairwise(rows):
        if c0 > 0:
            print(f"  {n0:,} -> {n1:,} claims (x{n1 / n0:.2f}): promtool CPU x{c1 / c0:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--eval-claims", type=int, default=200)
    parser.add_argument("--evaluations", type=int, default=20)
    parser.add_argument("--no-eval", action="store_true", help="generation only")
    parser.add_argument("--one-team", type=int, default=0, help="only: N claims in one team vs N/2")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs (--one-team)")
    parser.add_argument("--promtool", default="", help="only: promtool test time, e.g. 100,300,1000")
    parser.add_argument("--promtool-timeout", type=float, default=900.0, help="seconds per test file")
    parser.add_argument("--promtool-sample", type=int, default=0, help="run at most this many test groups")
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}")
    if args.promtool:
        bench_promtool(
            [int(n) for n in args.promtool.split(",")], args.promtool_timeout, args.promtool_sample
        )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return
    if args.one_team:
        bench_one_team(args.one_team, args.runs)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return
    bench_generation(args.slos, args.claims)
    if not args.no_eval:
        bench_evaluation(args.groups, args.eval_claims, args.evaluations)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
