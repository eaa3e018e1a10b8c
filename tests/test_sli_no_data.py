"""A raw SLI over missing series has no data, and WatchkeeperSLONoData fires: never 100% good.

Before: a raw SLI recorded a constant total (`vector(1)`) and its errors fell back to `0 * vector(1)`, so
a ratio over series that do not exist read as 0% errors, the SLO as healthy, and the no-data alert could
not fire. Proven on the real promtool: the rules come from `watchkeeper generate rules`, the test file is
written here by hand with the expected values worked out in the comments.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from catalog.durations import Duration
from rules import names
from rules.sli import _denominator
from tests.conftest import require_binary, run_cli

pytestmark = pytest.mark.promtool

ERRORS = 'sum(rate(app_errors_total{job="api"}[{{window}}]))'
TOTAL = 'sum(rate(app_requests_total{job="api"}[{{window}}]))'
CATALOG = f"""
teams: [{{name: t, owners: [a@example.com], channels: {{email: {{to: [a@example.com]}}}}}}]
services: [{{name: s, team: t, tier: high}}]
slos:
  - name: ratio
    service: s
    objective: 99
    sli:
      raw:
        error_ratio: '{ERRORS} / {TOTAL}'
  - name: shaped
    service: s
    objective: 99
    sli:
      raw:
        error_ratio: '1 - ({TOTAL.replace("requests", "good")} / {TOTAL})'
