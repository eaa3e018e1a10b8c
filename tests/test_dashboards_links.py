"""Links are real: every alert's `dashboard_url` (and runbook fallback) in the generated rules, and every link
on every generated dashboard, resolves to a generated dashboard uid, its variables and values, and panel."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from api.routers.reports import REPORTS_PATH as API_REPORTS_PATH
from api.routers.reports import router as reports_router
from catalog import load_catalog
from catalog.links import REPORTS_PATH
from catalog.model import Catalog
from dashboards.generate import dashboard_files
from rules.generate import generate_rules
from tests.conftest import EXAMPLE_CATALOG

GRAFANA = "http://grafana:3000"
WATCHKEEPER = "http://watchkeeper-api:8000"
MARKDOWN_LINK = re.compile(r"\]\(([^)]+)\)")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(EXAMPLE_CATALOG).catalog


@pytest.fixture(scope="module")
def dashboards(catalog: Catalog) -> dict[str, dict[str, Any]]:
    by_uid = {}
    for text in dashboard_files(catalog).values():
        dashboard = json.loads(text)
        by_uid[dashboard["uid"]] = dashboard
    return by_uid


def _resolve(url: str, dashboards: dict[str, dict[str, Any]], base: str = "") -> str | None:
    """Why a dashboard link does not resolve, or None if it does (uid, each variable and value, panel)."""
    parts = urlsplit(url)
    if base and not url.startswith(base + "/d/"):
        return f"{url}: not under {base}/d/"
    match = re.fullmatch(r"/d/([a-z0-9-]+)", parts.path)
    if match is None:
        return f"{url}: not a /d/<uid> link"
    dashboard = dashboards.get(match.group(1))
    if dashboard is None:
        return f"{url}: no generated dashboard has uid {match.group(1)}"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    panel_ids = {p["id"] for p in dashboard["panels"]}
    for key, values in parse_qs(parts.query).items():
        if key == "viewPanel":
            if int(values[0]) not in panel_ids:
                return f"{url}: no panel {values[0]}"
            continue
        name = key.removeprefix("var-")
        if name not in variables:
            return f"{url}: {dashboard['uid']} has no variable {name!r}"
        var = variables[name]
        if var["type"] == "custom" and values[0] not in {o["value"] for o in var["options"]}:
            return f"{url}: {values[0]!r} is not a value of {name}"
    return None


def _rule_links(catalog: Catalog) -> list[tuple[str, str, str]]:
    ruleset = generate_rules(catalog, GRAFANA)
    found = []
    for groups in ruleset.files.values():
        for group in groups:
            for rule in group.rules:
                annotations = getattr(rule, "annotations", None) or {}
                for key in ("dashboard_url", "runbook_url"):
                    if key in annotations:
                        found.append((rule.alert or rule.record or "", key, annotations[key]))
    return found


def test_every_alert_dashboard_url_resolves_to_a_generated_dashboard(
    catalog: Catalog, dashboards: dict[str, dict[str, Any]]
) -> None:
    links = _rule_links(catalog)
    dashboard_urls = [(alert, url) for alert, key, url in links if key == "dashboard_url"]
    assert len(dashboard_urls) > 20  # SLO and component alerts of the example
    problems = [(alert, _resolve(url.removeprefix(GRAFANA), dashboards, "")) for alert, url in dashboard_urls]
    assert [p for p in problems if p[1]] == []
    # An SLO alert opens its service's dashboard with that SLO chosen.
    assert any("?var-slo=churn-availability" in url for _, url in dashboard_urls)


def test_component_alerts_open_their_component_dashboard_on_the_part_that_fired(
    catalog: Catalog, dashboards: dict[str, dict[str, Any]]
) -> None:
    """Every component alert selects its source (the variable each component dashboard names it by);
    a literal claim's alert selects its part too. Expected URLs written by hand from the example."""
    source_variable = {"kafka": "cluster", "freshness": "dataset", "drift": "monitor"}
    urls: dict[str, set[str]] = {}
    for groups in generate_rules(catalog, GRAFANA).files.values():
        for rule in (r for g in groups for r in g.rules if r.alert and "component" in r.labels):
            kind, url = rule.labels["component"], rule.annotations["dashboard_url"]
            urls.setdefault(kind, set()).add(url)
            query = parse_qs(urlsplit(url).query)
            name = source_variable.get(kind, "source")
            source = rule.labels.get("dataset") or rule.labels.get("monitor") or rule.labels["source"]
            assert query[f"var-{name}"] == [source], (rule.alert, url)
            assert _resolve(url.removeprefix(GRAFANA), dashboards) is None, (rule.alert, url)
    prefix = f"{GRAFANA}/d/wk-component-kafka?var-cluster=prod"
    assert urls["kafka"] == {
        prefix,  # the unclaimed groups, the topic alerts, and BI's pattern re:^analytics-.*
        f"{prefix}&var-group=orders-etl",
        f"{prefix}&var-group=clickstream-sessionizer",
        f"{prefix}&var-group=analytics-churn-features",
    }
    # YARN queue claims cover subtrees (root.analytics and its children): the source alone is selected.
    assert urls["yarn"] == {f"{GRAFANA}/d/wk-component-yarn?var-source=prod"}
    assert f"{GRAFANA}/d/wk-component-freshness?var-dataset=warehouse.orders" in urls["freshness"]
    # The part variable exists on the target dashboard.
    kafka_variables = {v["name"] for v in dashboards["wk-component-kafka"]["templating"]["list"]}
    assert {"cluster", "group"} <= kafka_variables


