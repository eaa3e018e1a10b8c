"""SLO rules proven on raw series with the real promtool, expectations computed by hand.

The low-traffic guard (its default and `min_events_per_hour: 0`), a latency `le` that is not a bucket
bound, and `le` written as the Go and Python clients write bucket labels.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from catalog.model import Catalog
from tests.conftest import FIXTURES, require_binary, run_cli

pytestmark = pytest.mark.promtool

HEAD = """
teams: [{name: t, owners: [a@example.com]}]
services: [{name: s, team: t, tier: high}]
slos:
"""
GRAFANA = "http://grafana:3000"
PAGE_THRESHOLDS_30D = "14.4x over 1h/5m, 6x over 6h/30m"


def generate(tmp_path: Path, slos: str) -> Path:
    """Write a catalog with these SLO entries, generate its rules with the CLI, return the rules dir."""
    (tmp_path / "c.yaml").write_text(HEAD + slos)
    out = tmp_path / "rules"
    result = run_cli("generate", "rules", str(tmp_path / "c.yaml"), "--out", str(out))
    assert result.code == 0, result.output
    return out


def promtool_test(tmp_path: Path, tests: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    """Run `promtool test rules` on hand-written cases against the generated SLO rule file."""
    promtool = require_binary("promtool")
    path = tmp_path / "proof.test.yml"
    groups = yaml.safe_load((tmp_path / "rules" / "slo-t.rules.yml").read_text())["groups"]
    document = {
        "rule_files": ["rules/slo-t.rules.yml"],
        "evaluation_interval": "1m",
        # Groups in file order (SLI, metadata, alerts): an alert reads the same evaluation's recordings.
        "group_eval_order": [g["name"] for g in groups],
        "tests": [{"interval": "1m", **test} for test in tests],
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False, cwd=tmp_path
    )


def page(slo: str, objective: str, value: str, thresholds: str = PAGE_THRESHOLDS_30D) -> dict[str, Any]:
    """The page alert of SLO `slo` of service s (tier high, team t), written out by hand."""
    return {
        "exp_labels": {
            "burn": "page",
            "service": "s",
            "severity": "critical",
            "slo": slo,
            "team": "t",
            "tier": "high",
        },
        "exp_annotations": {
            "summary": f"SLO {slo} of s is burning its error budget too fast",
            "description": f"{slo} ({objective}% over 30d) is burning its error budget at {value} errors; "
            f"page thresholds: {thresholds}.",
            "runbook_url": f"{GRAFANA}/d/wk-slo-s",
            "dashboard_url": f"{GRAFANA}/d/wk-slo-s?var-slo={slo}",
        },
    }


def counter(per_minute: float, minutes: int) -> str:
    """A counter starting at 0 and growing by `per_minute` each minute."""
    return f"0+{per_minute}x{minutes}"


# --- the low-traffic guard ----------------------------------------------------------------------------

TRICKLE = """
  - name: trickle
    service: s
    objective: 99
    sli:
      events:
        errors: sum(rate(req_total{code="500"}[{{window}}]))
        total: sum(rate(req_total[{{window}}]))
    alerting:
      ticket: false
