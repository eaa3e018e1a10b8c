"""The generated inference alerts and a latency SLO, evaluated by a real Prometheus scraping the real
`watchkeeper exporter` process, which probes a real model server (tests/model_server.py). The expected
values are hand-computed from the delays and faults injected into the server."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from exporters import names as m
from tests.conftest import require_binary, run_cli
from tests.model_server import model_server
from tests.prometheus_stack import free_port, get_json, prometheus, stop, wait_for

ROOT = Path(__file__).resolve().parent.parent

E2E_CATALOG = """
teams: [{name: ml, owners: [ml@example.com], channels: {webhook: {url: "http://127.0.0.1:1/hook"}}}]
services: [{name: churn, team: ml, tier: critical}]
sources:
  inference:
    - {name: steady, service: churn, url: "MODEL/models/steady/predict", interval: 1s, timeout: 1s,
       latency_target: 300ms, expect_json_path: "predictions[0]", request: {json: {features: [1, 2, 3]}}}
    - {name: broken, service: churn, url: "MODEL/models/broken/predict", interval: 1s, timeout: 1s}
    - {name: refused, service: churn, url: "http://127.0.0.1:REFUSED/predict", interval: 1s, timeout: 1s}
slos:
  - name: steady-fast
    service: churn
    objective: 99
    window: 30d
    sli: {latency: {histogram: watchkeeper_inference_probe_duration_seconds, le: 0.5, selector: '{source="steady"}'}}
  - name: steady-strict
    service: churn
    objective: 99
    window: 30d
    sli: {latency: {histogram: watchkeeper_inference_probe_duration_seconds, le: 0.3, selector: '{source="steady"}'}}
"""


@contextmanager
def exporter_process(catalog: Path, log: Path) -> Iterator[str]:
    port = free_port()
    exe = ROOT / ".venv" / "bin" / "watchkeeper"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [str(exe), "exporter", str(catalog), "--listen", f"127.0.0.1:{port}"], stderr=err, cwd=ROOT
        )
    try:
        wait_for(lambda: get_text(f"http://127.0.0.1:{port}/healthz"), 30, "the exporter to start")
        yield f"127.0.0.1:{port}"
    finally:
        stop(proc)


def get_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def query(prom: str, expr: str) -> dict[frozenset[tuple[str, str]], float]:
    result = get_json(f"{prom}/api/v1/query?query={quote(expr)}")["data"]["result"]
    return {frozenset(r["metric"].items()): float(r["value"][1]) for r in result}


def one(prom: str, expr: str) -> float | None:
    found = query(prom, expr)
    assert len(found) <= 1, found
    return next(iter(found.values()), None)


@pytest.mark.promtool
def test_the_generated_inference_alerts_and_a_latency_slo_evaluate_on_real_probes(tmp_path: Path) -> None:
    binary = require_binary("prometheus")
    with ExitStack() as stack:
        server = stack.enter_context(model_server())
        server.default({"delay": 0.32}, "steady")  # (0.3, 0.5]: 0.18 s from the next bound
        server.default({"status": 500}, "broken")
        text = E2E_CATALOG.replace("MODEL", server.base).replace("REFUSED", str(free_port()))
        catalog = tmp_path / "catalog.yaml"
        catalog.write_text(text)
        result = run_cli("generate", "rules", str(catalog), "--out", str(tmp_path / "rules"))
        assert result.code == 0, result.output
        rules = {
            (r["alert"], r["labels"]["source"]): r["expr"]
            for path in sorted((tmp_path / "rules").glob("*.yml"))
            for g in yaml.safe_load(path.read_text())["groups"]
            for r in g["rules"]
            if "alert" in r and "source" in r.get("labels", {})
        }
        files = sorted((tmp_path / "rules").glob("*.yml"))
        target = stack.enter_context(exporter_process(catalog, tmp_path / "exporter.log"))
        prom = stack.enter_context(prometheus(binary, files, tmp_path, [target]))

        slow = rules[("WatchkeeperInferenceSlow", "steady")]
        # Every steady probe lands in (0.3, 0.5] (delay 0.32 s), so every bucket's rate is either 0 or
        # the count's rate, and histogram_quantile interpolates inside (0.3, 0.5]:
        # 0.3 + (0.5 - 0.3) * 0.99 = 0.498, over the 0.3 s latency_target.
        p99 = wait_for(lambda: one(prom, slow), 60, "the p99 latency alert's expression")
        assert p99 == pytest.approx(0.498, abs=1e-9)
        # broken: every probe is a status error, and errors and probes are read under one lock, so the
        # two counters are equal at every scrape and so are their rates: ratio 1 (threshold 0.05).
        errors = rules[("WatchkeeperInferenceErrors", "broken")]
        assert wait_for(lambda: one(prom, errors), 30, "the error ratio") == pytest.approx(1.0)
        assert one(prom, rules[("WatchkeeperInferenceErrors", "steady")]) is None
        failing = rules[("WatchkeeperInferenceProbeFailing", "broken")]
        assert wait_for(lambda: query(prom, failing), 30, "the failing probe") and one(prom, failing) == 0
        assert one(prom, rules[("WatchkeeperInferenceProbeFailing", "steady")]) is None
        for name in ("broken", "refused"):
            assert query(prom, rules[("WatchkeeperSourceDown", name)]), name
        assert one(prom, rules[("WatchkeeperSourceDown", "steady")]) is None
        assert one(prom, rules[("WatchkeeperSourceAbsent", "steady")]) is None
        refused_kind = one(
            prom, f'{m.INFERENCE_PROBE_ERRORS}_total{{source="refused", kind="connection"}} > 0'
        )
        assert refused_kind is not None
        # The latency SLOs, through the generated recordings: le 0.5 holds every probe (0 errors), le 0.3
        # none of them (all errors).
        ratio = "slo:sli_error:ratio_rate5m"
        both = f'{ratio}{{slo=~"steady-strict|steady-fast"}}'
        assert wait_for(lambda: len(query(prom, both)) == 2, 30, "both SLOs' recordings")
        assert one(prom, f'{ratio}{{slo="steady-strict"}}') == pytest.approx(1.0)
        assert one(prom, f'{ratio}{{slo="steady-fast"}}') == pytest.approx(0.0)
        # The alerts themselves are loaded and go pending (their `for` is 10m) at their group's next
        # evaluation with enough samples, which may come a little after the queries above.

        def states() -> dict[tuple[str, str | None], str]:
            alerts = get_json(f"{prom}/api/v1/alerts")["data"]["alerts"]
            return {(a["labels"]["alertname"], a["labels"].get("source")): a["state"] for a in alerts}

        wanted = {("WatchkeeperInferenceSlow", "steady"), ("WatchkeeperInferenceErrors", "broken")}
        found = wait_for(lambda: wanted <= states().keys() and states(), 30, "the alerts to go pending")
        assert {found[key] for key in wanted} == {"pending"}
        assert ("WatchkeeperInferenceSlow", "broken") not in found  # no latency_target: no such alert
        assert ("WatchkeeperInferenceErrors", "steady") not in found
