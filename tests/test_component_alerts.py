"""Component alerts and the generated promtool tests, run with the real promtool."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from catalog import load_catalog
from catalog.alert_defaults import COMPONENT_ALERTS
from rules.generate import generate_rules
from rules.humanize import humanize, humanize_duration, humanize_percentage, render
from tests.conftest import EXAMPLE_CATALOG, require_binary, run_cli

pytestmark = pytest.mark.promtool


def _promtool_test(paths: list[Path]) -> list[subprocess.CompletedProcess[str]]:
    promtool = require_binary("promtool")

    def one(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, paths))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_binary("promtool")
    out = tmp_path_factory.mktemp("generated")
    result = run_cli(
        "generate", "rules", str(EXAMPLE_CATALOG), "--out", str(out / "rules"), "--tests", str(out / "tests")
    )
    assert result.code == 0, result.output
    return out


def test_every_generated_promtool_test_passes(generated: Path) -> None:
    tests = sorted((generated / "tests").glob("*.test.yml"))
    assert len(tests) == 10  # per team an SLO and a components file, plus self-monitoring and ownership
    for path, result in zip(tests, _promtool_test(tests), strict=True):
        assert result.returncode == 0, f"{path.name}:\n{result.stdout}{result.stderr}"
        assert "SUCCESS" in result.stdout


def test_every_alert_has_a_firing_and_a_silent_case(generated: Path) -> None:
    alerts = set()
    for path in (generated / "rules").glob("*.rules.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            alerts |= {r["alert"] for r in group["rules"] if "alert" in r}
    fired, silent = set(), set()
    for path in (generated / "tests").glob("*.test.yml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):  # ownership.test.yml has expression tests
                (fired if check["exp_alerts"] else silent).add(check["alertname"])
    assert alerts == fired
    assert alerts - {"Watchdog"} == silent


@pytest.mark.parametrize(
    ("mutation", "broken"),
    [
        # A threshold changed: the firing case no longer fires.
        ('(hdfs_namenode_missing_blocks{source="prod"}) > 0', "components-platform"),
        # The page's `for` lengthened: the 3m check catches the late page.
        ("for: 2m", "slo-platform"),
        # A severity changed: routing would go wrong, and the expected labels catch it.
        ("severity: critical", "components-platform"),
        # The fastest page window's factor changed: only the spike case separates it from the 6h window.
        ("(14.4 * ", "slo-platform"),
    ],
)
def test_generated_tests_fail_when_the_rules_are_wrong(
    generated: Path, tmp_path: Path, mutation: str, broken: str
) -> None:
    replacement = {
        '(hdfs_namenode_missing_blocks{source="prod"}) > 0': '(hdfs_namenode_missing_blocks{source="prod"}) > 5',
        "for: 2m": "for: 10m",
        "severity: critical": "severity: warning",
        "(14.4 * ": "(30 * ",
    }[mutation]
    shutil.copytree(generated, tmp_path / "g")
    rule_file = tmp_path / "g" / "rules" / f"{broken}.rules.yml"
    text = rule_file.read_text()
    assert mutation in text
    rule_file.write_text(text.replace(mutation, replacement, 1))
    [result] = _promtool_test([tmp_path / "g" / "tests" / f"{broken}.test.yml"])
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_every_component_alert_kind_is_generated_for_the_example() -> None:
    catalog = load_catalog(EXAMPLE_CATALOG).catalog
    rules = [
        r
        for name, groups in generate_rules(catalog).files.items()
        if name.startswith("components-")
        for g in groups
        for r in g.rules
    ]
    seen: dict[str, set[str]] = {}
    for rule in (r for r in rules if r.alert):  # components files also record week-ago row counts
        seen.setdefault(rule.labels["component"], set()).add(rule.alert or "")
        assert {"severity", "team", "service", "tier", "source"} <= rule.labels.keys()
        assert {"summary", "description", "runbook_url", "dashboard_url"} <= rule.annotations.keys()
    assert set(seen) == set(COMPONENT_ALERTS)
    # One alert per key, minus the example's override (spark failed_stages is disabled).
    counts = {kind: len(names) for kind, names in seen.items()}
    assert counts == {
        "hdfs": 12,
        "yarn": 8,  # + QueueAppsFailed (issue 11)
        "spark": 5,  # + ExecutorGcHigh, DriverMemoryHigh (issue 11)
        "kafka": 5,
        "inference": 5,
        # SourceDown, SourceAbsent, DatasetStale, DatasetVolumeDrop, AirflowRunFailed, DataQualityFailed
        "freshness": 6,
        "drift": 4,  # + DriftTriggerFailed (issue 14; the example's monitors both have retrain:)
    }


OVERRIDES = """
teams: [{name: t, owners: [a@example.com]}]
services:
  - {name: s, team: t, tier: critical}
  - {name: quiet, team: t, tier: low}
