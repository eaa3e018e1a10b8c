"""The example catalog and the merged model read as users expect."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from catalog import CatalogError, load_catalog
from catalog.loader import ENTRY_MODELS, SOURCE_MODELS
from catalog.model.kafka import group_selected
from tests.conftest import EXAMPLE_CATALOG, ROOT


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


def _with_kafka(tmp_path: Path, bootstrap: str) -> Path:
    (tmp_path / "c.yaml").write_text(
        "teams: [{name: t, owners: [a@example.com], channels: {email: {to: [a@example.com]}}}]\n"
        "services: [{name: s, team: t}]\n"
        f"sources: {{kafka: [{{name: prod, service: s, bootstrap: {bootstrap}}}]}}\n"
    )
    return tmp_path


def test_kafka_bootstrap_accepts_a_list_of_host_port(tmp_path: Path) -> None:
    # Kafka clients take "host:port,host:port" (bootstrap.servers); a YAML list means the same.
    listed = load_catalog(_with_kafka(tmp_path, "[kafka1:9092, 'kafka2:9093']")).catalog.sources.kafka[0]
    assert listed.bootstrap == "kafka1:9092,kafka2:9093"
    joined = load_catalog(_with_kafka(tmp_path, "'kafka1:9092,kafka2:9093'")).catalog.sources.kafka[0]
    assert joined.bootstrap == listed.bootstrap


def test_an_alert_name_error_states_the_camel_case_rule_and_its_suggestion_is_accepted(
    tmp_path: Path,
) -> None:
    def catalog(name: str) -> Path:
        (tmp_path / "c.yaml").write_text(
            "teams: [{name: t, owners: [a@example.com], channels: {email: {to: [a@example.com]}}}]\n"
            "services: [{name: s, team: t}]\n"
            "slos:\n  - name: x\n    service: s\n    objective: 99\n"
            "    sli: {events: {errors: 'sum(rate(e[{{window}}]))', total: 'sum(rate(t[{{window}}]))'}}\n"
            f"    alerting: {{name: {name}}}\n"
        )
        return tmp_path

    with pytest.raises(CatalogError) as caught:
        load_catalog(catalog("checkout_high-error-rate"))
    [problem] = caught.value.problems
    assert problem.path == 'slos[0] "x".alerting.name'
    assert "CamelCase" in problem.message
    assert "lower-case" not in problem.message  # the old hint described names, not alert names
    suggestion = problem.message.rsplit("(e.g. ", 1)[1].rstrip(")")
    assert suggestion == "CheckoutHighErrorRate"
    assert load_catalog(catalog(suggestion)).catalog.slos[0].alerting.name == suggestion


def _required_keys_table() -> dict[str, tuple[set[str], set[str]]]:
    """docs/catalog.md's "Required keys" table: entry -> (required keys, "exactly one of" keys)."""
    text = (ROOT / "docs" / "catalog.md").read_text()
    section = text.split("\n## Required keys\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[set[str], set[str]]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):

            def keys(cell: str) -> set[str]:
                return set(re.findall(r"`([a-z_]+)`", cell))

            rows[cells[0].strip("`")] = (keys(cells[1]), keys(cells[2]))
    return rows


def test_docs_list_exactly_the_required_keys_of_every_entry_kind() -> None:
    # Derived from the pydantic models, so the docs cannot drift silently.
    models = {**ENTRY_MODELS, **{f"sources.{kind}": model for kind, model in SOURCE_MODELS.items()}}
    table = _required_keys_table()
    assert set(table) == set(models), "docs/catalog.md's Required keys table must have one row per entry kind"
    for entry, model in models.items():
        required = {f.alias or n for n, f in model.model_fields.items() if f.is_required()}
        documented, one_of = table[entry]
        assert documented == required, f"{entry}: docs say {sorted(documented)}, the model {sorted(required)}"
        fields = {f.alias or n for n, f in model.model_fields.items()}
        nested = {
            k for sub in ("sli", "reference", "current") if sub in fields for k in _sub_fields(model, sub)
        }
        assert one_of <= fields | nested, (
            f"{entry}: 'exactly one of' names unknown keys {one_of - fields - nested}"
        )


def test_each_exactly_one_of_group_is_enforced() -> None:
    # Behaviour, not just names: an entry with every required key but none of its "one of" keys is refused.
    minimal = {
        "sources.freshness": {"dataset": "d", "service": "s", "max_age": "1h"},
        "slos": {"name": "x", "service": "s", "objective": 99, "sli": {}},
        "drift": {"name": "x", "service": "s", "reference": {}, "current": {"path": "p"}},
    }
    models = {**ENTRY_MODELS, **{f"sources.{kind}": model for kind, model in SOURCE_MODELS.items()}}
    table = _required_keys_table()
    for entry, data in minimal.items():
        assert table[entry][1], f"{entry} documents no 'exactly one of' group"
        with pytest.raises(ValidationError, match="exactly one of"):
            models[entry].model_validate(data)


def _sub_fields(model: type[BaseModel], name: str) -> set[str]:
    annotation = model.model_fields[name].annotation
    inner = next((a for a in typing.get_args(annotation) if isinstance(a, type)), annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return set(inner.model_fields)
    return set()