"""


def test_the_guard_defaults_to_ten_events_per_hour_in_the_schema() -> None:
    alerting = Catalog.model_json_schema(by_alias=True)["$defs"]["Alerting"]
    assert alerting["properties"]["min_events_per_hour"]["default"] == 10


def test_the_default_guard_holds_a_page_on_six_events_an_hour(tmp_path: Path) -> None:
    """Every request fails (ratio 1 > 14.4 x 1%), but 0.1 a minute is 6 an hour, under the default 10."""
    generate(tmp_path, TRICKLE)
    result = promtool_test(
        tmp_path,
        [
            {
                "input_series": [{"series": 'req_total{code="500"}', "values": counter(0.1, 90)}],
                "alert_rule_test": [
                    {"eval_time": t, "alertname": "WatchkeeperSLOErrorBudgetBurn", "exp_alerts": []}
                    for t in ("3m", "30m", "90m")
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_default_guard_lets_eighteen_events_an_hour_page_once_the_hour_average_reaches_ten(
    tmp_path: Path,
) -> None:
    """0.3 requests a minute, all failing. Hand computation of the guard, `rate1h * 3600 >= 10`:
    the 5m rate at minute u reads the counter's increase since max(0, u-5) over 300 s (the counter
    starts at 0, so Prometheus does not extrapolate): 0.3u/300 per second for u <= 5, then 1.5/300.
    Per hour: 3.6u, then 18. The 1h average at t (samples u = 1..t) is (3.6*(1+2+3+4) + 18*(t-4)) / t
    = 18(t-2)/t: 9 at t=4 (< 10), 10.8 at t=5 (>= 10). So the page condition holds from 5m and,
    with `for: 2m`, fires at 7m, not at 6m."""
    generate(tmp_path, TRICKLE)
    series = [{"series": 'req_total{code="500"}', "values": counter(0.3, 30)}]
    result = promtool_test(
        tmp_path,
        [
            {
                "input_series": series,
                "alert_rule_test": [
                    {"eval_time": "6m", "alertname": "WatchkeeperSLOErrorBudgetBurn", "exp_alerts": []},
                    {
                        "eval_time": "7m",
                        "alertname": "WatchkeeperSLOErrorBudgetBurn",
                        "exp_alerts": [page("trickle", "99", "100%")],
                    },
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_min_events_per_hour_zero_turns_the_guard_off(tmp_path: Path) -> None:
    """The same six failing requests an hour page once the guard is off: the condition holds from the
    first 5m rate (1m), so with `for: 2m` the page fires at 3m and is still pending at 2m."""
    generate(tmp_path, TRICKLE.replace("ticket: false", "ticket: false\n      min_events_per_hour: 0"))
    result = promtool_test(
        tmp_path,
        [
            {
                "input_series": [{"series": 'req_total{code="500"}', "values": counter(0.1, 30)}],
                "alert_rule_test": [
                    {"eval_time": "2m", "alertname": "WatchkeeperSLOErrorBudgetBurn", "exp_alerts": []},
                    {
                        "eval_time": "3m",
                        "alertname": "WatchkeeperSLOErrorBudgetBurn",
                        "exp_alerts": [page("trickle", "99", "100%")],
                    },
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- latency: `le` must be a bucket bound -----------------------------------------------------------

LATENCY = """
  - name: api-latency
    service: s
    objective: 99
    sli:
      latency:
        histogram: http_request_duration_seconds
        le: 0.3
        selector: '{job="api"}'
        BUCKETS
    alerting:
      ticket: false
