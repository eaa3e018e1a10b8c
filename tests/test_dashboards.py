"""Generated Grafana dashboards: valid against Grafana's own types (`@grafana/schema`), byte-identical on
regeneration, a folder per team, and provisioning Grafana and its Kubernetes sidecar can read."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import load_catalog
from catalog.model import Catalog
from dashboards.generate import DashboardOptions, dashboard_files
from dashboards.provisioning import ProvisioningOptions, provisioning_files
from tests.conftest import EXAMPLE_CATALOG, run_cli
from tests.grafana_schema import dashboard_schema


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(EXAMPLE_CATALOG).catalog


@pytest.fixture(scope="module")
def files(catalog: Catalog) -> dict[str, str]:
    return dashboard_files(catalog)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = dashboard_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _errors(validator: jsonschema.Draft7Validator, dashboard: dict[str, Any]) -> list[str]:
    """Schema errors, with the panel-level cause spelled out (anyOf panel/row hides it otherwise)."""
    found = []
    for error in validator.iter_errors(dashboard):
        causes = [c.message for c in (error.context or [])]
        found.append(f"{error.json_path}: {error.message[:200]} {causes[:3]}")
    return found


def test_every_generated_dashboard_validates_against_grafanas_schema(
    files: dict[str, str], validator: jsonschema.Draft7Validator
) -> None:
    # No nulls are stripped first (brief section 8 suggests it): the output has none except the base
    # threshold step's `value: null`, which Grafana's schema allows (-Infinity) and requires.
    assert len(files) >= 30
    problems = {path: _errors(validator, json.loads(text)) for path, text in files.items()}
    assert {path: errs for path, errs in problems.items() if errs} == {}


def _first_panel(dashboard: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(p for p in dashboard["panels"] if p["type"] == kind)


BREAKAGES = {
    "a gridPos width that is a string": lambda p: p["gridPos"].update(w="twelve"),
    "an unknown panel key": lambda p: p.update(span=6),
    "a datasource as a bare name": lambda p: p.update(datasource={"name": "Prometheus", "uid": 1}),
    "a threshold step without a colour": lambda p: p["fieldConfig"]["defaults"]["thresholds"]["steps"][0].pop(
        "color"
    ),
    "a panel without a type": lambda p: p.pop("type"),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=str)
def test_a_deliberately_broken_panel_fails_validation(
    files: dict[str, str], validator: jsonschema.Draft7Validator, breakage: str
) -> None:
    dashboard = json.loads(files["Watchkeeper/wk-home.json"])
    assert _errors(validator, dashboard) == []
    broken = copy.deepcopy(dashboard)
    BREAKAGES[breakage](_first_panel(broken, "stat"))
    assert _errors(validator, broken), breakage


def test_a_broken_dashboard_level_field_fails_validation(
    files: dict[str, str], validator: jsonschema.Draft7Validator
) -> None:
    dashboard = json.loads(files["Watchkeeper/wk-home.json"])
    for field, value in {"schemaVersion": "39", "rows": [], "uid": 7}.items():
        assert _errors(validator, {**dashboard, field: value}), field
    without = {k: v for k, v in dashboard.items() if k != "schemaVersion"}
    assert _errors(validator, without)


def test_regenerating_an_unchanged_catalog_is_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        result = run_cli("generate", "dashboards", str(EXAMPLE_CATALOG), "--out", str(out))
        assert result.code == 0, result.output
    a = {p.relative_to(first): p.read_bytes() for p in sorted(first.rglob("*")) if p.is_file()}
    b = {p.relative_to(second): p.read_bytes() for p in sorted(second.rglob("*")) if p.is_file()}
    assert a == b
    assert len(a) > 30
    # And in a fresh process (hash randomisation, import order): the same bytes again.
    again = run_cli("generate", "dashboards", str(EXAMPLE_CATALOG), "--out", str(first))
    assert again.code == 0
    assert {p.relative_to(first): p.read_bytes() for p in sorted(first.rglob("*")) if p.is_file()} == a


def test_a_folder_per_team_and_the_dashboards_each_holds(catalog: Catalog, files: dict[str, str]) -> None:
    folders = {path.split("/")[0] for path in files}
    assert folders == {t.name for t in catalog.teams} | {"Watchkeeper"}
    team_of = {s.name: s.team for s in catalog.services}
    for slo in catalog.slos:
        uids = [json.loads(t)["uid"] for p, t in files.items() if p.startswith(team_of[slo.service] + "/")]
        assert any(uid.startswith("wk-objective-") for uid in uids)
    # Written out by hand from examples/catalog: one component dashboard per source kind present.
    components = sorted(p for p in files if "wk-component-" in p)
    assert components == [
        f"Watchkeeper/wk-component-{k}.json"
        for k in ("drift", "freshness", "hdfs", "inference", "kafka", "spark", "yarn")
    ]
    uids = [json.loads(t)["uid"] for t in files.values()]
    assert len(uids) == len(set(uids))
    assert all(path.endswith(f"/{json.loads(text)['uid']}.json") for path, text in files.items())


def test_every_query_names_the_configured_datasource(catalog: Catalog) -> None:
    files = dashboard_files(catalog, DashboardOptions(datasource_uid="prom-main"))
    for text in files.values():
        dashboard = json.loads(text)
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                assert target["datasource"] == {"type": "prometheus", "uid": "prom-main"}
        for var in dashboard["templating"]["list"]:
            if var["type"] == "query":
                assert var["datasource"] == {"type": "prometheus", "uid": "prom-main"}


def test_the_burn_rate_thresholds_are_the_window_tables_factors(files: dict[str, str]) -> None:
    # churn-availability: 99.9% over 30d; SRE Workbook table 5-8 (rules/windows.yaml): page 14.4x over
    # 1h/5m and 6x over 6h/30m, ticket 3x over 1d/2h and 1x over 3d/6h.
    dashboard = json.loads(files["mlops/wk-objective-churn-availability.json"])
    lines = {}
    for panel in dashboard["panels"]:
        if panel["title"].startswith(("Page", "Ticket")):
            steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
            lines[panel["title"]] = [s["value"] for s in steps[1:]]
            assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "dashed"
    assert lines == {
        "Page: burn rate over 1h and 5m": [14.4],
        "Page: burn rate over 6h and 30m": [6.0],
        "Ticket: burn rate over 1d and 2h": [3.0],
        "Ticket: burn rate over 3d and 6h": [1.0],
    }
    # clickstream-sessionizer-lag: 7d window (Sloth's 7d table: 13.44/3.5/1.4/0.98), page disabled.
    dashboard = json.loads(files["data-engineering/wk-objective-clickstream-sessionizer-lag.json"])
    titles = [p["title"] for p in dashboard["panels"] if "burn rate over" in p["title"]]
    assert titles[0] == "Page (disabled): burn rate over 1h and 5m"


def test_provisioning_for_grafana_files_and_the_kubernetes_sidecar(files: dict[str, str]) -> None:
    options = ProvisioningOptions("prom-main", "http://prom:9090", namespace="observability")
    out = provisioning_files(files, options)
    provider = yaml.safe_load(out["provisioning/dashboards/watchkeeper.yaml"])
    assert provider["apiVersion"] == 1
    assert provider["providers"][0]["type"] == "file"
    assert provider["providers"][0]["options"]["foldersFromFilesStructure"] is True
    source = yaml.safe_load(out["provisioning/datasources/watchkeeper.yaml"])["datasources"][0]
    assert (source["type"], source["uid"], source["url"]) == ("prometheus", "prom-main", "http://prom:9090")
    maps = list(yaml.safe_load_all(out["kubernetes/configmaps.yaml"]))
    assert len(maps) == len(files)
    for cm in maps:
        assert cm["kind"] == "ConfigMap"
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"  # a string, as the sidecar matches it
        assert cm["metadata"]["namespace"] == "observability"
        assert len(cm["metadata"]["name"]) <= 63
        ((filename, text),) = cm["data"].items()
        folder = cm["metadata"]["annotations"]["grafana_folder"]
        assert files[f"{folder}/{filename}"] == text  # the same bytes as the file
    assert len({cm["metadata"]["name"] for cm in maps}) == len(maps)


def test_build_writes_the_dashboards_too(tmp_path: Path) -> None:
    result = run_cli("build", str(EXAMPLE_CATALOG), "--out", str(tmp_path), "--datasource-uid", "p1")
    assert result.code == 0, result.output
    home = json.loads((tmp_path / "grafana/dashboards/Watchkeeper/wk-home.json").read_text())
    assert home["panels"][1]["datasource"]["uid"] == "p1"
    assert (tmp_path / "grafana/kubernetes/configmaps.yaml").is_file()


def test_a_removed_slo_s_dashboard_is_removed_on_regeneration(tmp_path: Path, write_catalog) -> None:  # type: ignore[no-untyped-def]
    sli = "sli: {raw: {error_ratio: 'sum(rate(e_total[{{window}}])) / sum(rate(r_total[{{window}}]))'}}"
    base = (
        "teams: [{name: t, owners: [t@example.com]}]\nservices: [{name: s, team: t}]\nslos:\n"
        f"  - {{name: a, service: s, objective: 99, {sli}}}\n"
    )
    extra = f"  - {{name: b, service: s, objective: 99, {sli}}}\n"
    root = write_catalog({"c.yaml": base + extra})
    out = tmp_path / "out"
    assert run_cli("generate", "dashboards", str(root), "-o", str(out)).code == 0
    assert (out / "dashboards/t/wk-objective-b.json").is_file()
    keep = out / "dashboards/t/notes.json"
    keep.write_text("{}")
    (root / "c.yaml").write_text(base)
    assert run_cli("generate", "dashboards", str(root), "-o", str(out)).code == 0
    assert not (out / "dashboards/t/wk-objective-b.json").exists()
    assert (out / "dashboards/t/wk-objective-a.json").is_file()
    assert keep.is_file()  # not ours: left alone


def test_an_invalid_catalog_writes_nothing(tmp_path: Path, write_catalog) -> None:  # type: ignore[no-untyped-def]
    root = write_catalog(
        {"c.yaml": "teams: [{name: t, owners: [t@example.com]}]\nservices: [{name: s, team: x}]\n"}
    )
    result = run_cli("generate", "dashboards", str(root), "-o", str(tmp_path / "out"))
    assert result.code == 1
    assert "unknown team" in result.output
    assert not (tmp_path / "out").exists()


def _direct(catalog: Catalog) -> dict[str, str]:
    """Each dashboard built and rendered on its own: the reference for the templated SLO dashboards."""
    from dashboards.generate import boards
    from dashboards.render import board_json, dump

    return {f"{b.folder}/{b.uid}.json": dump(board_json(b, "prometheus")) for b in boards(catalog)}


def test_templated_slo_dashboards_equal_building_each_one(catalog: Catalog, files: dict[str, str]) -> None:
    assert files == _direct(catalog)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    # Any text, and text that looks like dashboards/slo_render.py's placeholders or a Grafana variable.
    description=st.text(max_size=40)
    | st.sampled_from(["\x01slo\x01", "12.3457% \x01team\x01", "$slo ${team}"]),
    objective=st.sampled_from([90, 99, 99.5, 99.9, 99.95, 12.3457, 50]),
    window=st.sampled_from(["7d", "28d", "30d", "week", "month", "quarter"]),
    page=st.booleans(),
    runbook=st.booleans(),
    name=st.from_regex(r"[a-z0-9]([a-z0-9._-]{0,40}[a-z0-9])?", fullmatch=True),
)
def test_templated_slo_dashboards_equal_building_each_one_for_any_slo(
    description: str, objective: float, window: str, page: bool, runbook: bool, name: str
) -> None:
    service: dict[str, Any] = {"name": f"svc.{name}"[:63], "team": f"team_{name}"[:63]}
    if runbook:
        service["runbook"] = f"https://runbooks.example.com/{name}?a=1&b=%22x%22&c='y'"
    sli = {"raw": {"error_ratio": "sum(rate(e_total[{{window}}])) / sum(rate(r_total[{{window}}]))"}}
    slos = [
        {
            "name": name,
            "service": service["name"],
            "objective": objective,
            "window": window,
            "sli": sli,
            "description": description,
            "alerting": {"page": page},
        },
        {
            "name": f"{name[:50]}-two",
            "service": service["name"],
            "objective": 99,
            "window": window,
            "sli": sli,
        },
    ]
    catalog = Catalog.model_validate(
        {
            "teams": [{"name": service["team"], "owners": ["t@example.com"]}],
            "services": [service],
            "slos": slos,
        }
    )
    assert dashboard_files(catalog) == _direct(catalog)


def test_panels_fit_the_grid_without_overlapping(files: dict[str, str]) -> None:
    for path, text in files.items():
        cells: dict[tuple[int, int], int] = {}
        dashboard = json.loads(text)
        for panel in dashboard["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24, (path, panel["title"])
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    assert (x, y) not in cells, (path, panel["title"], cells[(x, y)])
                    cells[(x, y)] = panel["id"]
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids)), path


def test_the_layout_image_draws_every_panel(files: dict[str, str]) -> None:
    import xml.etree.ElementTree as ET

    from dashboards.layout_image import layout_svg

    dashboard = json.loads(files["platform/wk-team-platform.json"])
    svg = ET.fromstring(layout_svg(dashboard))
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f"{ns}rect")) == len(dashboard["panels"]) + 1  # plus the background
    texts = {t.text for t in svg.findall(f"{ns}text")}
    assert {p["title"] for p in dashboard["panels"]} <= texts


@pytest.mark.parametrize("command", [["build"], ["generate", "dashboards"]], ids=" ".join)
@pytest.mark.parametrize("uid", ["", "a b", 'x"y', "x" * 41, "ü"])
def test_a_bad_datasource_uid_is_a_usage_error(tmp_path: Path, command: list[str], uid: str) -> None:
    result = run_cli(*command, str(EXAMPLE_CATALOG), "--out", str(tmp_path / "o"), "--datasource-uid", uid)
    assert result.code == 2, result.output
    assert "--datasource-uid must be" in result.output
    assert not (tmp_path / "o").exists()