sources:
  hdfs:
    - name: prod
      service: s
      namenodes: ["http://nn1:9870"]
      alerts:
        capacity_warning: {threshold: 0.7, for: 1h, severity: critical, labels: {escalation: storage}}
        safemode: false
    - name: lab
      service: quiet
      namenodes: ["http://lab:9870"]
"""


def test_catalog_overrides_change_threshold_for_severity_and_labels(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(OVERRIDES)
    catalog = load_catalog(tmp_path / "c.yaml").catalog
    rules = generate_rules(catalog).files["components-t.rules.yml"][0].rules
    by = {(r.labels["source"], r.alert): r for r in rules}
    capacity = by[("prod", "WatchkeeperHdfsCapacityHigh")]
    assert capacity.expr.endswith("> 0.7")
    assert capacity.for_ == "1h"
    assert capacity.labels["severity"] == "critical"
    assert capacity.labels["escalation"] == "storage"
    assert ("prod", "WatchkeeperHdfsSafemode") not in by
    assert ("lab", "WatchkeeperHdfsSafemode") in by
    # A low-tier service never pages, whatever the default severity.
    assert by[("lab", "WatchkeeperHdfsMissingBlocks")].labels["severity"] == "warning"
    assert by[("prod", "WatchkeeperHdfsMissingBlocks")].labels["severity"] == "critical"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "capacity_warnng: {threshold: 0.7}",
            "unknown hdfs alert 'capacity_warnng'; did you mean 'capacity_warning'?",
        ),
        ("missing_blocks: {severity: page}", "'page' is not allowed"),
        ("missing_blocks: {for: soon}", "'soon' is not a duration"),
        ("missing_blocks: {labels: {team: other}}", "labels ['team'] are set by Watchkeeper"),
    ],
)
def test_bad_overrides_are_refused_with_the_fix(tmp_path: Path, override: str, message: str) -> None:
    text = OVERRIDES.replace(
        "capacity_warning: {threshold: 0.7, for: 1h, severity: critical, labels: {escalation: storage}}",
        override,
    )
    (tmp_path / "c.yaml").write_text(text)
    result = run_cli("validate", str(tmp_path / "c.yaml"))
    assert result.code == 1
    assert "c.yaml:" in result.output
    assert 'sources.hdfs[0] "prod".alerts' in result.output
    assert message in result.output.replace("\n", " ")


@pytest.mark.parametrize(
    ("function", "value", "text"),
    [
        # Outputs of Prometheus' template functions (template/template.go and its tests).
        (humanize, 0, "0"),
        (humanize, 1234567, "1.235M"),
        (humanize, 12.5, "12.5"),
        (humanize, 0.001234, "1.234m"),
        (humanize, 3, "3"),
        (humanize_percentage, 0.1234567, "12.35%"),
        (humanize_percentage, 0.0288, "2.88%"),
        (humanize_duration, 0, "0s"),
        (humanize_duration, 1.5, "1.5s"),
        (humanize_duration, 60, "1m 0s"),
        (humanize_duration, 3600, "1h 0m 0s"),
        (humanize_duration, 86400 + 3661, "1d 1h 1m 1s"),
        (humanize_duration, 0.25, "250ms"),
    ],
)
def test_humanize_matches_prometheus(function, value: float, text: str) -> None:  # type: ignore[no-untyped-def]
    assert function(value) == text


def test_render_refuses_a_value_template_without_a_value() -> None:
    assert (
        render("{{ $labels.queue }} at {{ $value | humanizePercentage }}", 0.5, {"queue": "root.a"})
        == "root.a at 50%"
    )
    with pytest.raises(ValueError, match="needs an alert value"):
        render("{{ $value | humanize }}", None, {})


CALENDAR = """
teams: [{name: t, owners: [a@example.com]}]
services: [{name: s, team: t}]
slos:
  - name: monthly
    service: s
    objective: 99
    window: month
    sli:
      events:
        errors: sum(rate(e[{{window}}]))
        total: sum(rate(t[{{window}}]))