"""


def test_an_le_that_is_not_a_listed_bucket_is_refused_with_the_nearest_bounds(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(HEAD + LATENCY.replace("BUCKETS", "buckets: [0.1, 0.25, 0.5, 1]"))
    result = run_cli("validate", str(tmp_path / "c.yaml"))
    assert result.code == 1, result.output
    text = result.output.replace("\n", " ")
    assert 'slos[0] "api-latency"' in text
    assert "le 0.3 is not one of the histogram's bucket bounds" in text
    assert "nearest: 0.25 and 0.5" in text


@pytest.mark.parametrize(
    ("buckets", "message"),
    [
        ("[0.5, 0.3, 1]", "buckets must be strictly increasing"),
        ("[0.3, .inf]", ".inf is not a finite number"),
        ("[]", "buckets must not be empty"),
    ],
)
def test_bad_bucket_lists_are_refused(tmp_path: Path, buckets: str, message: str) -> None:
    (tmp_path / "c.yaml").write_text(HEAD + LATENCY.replace("BUCKETS", f"buckets: {buckets}"))
    result = run_cli("validate", str(tmp_path / "c.yaml"))
    assert result.code == 1, result.output
    assert message in result.output.replace("\n", " ")
    assert "Traceback" not in result.output


def test_an_le_among_the_listed_buckets_validates(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(HEAD + LATENCY.replace("BUCKETS", "buckets: [0.1, 0.3, 0.5, 1]"))
    result = run_cli("validate", str(tmp_path / "c.yaml"))
    assert result.code == 0, result.output


def test_a_histogram_without_the_le_bucket_reports_no_data_instead_of_all_good(tmp_path: Path) -> None:
    """Raw histogram series with buckets 0.1, 0.5, +Inf and no 0.3 bucket; every request takes over
    0.5 s. Without the bucket the SLI cannot be computed: no burn alert (it must not read 0% or 100%
    errors), and after 15 minutes of no SLI data, WatchkeeperSLONoData naming the missing bucket."""
    generate(tmp_path, LATENCY.replace("BUCKETS", ""))
    job = '{job="api"'
    series = [
        {"series": f'http_request_duration_seconds_bucket{job}, le="0.1"}}', "values": "0x30"},
        {"series": f'http_request_duration_seconds_bucket{job}, le="0.5"}}', "values": "0x30"},
        {"series": f'http_request_duration_seconds_bucket{job}, le="+Inf"}}', "values": counter(60, 30)},
        {"series": f"http_request_duration_seconds_count{job}}}", "values": counter(60, 30)},
    ]
    no_data = {
        "exp_labels": {
            "service": "s",
            "severity": "warning",
            "slo": "api-latency",
            "team": "t",
            "tier": "high",
        },
        "exp_annotations": {
            "summary": "SLO api-latency has no SLI data",
            "description": "No data for api-latency for 15 minutes: its SLI queries return nothing, so its "
            "burn-rate alerts cannot fire. Check the exporter and the SLI queries. This latency SLI reads "
            'the bucket le="0.3" of http_request_duration_seconds: if the histogram has no such bucket, '
            "set le to one of its bucket bounds.",
            "runbook_url": f"{GRAFANA}/d/wk-slo-s",
            "dashboard_url": f"{GRAFANA}/d/wk-slo-s?var-slo=api-latency",
        },
    }
    result = promtool_test(
        tmp_path,
        [
            {
                "input_series": series,
                "alert_rule_test": [
                    {"eval_time": "20m", "alertname": "WatchkeeperSLOErrorBudgetBurn", "exp_alerts": []},
                    {"eval_time": "20m", "alertname": "WatchkeeperSLONoData", "exp_alerts": [no_data]},
                ],
                "promql_expr_test": [
                    {
                        "expr": 'slo:sli_error:ratio_rate5m{slo="api-latency"}',
                        "eval_time": "20m",
                        "exp_samples": [],
                    }
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- latency: `le` as clients write it ------------------------------------------------------------------


def _buckets(exposition: str, histogram: str) -> list[str]:
    """The `le` label values of a histogram, exactly as the exposition writes them."""
    prefix = f"{histogram}_bucket{{"
    out = []
    for line in exposition.splitlines():
        if line.startswith(prefix):
            out.append(line.split('le="', 1)[1].split('"', 1)[0])
    return out


def _python_client_exposition() -> str:
    """The real Python client's text exposition of a histogram with bounds 1e-05, 0.3, 1 and 1e6."""
    registry = CollectorRegistry()
    Histogram("py_latency_seconds", "x", buckets=(1e-05, 0.3, 1.0, 1e6), registry=registry).observe(0.2)
    return generate_latest(registry).decode()


# (SLO name, histogram, the catalog's le, where the exposition comes from)
CLIENTS = [
    ("go-exponent", "prometheus_tsdb_compaction_chunk_range_seconds", "1638400", "go"),
    ("go-integer", "prometheus_tsdb_compaction_chunk_samples", "6", "go"),
    ("go-fraction", "prometheus_tsdb_compaction_chunk_samples", "13.5", "go"),
    ("py-one", "py_latency_seconds", "1", "python"),
    ("py-small", "py_latency_seconds", "0.00001", "python"),
    ("py-big", "py_latency_seconds", "1000000", "python"),
]