"""
RATIO_5M = names.sli_error_ratio(Duration.parse("5m"))


def _generate(tmp_path: Path) -> Path:
    """Rules and their generated promtool tests, in one directory."""
    (tmp_path / "c.yaml").write_text(CATALOG)
    out = tmp_path / "rules"
    result = run_cli("generate", "rules", str(tmp_path / "c.yaml"), "--out", str(out), "--tests", str(out))
    assert result.code == 0, result.output
    return out


def _promtool(directory: Path, test_file: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_binary("promtool"), "test", "rules", test_file],
        capture_output=True,
        text=True,
        check=False,
        cwd=directory,
    )


def _sel(slo: str) -> str:
    return f'{{slo="{slo}", service="s"}}'


def _no_data_alert(slo: str) -> str:
    return f'ALERTS{{alertname="{names.SLO_NO_DATA_ALERT}", alertstate="firing", slo="{slo}"}}'


def _check(expr: str, at: str, samples: list[dict[str, object]]) -> dict[str, object]:
    return {"expr": expr, "eval_time": at, "exp_samples": samples}


def test_a_raw_sli_over_missing_series_has_no_data_and_the_alert_fires(tmp_path: Path) -> None:
    out = _generate(tmp_path)
    one = {"labels": "{}", "value": 1}  # sum(...) of a recorded series drops its rule labels

    def alert_labels(slo: str) -> str:
        return (
            f'{{__name__="ALERTS", alertname="{names.SLO_NO_DATA_ALERT}", alertstate="firing", '
            f'service="s", severity="warning", team="t", tier="high", slo="{slo}"}}'
        )

    tests = [
        {
            "name": "none of the raw SLIs' input series exist",
            "interval": "1m",
            "input_series": [{"series": 'unrelated_total{job="api"}', "values": "0+60x30"}],
            "promql_expr_test": [
                # no total, no errors, no ratio: the SLO has no data (before: total 1, errors 0, ratio 0)
                _check(f"{names.SLI_TOTAL_RATE5M}{_sel('ratio')}", "10m", []),
                _check(f"{names.SLI_ERRORS_RATE5M}{_sel('ratio')}", "10m", []),
                _check(f"{RATIO_5M}{_sel('ratio')}", "10m", []),
                _check(f"{names.SLI_TOTAL_RATE5M}{_sel('shaped')}", "10m", []),
                _check(f"{RATIO_5M}{_sel('shaped')}", "10m", []),
                # `for: 15m` from the first evaluation: pending at 10m, firing by 20m
                _check(_no_data_alert("ratio"), "10m", []),
                _check(_no_data_alert("ratio"), "20m", [{"labels": alert_labels("ratio"), "value": 1}]),
                _check(_no_data_alert("shaped"), "20m", [{"labels": alert_labels("shaped"), "value": 1}]),
            ],
        },
        {
            "name": "requests but no error series yet: 0% errors, not no data",
            "interval": "1m",
            "input_series": [
                {"series": 'app_requests_total{job="api"}', "values": "0+600x30"},
                {"series": 'app_good_total{job="api"}', "values": "0+600x30"},
            ],
            "promql_expr_test": [
                _check(f"sum({names.SLI_TOTAL_RATE5M}{_sel('ratio')})", "20m", [one]),
                # errors: the ratio is empty (no error series), so 0 x total = 0
                _check(f"sum({RATIO_5M}{_sel('ratio')})", "20m", [{"labels": "{}", "value": 0}]),
                # shaped: 1 - 600/600 = 0 errors
                _check(f"sum({RATIO_5M}{_sel('shaped')})", "20m", [{"labels": "{}", "value": 0}]),
                _check(f'ALERTS{{alertname="{names.SLO_NO_DATA_ALERT}"}}', "20m", []),
            ],
        },
        {
            "name": "errors and requests: the ratio as written",
            "interval": "1m",
            "input_series": [
                {"series": 'app_errors_total{job="api"}', "values": "0+6x30"},
                {"series": 'app_requests_total{job="api"}', "values": "0+600x30"},
                {"series": 'app_good_total{job="api"}', "values": "0+594x30"},
            ],
            "promql_expr_test": [
                # 6 errors of 600 a minute = 0.01 in both forms; one event per evaluation
                _check(f"sum({names.SLI_TOTAL_RATE5M}{_sel('ratio')})", "20m", [one]),
                _check(f"sum({RATIO_5M}{_sel('ratio')})", "20m", [{"labels": "{}", "value": 0.01}]),
                _check(f"abs(sum({RATIO_5M}{_sel('shaped')}) - 0.01) < bool 1e-9", "20m", [one]),  # 1 - 0.99
                _check(f'ALERTS{{alertname="{names.SLO_NO_DATA_ALERT}"}}', "20m", []),
            ],
        },
    ]
    doc = {"rule_files": ["slo-t.rules.yml"], "evaluation_interval": "1m", "tests": tests}
    (out / "no-data.test.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    result = _promtool(out, "no-data.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_promtool_tests_expect_no_data_for_raw_slis_too(tmp_path: Path) -> None:
    out = _generate(tmp_path)
    generated = yaml.safe_load((out / "slo-t.test.yml").read_text())
    no_data = next(t for t in generated["tests"] if t["input_series"] == [])
    fired = {a["exp_labels"]["slo"] for c in no_data["alert_rule_test"] for a in c["exp_alerts"]}
    assert fired == {"ratio", "shaped"}  # before: raw SLIs were left out ("never absent")
    result = _promtool(out, "slo-t.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("ratio", "denominator"),
    [
        ('sum(rate(a{p="/x"}[5m])) / sum(rate(b[5m]))', "sum(rate(b[5m]))"),  # `/` in a string
        ("(sum(rate(a[5m])) / sum(rate(b[5m])))", "sum(rate(b[5m]))"),
        ("a / b / c", "c"),  # (a / b) / c
        ("a / b ^ 2", "b ^ 2"),  # ^ binds tighter than /
        ('a / sum(rate(b{p=~"/x\\\\\\"/"}[5m:1m]))', 'sum(rate(b{p=~"/x\\\\\\"/"}[5m:1m]))'),  # escapes kept
        ("a # a comment / with a slash\n/ b", "b"),
        ("(a / b) * 2", None),  # not a division at the top
        ("1 - (a / b)", None),
        ("a / on() b", None),  # modifiers: the whole ratio decides
        ("sum(", None),
    ],
)
def test_the_denominator_is_cut_from_the_text_at_the_top_level_division(
    ratio: str, denominator: str | None
) -> None:
    assert _denominator(ratio) == denominator
