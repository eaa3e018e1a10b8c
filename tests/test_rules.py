"""SLO rules: window tables, real promtool validation, escaping, bad PromQL, and parity with Sloth."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from catalog import load_catalog
from catalog.durations import Duration
from rules.generate import generate_rules
from rules.windows import alert_windows
from tests.conftest import EXAMPLE_CATALOG, FIXTURES, require_binary, run_cli

pytestmark = pytest.mark.promtool


@pytest.mark.parametrize(
    ("period", "factors"),
    [
        ("30d", [14.4, 6, 3, 1]),
        ("28d", [13.44, 5.6, 2.8, 0.933333]),
        ("90d", [43.2, 18, 9, 3]),
        ("7d", [13.44, 3.5, 1.4, 0.98]),  # Sloth's examples/windows/7d.yaml
    ],
)
def test_burn_factors_scale_with_the_period(period: str, factors: list[float]) -> None:
    windows = alert_windows(Duration.parse(period))
    assert [w.factor for w in windows] == factors
    assert [(w.severity, str(w.long), str(w.short)) for w in windows] == [
        ("page", "1h", "5m"),
        ("page", "6h", "30m"),
        ("ticket", "1d", "2h"),
        ("ticket", "3d", "6h"),
    ]


def _promtool_check(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    promtool = require_binary("promtool")
    return subprocess.run(
        [promtool, "check", "rules", *map(str, paths)], capture_output=True, text=True, check=False
    )


def test_generated_rules_for_the_example_pass_promtool(tmp_path: Path) -> None:
    require_binary("promtool")
    result = run_cli("generate", "rules", str(EXAMPLE_CATALOG), "--out", str(tmp_path))
    assert result.code == 0, result.output
    files = sorted(tmp_path.glob("*.yml"))
    teams = ("bi", "data-engineering", "mlops", "platform")
    assert [f.name for f in files] == [
        *(f"components-{t}.rules.yml" for t in teams),
        *(f"slo-{t}.rules.yml" for t in teams),
        "watchkeeper.rules.yml",
    ]
    check = _promtool_check(files)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("SUCCESS") == 9


def test_every_slo_gets_its_recordings_and_alerts() -> None:
    catalog = load_catalog(EXAMPLE_CATALOG).catalog
    rules = [r for groups in generate_rules(catalog).files.values() for g in groups for r in g.rules]
    for slo in catalog.slos:
        mine = [r for r in rules if r.labels.get("slo") == slo.name]
        records = {r.record for r in mine if r.record}
        for window in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", str(slo.window.period)):
            assert f"slo:sli_error:ratio_rate{window}" in records, (slo.name, window)
        assert {
            "slo:sli_errors:rate5m",
            "slo:sli_total:rate5m",
            "slo:objective:ratio",
            "slo:error_budget:ratio",
            "slo:current_burn_rate:ratio",
            "slo:period_burn_rate:ratio",
            "slo:period_error_budget_remaining:ratio",
            "watchkeeper_slo_info",
        } <= records
        if slo.window.is_calendar:
            assert "slo:sli_error:ratio_calendar" in records
        alerts = [r for r in mine if r.alert]
        severities = sorted(r.labels["burn"] for r in alerts if "burn" in r.labels)
        expected = sorted(k for k in ("page", "ticket") if getattr(slo.alerting, k).enabled)
        assert severities == expected, slo.name
        for alert in alerts:
            assert {"severity", "team", "service", "slo", "tier"} <= alert.labels.keys()
            assert {"summary", "description", "runbook_url", "dashboard_url"} <= alert.annotations.keys()
        # Long windows are chained from the 5m recordings, never a long range over raw series.
        long_ratio = next(r for r in mine if r.record == f"slo:sli_error:ratio_rate{slo.window.period}")
        assert "slo:sli_errors:rate5m" in long_ratio.expr


def test_prometheusrule_objects_carry_selector_labels_and_valid_groups(tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    result = run_cli(
        "generate", "rules", str(EXAMPLE_CATALOG), "--out", str(out), "--format", "prometheusrule"
    )
    assert result.code == 0, result.output
    extracted = []
    for path in sorted(out.glob("*.yml")):
        obj = yaml.safe_load(path.read_text())
        assert obj["apiVersion"] == "monitoring.coreos.com/v1"
        assert obj["kind"] == "PrometheusRule"
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "watchkeeper"
        plain = tmp_path / path.name
        plain.write_text(yaml.safe_dump({"groups": obj["spec"]["groups"]}))
        extracted.append(plain)
    check = _promtool_check(extracted)
    assert check.returncode == 0, check.stdout + check.stderr


MINIMAL = """
teams: [{name: t, owners: [a@example.com], channels: {email: {to: [a@example.com]}}}]
services: [{name: s, team: t}]
slos:
  - name: x
    service: s
    objective: 99
    labels: {note: 'say "hi" \\\\ bye'}
    sli:
      events:
        errors: ERRORS
        total: sum(rate(t[{{window}}]))