def test_le_matches_bucket_labels_as_the_go_and_python_clients_write_them(tmp_path: Path) -> None:
    """Bucket labels as written by Prometheus 2.42's own Go client (recorded) and by the real Python
    client: `1.6384e+06`, `6`, `13.5`, `1.0`, `1e-05`, `1e+06`. For each SLO, half the requests are at
    or under le and the rest over it (every higher bucket holds them all), so a correct `le` reads 50%
    errors and pages (50% > 14.4 x 1%); a missed bucket would read no data, a wrong one 0% or 100%."""
    go = (FIXTURES / "prometheus_metrics" / "prometheus-2.42-histograms.txt").read_text()
    python = _python_client_exposition()
    assert _buckets(python, "py_latency_seconds") == ["1e-05", "0.3", "1.0", "1e+06", "+Inf"]
    entries, series, expected = "", [], []
    for name, histogram, le, client in CLIENTS:
        entries += (
            f"  - {{name: {name}, service: s, objective: 99, alerting: {{ticket: false}},\n"
            f"     sli: {{latency: {{histogram: {histogram}, le: {le}, selector: '{{slo=\"{name}\"}}'}}}}}}\n"
        )
        bounds = _buckets(go if client == "go" else python, histogram)
        target = next(b for b in bounds if b != "+Inf" and float(b) == float(le))
        for bound in bounds:
            per_minute = 60 if bound == "+Inf" or float(bound) > float(le) else 30 if bound == target else 0
            labels = f'{{slo="{name}", le="{bound}"}}'
            series.append({"series": f"{histogram}_bucket{labels}", "values": counter(per_minute, 10)})
        series.append({"series": f'{histogram}_count{{slo="{name}"}}', "values": counter(60, 10)})
        expected.append(page(name, "99", "50%"))
    generate(tmp_path, entries)
    result = promtool_test(
        tmp_path,
        [
            {
                "input_series": series,
                "alert_rule_test": [
                    {"eval_time": "3m", "alertname": "WatchkeeperSLOErrorBudgetBurn", "exp_alerts": expected}
                ],
            }
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- SLIs that cannot be fed raw series ------------------------------------------------------------

OPAQUE = """
  - name: by-route
    service: s
    objective: 99
    sli:
      events:
        errors: sum(increase(req_total{code="500"}[{{window}}])) / 300
        total: sum(rate(req_total[{{window}}]))
  - name: inverted
    service: s
    objective: 99
    sli:
      raw:
        error_ratio: 1 - sum(rate(ok_total[{{window}}])) / sum(rate(req_total[{{window}}]))
"""


def test_an_sli_that_cannot_be_synthesised_is_fed_recorded_rates_and_the_file_says_so(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(HEAD + OPAQUE)
    result = run_cli(
        "generate",
        "rules",
        str(tmp_path / "c.yaml"),
        "--out",
        str(tmp_path / "rules"),
        "--tests",
        str(tmp_path / "t"),
    )
    assert result.code == 0, result.output
    assert "SLO inverted: no generated promtool test" in result.stderr.replace("\n", " ")
    text = (tmp_path / "t" / "slo-t.test.yml").read_text()
    comments = " ".join(line[2:] for line in text.splitlines() if line.startswith("# "))
    assert "SLO by-route: fed the recorded 5m rates" in comments
    assert "only sums of rate(...) are synthesised" in comments
    assert "SLO inverted: no test, its raw SLI cannot be synthesised" in comments
    document = yaml.safe_load(text)
    names = [t["name"] for t in document["tests"]]
    assert any(n.startswith("SLO by-route:") for n in names)
    assert not any(n.startswith("SLO inverted:") for n in names)
    by_route = next(t for t in document["tests"] if t["name"].startswith("SLO by-route:"))
    assert {s["series"].split("{")[0] for s in by_route["input_series"]} == {
        "slo:sli_errors:rate5m",
        "slo:sli_total:rate5m",
    }
    promtool = require_binary("promtool")
    run = subprocess.run(
        [promtool, "test", "rules", str(tmp_path / "t" / "slo-t.test.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
