"""Generated promtool tests for many claims in one team: the shares of a split alert are tested together
(one firing and one silent group per split alert, not per claim), so `promtool test rules` grows linearly
with the claims, and each batched group still fails on a wrong owner, a wrong selector or a missing share.

Expected owners come from the catalog written here (even claims to svc-a1, odd to svc-a2, the literal
`shared-x` beating team-b's pattern), never from rules/ownership.py or catalog/claims.py."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.durations import Duration
from catalog.model import Catalog
from rules.components import ComponentAlert, Scenario, Series
from rules.generate import generate_rules
from rules.groups import Rule
from rules.unit_tests import component_tests
from tests.conftest import require_binary, run_cli

pytestmark = pytest.mark.promtool

N = 10
"""Claims of each kind (Kafka groups, YARN queues, Spark applications) for the promtool runs."""
KAFKA_ALERTS = ("WatchkeeperKafkaConsumerLagging", "WatchkeeperKafkaConsumerStatus")
YARN_ALERTS = ("WatchkeeperYarnQueueSaturated", "WatchkeeperYarnQueueAppsFailed")
SPARK_ALERTS = (
    "WatchkeeperSparkJobsFailed",
    "WatchkeeperSparkStagesFailed",
    "WatchkeeperSparkExecutorGcHigh",
    "WatchkeeperSparkDriverMemoryHigh",
)
PART = {**dict.fromkeys(KAFKA_ALERTS, "group"), **dict.fromkeys(YARN_ALERTS, "queue")}
PART |= dict.fromkeys(SPARK_ALERTS, "app_name")


def catalog_text(n: int) -> str:
    """team-a claims `n` Kafka groups, `n` YARN queues and `n` Spark applications (even ones svc-a1, odd
    ones svc-a2) and the literal `shared-x`; team-b claims the pattern `re:^shared-.*`; platform owns the
    sources."""

    def claims(parity: int) -> str:
        groups = [f"grp-{i}" for i in range(parity, n, 2)] + (["shared-x"] if parity == 0 else [])
        queues = [f"root.q.c{i}" for i in range(parity, n, 2)]
        apps = [f"app-{i}" for i in range(parity, n, 2)]
        return (
            f"      kafka: [{{source: prod, groups: {_flow(groups)}}}]\n"
            f"      yarn: [{{source: rm, queues: {_flow(queues)}}}]\n"
            f"      spark: [{{source: history, applications: {_flow(apps)}}}]\n"
        )

    return f"""
teams:
  - {{name: platform, owners: [p@example.com]}}
  - {{name: team-a, owners: [a@example.com]}}
  - {{name: team-b, owners: [b@example.com]}}
services:
  - {{name: shared, team: platform, tier: critical}}
  - name: svc-a1
    team: team-a
    tier: high
    claims:
{claims(0)}  - name: svc-a2
    team: team-a
    tier: medium
    claims:
{claims(1)}  - name: svc-b
    team: team-b
    tier: medium
    claims:
      kafka: [{{source: prod, groups: ["re:^shared-.*"]}}]
sources:
  kafka: [{{name: prod, service: shared, bootstrap: "kafka:9092"}}]
  yarn: [{{name: rm, service: shared, resourcemanagers: ["http://rm:8088"]}}]
  spark: [{{name: history, service: shared, url: "http://spark:18080", granularity: executor}}]
"""


def _flow(names: list[str]) -> str:
    return yaml.safe_dump(names, default_flow_style=True).strip()


def expected_owners(n: int, alert: str) -> dict[str, str]:
    """Part name -> owning service of team-a's shares of `alert`, by hand from `catalog_text`."""
    if alert in KAFKA_ALERTS:
        return {**{f"grp-{i}": f"svc-a{1 + i % 2}" for i in range(n)}, "shared-x": "svc-a1"}
    prefix = "root.q.c" if alert in YARN_ALERTS else "app-"
    return {f"{prefix}{i}": f"svc-a{1 + i % 2}" for i in range(n)}


def _catalog(n: int) -> Catalog:
    return Catalog.model_validate(yaml.safe_load(catalog_text(n)))


def _team_a_tests(n: int) -> list[dict[str, Any]]:
    return generate_rules(_catalog(n)).tests["components-team-a.rules.yml"]


def test_the_number_of_test_groups_does_not_grow_with_the_claims() -> None:
    """Per claimable alert: one firing and one silent group of all team-a's shares, plus the partition
    group (every owner's share at once); 8 claimable alerts on team-a's parts, for 6 or 60 claims."""
    few, many = _team_a_tests(6), _team_a_tests(60)
    assert len(few) == len(many) == 8 * 3
    series = sum(len(t["input_series"]) for t in many)
    assert series > sum(len(t["input_series"]) for t in few)


