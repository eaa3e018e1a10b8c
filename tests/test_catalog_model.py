"""The example catalog and the merged model read as users expect."""

from __future__ import annotations

from pathlib import Path

from catalog import load_catalog
from catalog.loader import group_selected
from tests.conftest import EXAMPLE_CATALOG


def test_example_catalog_models_four_teams_across_several_files() -> None:
    result = load_catalog(EXAMPLE_CATALOG)
    assert len(result.files) >= 4
    catalog = result.catalog
    assert {t.name for t in catalog.teams} == {"platform", "data-engineering", "mlops", "bi"}
    per_team = {
        t.name: [s for s in catalog.slos if catalog.team_of(s.service).name == t.name] for t in catalog.teams
    }
    assert all(len(slos) >= 2 for slos in per_team.values()), per_team
    assert result.warnings == []


def test_every_sli_kind_and_window_kind_is_exercised_by_the_example() -> None:
    catalog = load_catalog(EXAMPLE_CATALOG).catalog
    assert {s.sli.kind for s in catalog.slos} == {"events", "latency", "freshness", "kafka_lag"}
    assert any(s.window.is_calendar for s in catalog.slos)
    assert {
        k for k in ("hdfs", "yarn", "spark", "kafka", "freshness", "inference") if getattr(catalog.sources, k)
    } == {"hdfs", "yarn", "spark", "kafka", "freshness", "inference"}


def test_a_single_file_catalog_loads(tmp_path: Path) -> None:
    merged = "\n".join(
        p.read_text() for p in sorted(EXAMPLE_CATALOG.glob("*.yaml")) if p.name == "teams.yaml"
    )
    path = tmp_path / "one.yaml"
    path.write_text(merged + "\nservices: [{name: s, team: bi}]\n")
    catalog = load_catalog(path).catalog
    assert [s.name for s in catalog.services] == ["s"]


def test_sloth_window_placeholder_is_normalised(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        "teams: [{name: t, owners: [a@example.com], channels: {email: {to: [a@example.com]}}}]\n"
        "services: [{name: s, team: t}]\n"
        "slos:\n  - name: x\n    service: s\n    objective: 99\n"
        "    sli: {events: {errors: 'sum(rate(e[{{ .window }}]))', total: 'sum(rate(t[{{.window}}]))'}}\n"
    )
    slo = load_catalog(tmp_path).catalog.slos[0]
    assert slo.sli.events is not None
    assert slo.sli.events.errors == "sum(rate(e[{{window}}]))"
    assert abs(slo.error_budget_ratio - 0.01) < 1e-12


def test_kafka_group_selection_honours_regex_and_exclusions() -> None:
    kafka = load_catalog(EXAMPLE_CATALOG).catalog.sources.kafka[0]
    assert group_selected(kafka, "orders-etl")
    assert group_selected(kafka, "analytics-daily")
    assert not group_selected(kafka, "billing")
    assert not group_selected(kafka, "analytics-console-consumer-1")