def test_component_urls_are_escaped() -> None:
    from catalog.links import component_url

    # By hand: urlencode escapes `&`, `=`, `#` and spaces (as `+`) in a value.
    assert component_url("http://g/", "kafka", "a&b=c", "kafka_group", "x y#z") == (
        "http://g/d/wk-component-kafka?var-cluster=a%26b%3Dc&var-group=x+y%23z"
    )


def test_every_runbook_fallback_resolves_too(catalog: Catalog, dashboards: dict[str, dict[str, Any]]) -> None:
    runbooks = {s.name: str(s.runbook) for s in catalog.services if s.runbook}
    for alert, key, url in _rule_links(catalog):
        if key == "runbook_url" and url.startswith(GRAFANA):
            assert _resolve(url.removeprefix(GRAFANA), dashboards) is None, (alert, url)
        elif key == "runbook_url":
            assert url in runbooks.values(), (alert, url)


def _dashboard_links(dashboard: dict[str, Any]) -> list[str]:
    urls = [link["url"] for link in dashboard.get("links", [])]
    for panel in dashboard["panels"]:
        urls += [link["url"] for link in panel.get("links", [])]
        if panel["type"] == "text":
            urls += MARKDOWN_LINK.findall(panel["options"]["content"])
    return urls


def test_every_dashboard_link_resolves(catalog: Catalog, dashboards: dict[str, dict[str, Any]]) -> None:
    runbooks = {str(s.runbook) for s in catalog.services if s.runbook}
    routes = {route.path for route in reports_router.routes}  # type: ignore[attr-defined]
    checked = 0
    for uid, dashboard in dashboards.items():
        for url in _dashboard_links(dashboard):
            checked += 1
            if url.startswith("/d/"):
                assert _resolve(url, dashboards) is None, (uid, url)
            elif url.startswith(WATCHKEEPER + REPORTS_PATH):
                level, name = url.removeprefix(WATCHKEEPER + REPORTS_PATH + "/").split("/")
                assert f"{REPORTS_PATH}/{level}/{{{level}}}" in routes, (uid, url)
                assert name in {s.name for s in catalog.slos}, (uid, url)
            else:
                assert url in runbooks, (uid, url)
    assert checked > 100


def test_links_run_platform_to_team_to_slo_to_component(dashboards: dict[str, dict[str, Any]]) -> None:
    def targets(uid: str) -> set[str]:
        return {
            urlsplit(u).path.removeprefix("/d/")
            for u in _dashboard_links(dashboards[uid])
            if u.startswith("/d/")
        }

    assert "wk-team-mlops" in targets("wk-home")
    assert "wk-slo-churn-serving" in targets("wk-team-mlops")
    assert "wk-objective-churn-availability" in targets("wk-slo-churn-serving")
    assert "wk-component-inference" in targets("wk-slo-churn-serving")
    assert "wk-component-kafka" in targets("wk-team-platform")
    assert "wk-home" in targets("wk-component-kafka")


def test_the_report_path_is_the_api_s() -> None:
    assert REPORTS_PATH == API_REPORTS_PATH


def test_a_link_to_a_missing_uid_variable_or_panel_is_caught(dashboards: dict[str, dict[str, Any]]) -> None:
    assert _resolve("/d/wk-slo-churn-serving?var-slo=churn-availability", dashboards) is None
    assert _resolve("/d/wk-slo-nope", dashboards)
    assert _resolve("/d/wk-slo-churn-serving?var-team=mlops", dashboards)
    assert _resolve("/d/wk-slo-churn-serving?var-slo=fraud-latency", dashboards)
    assert _resolve("/d/wk-home?viewPanel=999", dashboards)