"""


def test_calendar_ratio_reads_month_to_date(tmp_path: Path) -> None:
    """Error ratio 10% all January, 2% from 1 February 00:00 UTC: month-to-date must not mix them."""
    (tmp_path / "c.yaml").write_text(CALENDAR)
    result = run_cli("generate", "rules", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "rules"))
    assert result.code == 0, result.output
    sel = '{service="s", slo="monthly"}'
    test = {
        "rule_files": ["rules/slo-t.rules.yml"],
        "evaluation_interval": "1h",
        "tests": [
            {
                "interval": "1h",
                # 744 hours are January 1970; the 2% samples start at 1 Feb 00:00.
                "input_series": [
                    {"series": f"slo:sli_errors:rate5m{sel}", "values": "0.1x743 0.02x400"},
                    {"series": f"slo:sli_total:rate5m{sel}", "values": "1x1144"},
                ],
                "promql_expr_test": [
                    {
                        "expr": f"slo:sli_error:ratio_calendar{sel}",
                        "eval_time": "480h",  # 21 January
                        "exp_samples": [
                            {
                                "labels": 'slo:sli_error:ratio_calendar{calendar="month", service="s", slo="monthly"}',
                                "value": 0.1,
                            }
                        ],
                    },
                    {
                        "expr": f"slo:sli_error:ratio_calendar{sel}",
                        "eval_time": "984h",  # 11 February
                        "exp_samples": [
                            {
                                "labels": 'slo:sli_error:ratio_calendar{calendar="month", service="s", slo="monthly"}',
                                "value": 0.02,
                            }
                        ],
                    },
                    {
                        "expr": f"slo:calendar_error_budget_remaining:ratio{sel}",
                        "eval_time": "984h",
                        "exp_samples": [
                            {
                                "labels": 'slo:calendar_error_budget_remaining:ratio{calendar="month", service="s", slo="monthly"}',
                                "value": -1,  # 2% errors against a 1% budget: the month's budget is spent twice
                            }
                        ],
                    },
                    {
                        # The rolling 30d ratio at the same time mixes January in: its 721 hourly samples
                        # (both ends included) are 480 January hours at 10% and 241 February hours at 2%.
                        "expr": f"slo:sli_error:ratio_rate30d{sel}",
                        "eval_time": "984h",
                        "exp_samples": [
                            {
                                "labels": f"slo:sli_error:ratio_rate30d{sel}",
                                "value": (480 * 0.1 + 241 * 0.02) / 721,
                            }
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "calendar.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    [result_] = _promtool_test([path])
    assert result_.returncode == 0, result_.stdout + result_.stderr


def _calendar_test(
    tmp_path: Path, window: str, boundary_hour: int, checks: list[tuple[int, str, float]], every: int = 1
) -> subprocess.CompletedProcess[str]:
    """A `window` SLO fed recorded rates, one sample every `every` hours: 10% errors before
    `boundary_hour`, 2% from it on, at 1 req/s. Each check is (hour, recording, expected value)."""
    name = f"{window}ly"
    catalog = CALENDAR.replace("monthly", name).replace("window: month", f"window: {window}")
    (tmp_path / "c.yaml").write_text(catalog)
    result = run_cli("generate", "rules", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "rules"))
    assert result.code == 0, result.output
    sel = f'{{service="s", slo="{name}"}}'
    calendar = f'{{calendar="{window}", service="s", slo="{name}"}}'
    end = max(hour for hour, _, _ in checks) // every
    before = boundary_hour // every
    test = {
        "rule_files": ["rules/slo-t.rules.yml"],
        # Rules are evaluated as often as samples arrive; the calendar rule's own tiles stay hourly.
        "evaluation_interval": f"{every}h",
        "tests": [
            {
                "interval": f"{every}h",
                "input_series": [
                    {
                        "series": f"slo:sli_errors:rate5m{sel}",
                        "values": f"0.1x{before - 1} 0.02x{end - before}",
                    },
                    {"series": f"slo:sli_total:rate5m{sel}", "values": f"1x{end}"},
                ],
                # Equal to 1e-12 (relative): Prometheus sums in its own order, so the last bit may differ.
                "promql_expr_test": [
                    {
                        "expr": f"abs({series}{sel} - {value!r}) <= bool {abs(value) * 1e-12!r}",
                        "eval_time": f"{hour}h",
                        "exp_samples": [{"labels": calendar if "calendar" in series else sel, "value": 1}],
                    }
                    for hour, series, value in checks
                ],
            }
        ],
    }
    path = tmp_path / f"{window}.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    [result_] = _promtool_test([path])
    return result_


def test_calendar_ratio_reads_week_to_date(tmp_path: Path) -> None:
    """ISO weeks start on Monday; 1970-01-01 was a Thursday, so the first Monday, 5 January 00:00 UTC, is
    hour 96. Hourly samples: 10% errors at 0h..95h, 2% from 96h. Hour tiles (`avg_over_time[1h]`, both
    ends included) belong to the week of the second before they end, so the tile ending at Monday
    00:00 is last week's, and it holds the 96h sample (a 5m rate of Sunday's last minutes):
    - Sunday 4 Jan 00:00 (72h): tiles ending 0h..72h, all 10%: 0.1;
    - Monday 00:00 (96h): last week's 97 tiles (0h..96h): 96 at 10% and the 96h tile, (0.1 + 0.02) / 2:
      (96 x 0.1 + 0.06) / 97;
    - Monday 01:00 (97h): the new week's first tile (samples at 96h and 97h): 0.02;
    - Wednesday 7 Jan 00:00 (144h): 0.02, and the 1% budget is spent twice: remaining 1 - 2 = -1."""
    result = _calendar_test(
        tmp_path,
        "week",
        96,
        [
            (72, "slo:sli_error:ratio_calendar", 0.1),
            (96, "slo:sli_error:ratio_calendar", (96 * 0.1 + 0.06) / 97),
            (97, "slo:sli_error:ratio_calendar", 0.02),
            (144, "slo:sli_error:ratio_calendar", 0.02),
            (144, "slo:calendar_error_budget_remaining:ratio", -1),
        ],
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_calendar_ratio_reads_quarter_to_date(tmp_path: Path) -> None:
    """The first quarter of 1970 is January to March: 31 + 28 + 31 = 90 days, so Q2 starts on 1 April
    00:00 UTC, hour 2160. One sample every 6 hours (promtool's test engine stops at 10,000 samples a
    query; a quarter's 2,208 hourly tiles of hourly samples exceed it): 10% at 0h..2154h, 2% from 2160h.
    A sample at hour s lies in the tiles ending at s and s+1h (ranges include both ends):
    - 24 March 00:00 (1992h): all of Q1 so far is 10%: 0.1;
    - 1 April 00:00 (2160h): still Q1 (the tile ending at 00:00 is March's). Its tiles: 1h (the 0h tile
      is December 1969's), two for each of the 359 samples 6h..2154h, and 2160h (the 2% sample):
      (719 x 0.1 + 0.02) / 720;
    - 11 April 00:00 (2400h): Q2's tiles 2161h, two per sample 2166h..2394h (39), and 2400h: 80 tiles,
      all 2%: 0.02; the 1% budget is spent twice: remaining -1;
    - the rolling 90d ratio at 2400h reads the samples at 240h..2400h: 320 at 10% (240h..2154h) and
      41 at 2% (2160h..2400h): (320 x 0.1 + 41 x 0.02) / 361. It mixes both quarters."""
    result = _calendar_test(
        tmp_path,
        "quarter",
        2160,
        [
            (1992, "slo:sli_error:ratio_calendar", 0.1),
            (2160, "slo:sli_error:ratio_calendar", (719 * 0.1 + 0.02) / 720),
            (2400, "slo:sli_error:ratio_calendar", 0.02),
            (2400, "slo:calendar_error_budget_remaining:ratio", -1),
            (2400, "slo:sli_error:ratio_rate90d", (320 * 0.1 + 41 * 0.02) / 361),
        ],
        every=6,
    )
    assert result.returncode == 0, result.stdout + result.stderr