@pytest.mark.parametrize("alert", sorted(PART))
def test_the_batched_firing_group_expects_one_alert_per_claim_with_its_owner(alert: str) -> None:
    n = 12
    part = PART[alert]
    owners = expected_owners(n, alert)
    checks = [
        (test, check)
        for test in _team_a_tests(n)
        if "shares here at once" in str(test["name"])
        for check in test["alert_rule_test"]
        if check["alertname"] == alert
    ]
    firing = [(t, c) for t, c in checks if c["exp_alerts"]]
    silent = [(t, c) for t, c in checks if not c["exp_alerts"]]
    assert len(firing) == 1 and len(silent) == 1
    (test, check) = firing[0]
    got = [e["exp_labels"] for e in check["exp_alerts"]]
    assert sorted(e[part] for e in got) == sorted(owners)  # each claim exactly once
    for labels in got:
        assert labels["team"] == "team-a"
        assert labels["service"] == owners[labels[part]]
        assert labels["tier"] == {"svc-a1": "high", "svc-a2": "medium"}[labels["service"]]
    texts = [s["series"] for s in test["input_series"]]
    assert len(texts) == len(set(texts))  # distinct series: every claim's inputs at once
    assert {p for p in owners if any(f'{part}="{p}"' in s for s in texts)} == set(owners)
    silent_texts = [s["series"] for s in silent[0][0]["input_series"]]
    assert len(silent_texts) == len(set(silent_texts))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_binary("promtool")
    out = tmp_path_factory.mktemp("scale")
    (out / "catalog.yaml").write_text(catalog_text(N))
    result = run_cli(
        "generate",
        "rules",
        str(out / "catalog.yaml"),
        "--out",
        str(out / "rules"),
        "--tests",
        str(out / "tests"),
    )
    assert result.code == 0, result.output
    return out


