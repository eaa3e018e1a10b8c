"""Regeneration removes the rule and test files of a renamed or removed team, which Prometheus would keep
loading, and never a file a user wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli

CATALOG = """
teams: [{name: TEAM, owners: [a@example.com], channels: {webhook: {url: "http://hook/"}}}]
services: [{name: api, team: TEAM, tier: critical}]
slos:
  - name: api-availability
    service: api
    objective: 99.9
    sli: {events: {errors: 'sum(rate(e[{{window}}]))', total: 'sum(rate(t[{{window}}]))'}}
sources:
  hdfs: [{name: prod, service: api, namenodes: ["http://nn:9870"]}]
"""
# Files a user keeps next to the generated ones: no generated header, or not a rule/test file at all.
MINE = "# my own rules\ngroups: []\n"


def _generate(tmp_path: Path, team: str, fmt: str) -> None:
    (tmp_path / "c.yaml").write_text(CATALOG.replace("TEAM", team))
    tests = ["--tests", str(tmp_path / "tests")] if fmt == "prometheus" else []  # promtool reads rule files
    result = run_cli(
        "generate", "rules", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "rules"),
        *tests, "--format", fmt, "--no-check",
    )  # fmt: skip
    assert result.code == 0, result.output


@pytest.mark.parametrize("fmt", ["prometheus", "prometheusrule"])
def test_a_renamed_team_leaves_no_stale_files(tmp_path: Path, fmt: str) -> None:
    rules, tests = tmp_path / "rules", tmp_path / "tests"
    tests.mkdir()
    _generate(tmp_path, "alpha", fmt)
    assert (rules / "slo-alpha.rules.yml").is_file() and (rules / "components-alpha.rules.yml").is_file()
    (rules / "custom.rules.yml").write_text(MINE)
    (tests / "custom.test.yml").write_text(MINE)
    # A generated file that is not a rule file (`generate alertmanager --out rules/alertmanager.yml`).
    generated_other = run_cli(
        "generate", "alertmanager", str(tmp_path / "c.yaml"), "--out", str(rules / "am.yml")
    )
    assert generated_other.code == 0, generated_other.output
    (rules / "notes.txt").write_text("kept\n")

    _generate(tmp_path, "beta", fmt)

    assert sorted(p.name for p in rules.iterdir()) == [
        "am.yml",
        "components-beta.rules.yml",
        "custom.rules.yml",
        "notes.txt",
        "slo-beta.rules.yml",
        "watchkeeper.rules.yml",
    ]
    generated_tests = ["components-beta.test.yml", "slo-beta.test.yml", "watchkeeper.test.yml"]
    assert sorted(p.name for p in tests.iterdir()) == [
        *(generated_tests[:1] if fmt == "prometheus" else []),
        "custom.test.yml",
        *(generated_tests[1:] if fmt == "prometheus" else []),
    ]
    assert (rules / "custom.rules.yml").read_text() == MINE
    assert (tests / "custom.test.yml").read_text() == MINE


def test_a_removed_source_kind_removes_its_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    _generate(tmp_path, "alpha", "prometheus")
    assert (rules / "components-alpha.rules.yml").is_file()
    (tmp_path / "c.yaml").write_text(CATALOG.replace("TEAM", "alpha").split("sources:")[0])
    result = run_cli("generate", "rules", str(tmp_path / "c.yaml"), "--out", str(rules), "--no-check")
    assert result.code == 0, result.output
    assert not (rules / "components-alpha.rules.yml").exists()
    assert (rules / "slo-alpha.rules.yml").is_file()