"""


def test_label_values_with_quotes_and_backslashes_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(MINIMAL.replace("ERRORS", "sum(rate(e[{{window}}]))"))
    out = tmp_path / "rules"
    result = run_cli("generate", "rules", str(tmp_path / "c.yaml"), "--out", str(out))
    assert result.code == 0, result.output
    loaded = yaml.safe_load((out / "slo-t.rules.yml").read_text())
    labels = loaded["groups"][0]["rules"][0]["labels"]
    assert labels["note"] == 'say "hi" \\\\ bye'  # YAML single quotes keep both backslashes
    assert _promtool_check(sorted(out.glob("*.yml"))).returncode == 0


def test_invalid_promql_is_rejected_before_any_file_is_written(tmp_path: Path) -> None:
    require_binary("promtool")
    (tmp_path / "c.yaml").write_text(MINIMAL.replace("ERRORS", "sum(rate(e[{{window}}])) +"))
    out = tmp_path / "rules"
    result = run_cli("generate", "rules", str(tmp_path / "c.yaml"), "--out", str(out))
    assert result.code == 1
    assert "promtool rejected the generated rules" in result.stderr
    assert "slo:sli_errors:rate5m" in result.stderr
    assert not out.exists()


def test_unreachable_alerts_are_warned_about(tmp_path: Path) -> None:
    text = MINIMAL.replace("ERRORS", "sum(rate(e[{{window}}]))").replace(
        "objective: 99\n", "objective: 90\n    window: 90d\n"
    )
    (tmp_path / "c.yaml").write_text(text)
    result = run_cli(
        "generate", "rules", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r"), "--no-check"
    )
    assert result.code == 0, result.output
    assert "the page alert over 1h/5m can never fire (threshold 43.2 x 0.1 > 1)" in result.stderr


# --- parity with Sloth's own output -----------------------------------------------------------------

SLOTH = FIXTURES / "slo_sloth" / "examples"
PARITY = [
    "getting-started.yml",
    "home-wifi.yml",
    "kubernetes-apiserver.yml",
    "multifile.yml",
    "raw-home-wifi.yml",
    "k8s-getting-started.yml",
    "k8s-home-wifi.yml",
    "k8s-multifile.yml",
]
_CONDITION = re.compile(r"slo:sli_error:ratio_rate(\w+)\{[^}]*\} > \(([\d.]+) \* ([\d.e-]+)\)")


def _alert_conditions(groups: list[dict]) -> set[tuple[str, str, float, float]]:
    """(severity, window, factor, error budget) for every burn-rate condition in a rule file."""
    found = set()
    for group in groups:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            severity = rule["labels"].get("sloth_severity") or rule["labels"].get("burn")
            if severity not in {"page", "ticket"}:
                continue
            for window, factor, budget in _CONDITION.findall(rule["expr"]):
                found.add((severity, window, float(factor), round(float(budget), 9)))
    return found


def _sloth_groups(path: Path) -> list[dict]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return [g for d in docs for g in (d.get("spec") or d)["groups"]]


@pytest.mark.parametrize("name", PARITY)
def test_windows_thresholds_and_severities_match_sloth(name: str, tmp_path: Path) -> None:
    imported = tmp_path / "catalog.yaml"
    assert run_cli("import", "sloth", str(SLOTH / name), "-o", str(imported)).code == 0
    ours = generate_rules(load_catalog(imported).catalog)
    our_groups = [g.as_dict() for groups in ours.files.values() for g in groups]
    theirs = _sloth_groups(SLOTH / "_gen" / name)
    assert _alert_conditions(our_groups) == _alert_conditions(theirs)
    assert _alert_conditions(theirs), "Sloth's output has burn-rate alerts to compare"


def test_tests_need_plain_rule_files(tmp_path: Path) -> None:
    result = run_cli(
        "generate",
        "rules",
        str(EXAMPLE_CATALOG),
        "--out",
        str(tmp_path / "r"),
        "--format",
        "prometheusrule",
        "--tests",
        str(tmp_path / "t"),
    )
    assert result.code == 2
    assert "--tests needs --format prometheus" in result.output
    assert not (tmp_path / "r").exists()