def _promtool(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_binary("promtool"), "test", "rules", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _failed_groups(output: str) -> set[str]:
    """The names of the test groups promtool reports as failed."""
    return set(re.findall(r"^\s+name: (.*),$", output, flags=re.MULTILINE))


def test_the_generated_tests_pass(generated: Path) -> None:
    paths = sorted((generated / "tests").glob("*.test.yml"))
    assert {p.name for p in paths} >= {"components-team-a.test.yml", "components-platform.test.yml"}
    for path in paths:
        done = _promtool(path)
        assert done.returncode == 0 and "SUCCESS" in done.stdout, f"{path.name}:\n{done.stdout}{done.stderr}"


def _mutate(generated: Path, tmp_path: Path, file: str, change: Any, alert: str) -> Path:
    """A copy of the generated rules with `change(groups)` applied to `file`'s rules, and a copy of its
    test file keeping only the test groups about `alert` (each group evaluates every rule of the file)."""
    copy = tmp_path / "g"
    shutil.copytree(generated, copy, ignore=shutil.ignore_patterns("catalog.yaml"))
    path = copy / "rules" / file
    data = yaml.safe_load(path.read_text())
    change(data["groups"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    test = copy / "tests" / file.replace(".rules.yml", ".test.yml")
    tests = yaml.safe_load(test.read_text())
    tests["tests"] = [t for t in tests["tests"] if t["alert_rule_test"][0]["alertname"] == alert]
    assert tests["tests"]
    test.write_text(yaml.safe_dump(tests, sort_keys=False))
    return test


def _one(groups: list[dict[str, Any]], alert: str, needle: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        r for g in groups for r in g["rules"] if r.get("alert") == alert and needle in r["expr"]
    ]
    assert len(found) == 1, (alert, needle, found)
    return found[0]


def _relabel(alert: str, needle: str, label: str, value: str) -> tuple[str, Any]:
    def change(groups: list[dict[str, Any]]) -> None:
        rule = _one(groups, alert, needle)
        assert rule["labels"][label] != value
        rule["labels"][label] = value

    return alert, change


def _reselect(alert: str, needle: str, replacement: str) -> tuple[str, Any]:
    def change(groups: list[dict[str, Any]]) -> None:
        rule = _one(groups, alert, needle)
        rule["expr"] = str(rule["expr"]).replace(needle, replacement)
        assert needle not in rule["expr"]

    return alert, change


def _drop(alert: str, needle: str) -> tuple[str, Any]:
    def change(groups: list[dict[str, Any]]) -> None:
        rule = _one(groups, alert, needle)
        for group in groups:
            group["rules"] = [r for r in group["rules"] if r is not rule]

    return alert, change


Q3 = 'queue=~"root\\\\.q\\\\.c3(?:\\\\..+)?"'
"""The matcher of svc-a2's queue root.q.c3, as the rule file's YAML reads after loading."""
MUTATIONS = {
    # A wrong owner: the right selector, another team's label (routes grp-4's lag to team-b).
    "team label": _relabel(KAFKA_ALERTS[0], 'group="grp-4"', "team", "team-b"),
    # The right team, the wrong service (svc-a1's runbook and dashboard on svc-a2's part).
    "service label": _relabel(YARN_ALERTS[0], Q3, "service", "svc-a1"),
    # A selector naming another claim's part: grp-6 has no alert, grp-7 two.
    "selector": _reselect(KAFKA_ALERTS[1], 'group="grp-6"', 'group="grp-7"'),
    # A selector without its part matcher: every queue's apps-failed alert fires for svc-a2.
    "part matcher dropped": _reselect(YARN_ALERTS[1], f", {Q3}", ""),
    # A missing split: one claim's rule gone, its part pages nobody.
    "share missing": _drop(KAFKA_ALERTS[0], 'group="grp-9"'),
    # Spark: every selector of app-5's GC rule (GC, run time, running) reads app-4 instead.
    "spark selector": _reselect(SPARK_ALERTS[2], 'app_name="app-5"', 'app_name="app-4"'),
    "spark share missing": _drop(SPARK_ALERTS[0], 'app_name="app-3"'),
    "spark team label": _relabel(SPARK_ALERTS[3], 'app_name="app-2"', "team", "platform"),
}


@pytest.mark.parametrize("alert", sorted({alert for alert, _ in MUTATIONS.values()}))
def test_the_groups_of_each_mutated_alert_pass_unmutated(generated: Path, tmp_path: Path, alert: str) -> None:
    """The control for the mutations below: the same trimmed test file passes on the rules as generated."""
    test = _mutate(generated, tmp_path, "components-team-a.rules.yml", lambda _groups: None, alert)
    done = _promtool(test)
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_batched_group_fails_on_a_broken_share(generated: Path, tmp_path: Path, mutation: str) -> None:
    """Each mutation fails promtool in the batched firing group of the split alert itself (not only in
    the partition group, which feeds every owner's shares)."""
    alert, change = MUTATIONS[mutation]
    test = _mutate(generated, tmp_path, "components-team-a.rules.yml", change, alert)
    done = _promtool(test)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "FAILED" in output, output
    assert any("shares here at once fires" in n for n in _failed_groups(output)), output


def test_the_rest_failing_to_give_way_to_a_pattern_fails_the_owners_file(
    generated: Path, tmp_path: Path
) -> None:
    """The unclaimed rule (platform's file) forgetting team-b's pattern fires for shared-* twice."""
    rest = '|^shared-.*"'

    def change(groups: list[dict[str, Any]]) -> None:
        rule = _one(groups, KAFKA_ALERTS[0], rest)
        rule["expr"] = str(rule["expr"]).replace(rest, '"')

    test = _mutate(generated, tmp_path, "components-platform.rules.yml", change, KAFKA_ALERTS[0])
    done = _promtool(test)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "FAILED" in output, output
    assert any("every owner's share firing at once" in n for n in _failed_groups(output)), output


# --- batching itself (no promtool) ------------------------------------------------------------------------


def _alert(name: str, source: str, part: str, minutes: int = 10) -> ComponentAlert:
    labels = {"source": source, "group": part}
    return ComponentAlert(
        "lag",
        Rule(alert=name, expr="vector(1)", labels={"component": "kafka", "source": source, "team": "t"}),
        Scenario([Series("lag", labels, "9x20")], [Series("lag", labels, "0x20")], labels),
        Duration.parse(f"{minutes}m"),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B"]), st.sampled_from(["s1", "s2"]), st.sampled_from(["p1", "p2", "p3"])
        ),
        min_size=1,
        max_size=12,
    )
)
def test_batches_never_feed_a_series_twice_and_keep_every_alert(specs: list[tuple[str, str, str]]) -> None:
    """Shares with the same name and source go in one group unless their series collide (the same part
    twice): then another group. Every alert is expected exactly once, and only alerts fed in the group."""
    alerts = [_alert(*spec) for spec in specs]
    tests: list[dict[str, Any]] = component_tests(alerts)
    firing = [t for t in tests if t["alert_rule_test"][0]["exp_alerts"]]
    expected = []
    for test in tests:
        texts = [s["series"] for s in test["input_series"]]
        assert len(texts) == len(set(texts)), test["name"]
        for e in test["alert_rule_test"][0]["exp_alerts"]:
            labels = e["exp_labels"]
            assert f'lag{{group="{labels["group"]}", source="{labels["source"]}"}}' in texts
            expected.append((test["alert_rule_test"][0]["alertname"], labels["source"], labels["group"]))
    assert sorted(expected) == sorted(specs)
    # As few groups as collisions allow: one per (name, source) and repeat of the same part there.
    repeats = {(n, s): max(specs.count((n, s, p)) for p in ("p1", "p2", "p3")) for n, s, _ in specs}
    assert len(firing) == sum(repeats.values())
    assert len(tests) == 2 * len(firing)
