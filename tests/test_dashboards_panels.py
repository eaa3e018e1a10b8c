"""What panels show: table columns (names, units, value mappings per column), colours and thresholds,
variables, time ranges and markdown links of the generated dashboards; and the CLI's handling of bad
`--out` paths and URLs. Expected values are written by hand from the example catalog and Grafana's rules
(a merged table names value columns `Value #<refId>`; one query's value column is `Value`)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import promql_parser
import pytest
import yaml

from catalog import load_catalog
from dashboards.generate import dashboard_files
from rules import names as r
from tests.conftest import EXAMPLE_CATALOG, run_cli
from tests.dashboard_queries import regex_of, substitute

STATUS_TEXTS = {"Healthy", "At risk", "Exhausted", "No data"}
SLI = "sli: {raw: {error_ratio: 'sum(rate(e_total[{{window}}])) / sum(rate(r_total[{{window}}]))'}}"


@pytest.fixture(scope="module")
def boards() -> dict[str, dict[str, Any]]:
    files = dashboard_files(load_catalog(EXAMPLE_CATALOG).catalog)
    return {json.loads(text)["uid"]: json.loads(text) for text in files.values()}


def _panel(dashboard: dict[str, Any], title: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [p for p in dashboard["panels"] if p["title"] == title]
    assert len(found) == 1, (dashboard["uid"], title)
    return found[0]


def _columns(panel: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each renamed value column: its overrides by property id."""
    organize = next(t for t in panel["transformations"] if t["id"] == "organize")["options"]
    renamed = organize.get("renameByName", {})
    overrides = {
        o["matcher"]["options"]: {p["id"]: p["value"] for p in o["properties"]}
        for o in panel["fieldConfig"]["overrides"]
    }
    return {new: overrides.get(new, {}) for new in renamed.values()} | {"_renamed": renamed}


def _texts(mappings: list[dict[str, Any]]) -> set[str]:
    return {o["text"] for m in mappings for o in m["options"].values()}


@pytest.mark.parametrize(
    ("uid", "title"),
    [
        ("wk-home", "SLOs by team: status and budget remaining"),
        ("wk-team-mlops", "SLOs: status and budget remaining"),
        ("wk-slo-churn-serving", "SLOs"),
    ],
)
def test_slo_tables_map_the_status_column_only_and_show_the_budget_as_a_share(
    boards: dict[str, dict[str, Any]], uid: str, title: str
) -> None:
    panel = _panel(boards[uid], title)
    assert [t["refId"] for t in panel["targets"]] == ["A", "B"]
    columns = _columns(panel)
    assert columns.pop("_renamed") == {"Value #A": "Status", "Value #B": "Budget remaining"}
    assert panel["fieldConfig"]["defaults"]["mappings"] == []  # nothing leaks into other columns
    assert _texts(columns["Status"]["mappings"]) == STATUS_TEXTS
    assert columns["Budget remaining"] == {"unit": "percentunit"}


MERGED = {
    # (uid, title): {column: expected overrides}, by hand
    ("wk-team-data-engineering", "Consumer groups: lag"): {
        "Lag (seconds)": {"unit": "s"},
        "Lag (offsets)": {"unit": "short"},
    },
    ("wk-component-spark", "Applications: running and duration"): {
        "Running": {"mappings": {"No", "Yes"}},
        "Duration": {"unit": "s"},
    },
    ("wk-component-yarn", "Queues: guaranteed, maximum and used share"): {
        "Guaranteed": {},
        "Maximum": {},
        "Used": {},
    },
    ("wk-component-freshness", "Airflow: last run failed, failed runs"): {
        "Last run": {"mappings": {"Succeeded", "Failed"}},
        "Failed runs": {"unit": "short"},
    },
    ("wk-component-freshness", "Great Expectations: latest validation"): {
        "Validation": {"mappings": {"Passed", "Failed"}},
        "Failed expectations": {"unit": "short"},
    },
    ("wk-component-inference", "Endpoints: last probe and status code"): {
        "Last probe": {"mappings": {"OK", "Failed"}},
        "Status code": {"unit": "none"},  # no Down/Up (or any) mapping on a status code
    },
}


@pytest.mark.parametrize(("key", "expected"), MERGED.items(), ids=str)
def test_merged_tables_name_each_value_column_with_its_own_unit_and_mappings(
    boards: dict[str, dict[str, Any]], key: tuple[str, str], expected: dict[str, dict[str, Any]]
) -> None:
    panel = _panel(boards[key[0]], key[1])
    columns = _columns(panel)
    renamed = columns.pop("_renamed")
    assert set(renamed) == {f"Value #{t['refId']}" for t in panel["targets"]}
    assert panel["fieldConfig"]["defaults"]["mappings"] == []
    got = {
        name: {k: (_texts(v) if k == "mappings" else v) for k, v in props.items()}
        for name, props in columns.items()
    }
    assert got == expected
    if key[0] == "wk-component-yarn":
        assert panel["fieldConfig"]["defaults"]["unit"] == "percentunit"  # every share, 0..1


def test_every_merged_table_renames_every_value_column(boards: dict[str, dict[str, Any]]) -> None:
    for uid, dashboard in boards.items():
        for panel in dashboard["panels"]:
            if panel["type"] == "table" and len(panel["targets"]) > 1:
                organize = next(t for t in panel["transformations"] if t["id"] == "organize")
                renamed = organize["options"].get("renameByName", {})
                assert set(renamed) == {f"Value #{t['refId']}" for t in panel["targets"]}, (
                    uid,
                    panel["title"],
                )


def test_team_overviews_have_no_team_variable_and_name_their_team(boards: dict[str, dict[str, Any]]) -> None:
    for team in ("platform", "bi", "data-engineering", "mlops"):
        dashboard = boards[f"wk-team-{team}"]
        assert dashboard["templating"]["list"] == []
        text = json.dumps(dashboard)
        assert "$team" not in text
        assert f'team=\\"{team}\\"' in text  # the SLO and alert queries select the team by name
        rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
        assert rows == [f"SLOs and error budgets of {team}", f"Parts {team} owns"]


def test_single_value_variables_are_never_matched_as_a_regex(boards: dict[str, dict[str, Any]]) -> None:
    for uid, dashboard in boards.items():
        text = json.dumps(dashboard)
        for var in dashboard["templating"]["list"]:
            if not var["multi"] and not var["includeAll"]:
                assert f'=~\\"${var["name"]}' not in text, (uid, var["name"])


def test_stat_colours_and_sorted_thresholds(boards: dict[str, dict[str, Any]]) -> None:
    def steps(panel: dict[str, Any]) -> list[tuple[str, float | None]]:
        return [(s["color"], s["value"]) for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]

    home = boards["wk-home"]
    assert steps(_panel(home, "No data")) == [("text", None), ("blue", 1)]  # never green
    assert steps(_panel(home, "Exhausted")) == [("green", None), ("red", 1)]
    assert steps(_panel(boards["wk-exporter"], "Exporter targets up")) == [("red", None), ("green", 1)]
    budget = _panel(boards["wk-objective-churn-availability"], "Error budget remaining")
    assert steps(budget) == [("red", None), ("orange", 0), ("green", 0.25)]
    for uid, dashboard in boards.items():
        for panel in dashboard["panels"]:
            if "fieldConfig" not in panel:
                continue
            values = [v for _, v in steps(panel)[1:]]
            assert values == sorted(values), (uid, panel["title"])  # type: ignore[type-var]
            assert panel.get("description", "") != panel["title"], (uid, panel["title"])


def test_slo_dashboards_cover_the_slo_s_period_and_judge_calendar_slos_on_the_calendar(
    boards: dict[str, dict[str, Any]],
) -> None:
    # By hand from the example: churn-availability 30d, orders-etl-lag 7d, fraud-latency 28d,
    # daily-sales-freshness a calendar month (30 days of rolling history in the burn-down too).
    assert boards["wk-objective-churn-availability"]["time"]["from"] == "now-30d"
    assert boards["wk-objective-orders-etl-lag"]["time"]["from"] == "now-7d"
    assert boards["wk-objective-fraud-latency"]["time"]["from"] == "now-28d"
    calendar = boards["wk-objective-daily-sales-freshness"]
    for title in ("Error budget remaining", "Status"):
        expr = _panel(calendar, title)["targets"][0]["expr"]
        assert r.CALENDAR_BUDGET_REMAINING in expr and r.PERIOD_BUDGET_REMAINING not in expr, title
    rolling = _panel(boards["wk-objective-churn-availability"], "Status")["targets"][0]["expr"]
    assert r.PERIOD_BUDGET_REMAINING in rolling and r.CALENDAR_BUDGET_REMAINING not in rolling


def _parse_all(files: dict[str, str]) -> int:
    """Parse every expression (variables substituted as Grafana would); the count parsed."""
    parsed = 0
    for text in files.values():
        dashboard = json.loads(text)
        values = {v["name"]: regex_of(["x", "y.z"]) for v in dashboard["templating"]["list"]}
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                expr = substitute(target["expr"], values)
                assert "$" not in expr
                promql_parser.parse(expr)  # raises on invalid PromQL, naming where
                parsed += 1
    return parsed


def test_an_slo_only_catalog_gives_valid_promql_everywhere(write_catalog) -> None:  # type: ignore[no-untyped-def]
    root = write_catalog(
        {
            "c.yaml": "teams: [{name: t, owners: [t@example.com]}, {name: lonely, owners: [l@example.com]}]\n"
            "services: [{name: s, team: t}, {name: noslo, team: t}]\n"
            f"slos:\n  - {{name: a, service: s, objective: 99, window: 7d, {SLI}}}\n"
        }
    )
    files = dashboard_files(load_catalog(root).catalog)
    assert _parse_all(files) > 20
    exporter = json.loads(files["Watchkeeper/wk-exporter.json"])
    assert "Sources down" not in {p["title"] for p in exporter["panels"]}  # no sources: nothing to be down
    assert "count(())" not in json.dumps(exporter)


def test_every_example_expression_parses() -> None:
    assert _parse_all(dashboard_files(load_catalog(EXAMPLE_CATALOG).catalog)) > 300


MD_LINK = re.compile(r"\]\(([^()\s]+)\)")


def test_a_runbook_with_parentheses_and_spaces_stays_one_markdown_link(write_catalog) -> None:  # type: ignore[no-untyped-def]
    runbook = "https://runbooks.example.com/a%20b)(x)?q=1#y"  # the catalog refuses a raw space
    root = write_catalog(
        {
            "c.yaml": "teams: [{name: t, owners: [t@example.com]}]\n"
            f"services: [{{name: s, team: t, runbook: {json.dumps(runbook)}}}]\n"
            f"slos:\n  - {{name: a, service: s, objective: 99, {SLI}}}\n"
        }
    )
    files = dashboard_files(load_catalog(root).catalog)
    for path in ("t/wk-slo-s.json", "t/wk-objective-a.json"):
        texts = [p["options"]["content"] for p in json.loads(files[path])["panels"] if p["type"] == "text"]
        targets = [t for text in texts for t in MD_LINK.findall(text)]
        # By hand: `(` and `)` percent-encoded; decoding gives the runbook back.
        assert "https://runbooks.example.com/a%20b%29%28x%29?q=1#y" in targets, path
        assert unquote(runbook) in {unquote(t) for t in targets}


def test_configmap_names_hash_a_long_uid_once(write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = "a-very-long-slo-name-that-needs-a-hash-in-its-uid"
    root = write_catalog(
        {
            "c.yaml": "teams: [{name: t, owners: [t@example.com]}]\nservices: [{name: s, team: t}]\n"
            f"slos:\n  - {{name: {name}, service: s, objective: 99, {SLI}}}\n"
        }
    )
    out = tmp_path / "out"
    assert run_cli("generate", "dashboards", str(root), "-o", str(out)).code == 0
    # By hand (catalog/links.py's rule): "wk-objective-<name>" is over 40 characters, so its first 28
    # characters (less a trailing '-') plus "-h" and 10 hex digits of its SHA-256.
    text = f"wk-objective-{name}"
    uid = f"{text[:28].rstrip('-')}-h{hashlib.sha256(text.encode()).hexdigest()[:10]}"
    assert (out / "dashboards" / "t" / f"{uid}.json").is_file()
    maps = list(yaml.safe_load_all((out / "kubernetes/configmaps.yaml").read_text()))
    assert f"grafana-dashboard-{uid}" in {m["metadata"]["name"] for m in maps}


def test_build_namespace_applies_to_the_dashboard_configmaps(tmp_path: Path) -> None:
    out = tmp_path / "build"
    result = run_cli("build", str(EXAMPLE_CATALOG), "-o", str(out), "--no-check", "--namespace", "obs")
    assert result.code == 0, result.stderr
    maps = list(yaml.safe_load_all((out / "grafana/kubernetes/configmaps.yaml").read_text()))
    assert maps and {m["metadata"]["namespace"] for m in maps} == {"obs"}


COMMANDS = [["generate", "dashboards"], ["generate", "rules", "--no-check"], ["build", "--no-check"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("where", ["file", "file/sub", "/proc/x"])
def test_an_out_path_that_cannot_be_a_directory_is_a_usage_error(
    tmp_path: Path, command: list[str], where: str
) -> None:
    (tmp_path / "file").write_text("not a directory\n")
    out = where if where.startswith("/") else str(tmp_path / where)
    result = run_cli(*command[:2], str(EXAMPLE_CATALOG), *command[2:], "--out", out)
    assert result.code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --out ") and out in lines[0], result.stderr
    assert (tmp_path / "file").read_text() == "not a directory\n"  # nothing lost


@pytest.mark.parametrize("command", [["generate", "dashboards"], ["build", "--no-check"]], ids=" ".join)
@pytest.mark.parametrize("option", ["--prometheus-url", "--watchkeeper-url"])
@pytest.mark.parametrize("url", ["prometheus:9090", "ftp://x", "http://", "http://a b", "javascript:x"])
def test_a_bad_url_option_is_a_usage_error(tmp_path: Path, command: list[str], option: str, url: str) -> None:
    out = tmp_path / "out"
    result = run_cli(*command[:2], str(EXAMPLE_CATALOG), *command[2:], "--out", str(out), option, url)
    assert result.code == 2, result.stderr
    assert option in result.stderr and "http" in result.stderr
    assert not out.exists()


def test_good_urls_are_accepted(tmp_path: Path) -> None:
    result = run_cli(
        "generate",
        "dashboards",
        str(EXAMPLE_CATALOG),
        "--out",
        str(tmp_path / "out"),
        "--prometheus-url",
        "https://prom.example.com:9090/prefix",
        "--watchkeeper-url",
        "http://10.0.0.1:8000",
    )
    assert result.code == 0, result.stderr


def test_a_team_s_status_query_selects_its_team_by_name_not_by_regex(write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Teams `data.eng` and `data-eng`: as a regex, `data.eng` matched both. Evaluated by promtool."""
    import subprocess

    from tests.conftest import require_binary

    promtool = require_binary("promtool")
    root = write_catalog(
        {
            "c.yaml": "teams: [{name: data.eng, owners: [a@example.com]}, {name: data-eng, owners: [b@example.com]}]\n"
            "services: [{name: s1, team: data.eng}, {name: s2, team: data-eng}]\n"
            f"slos:\n  - {{name: a1, service: s1, objective: 99, {SLI}}}\n"
            f"  - {{name: a2, service: s2, objective: 99, {SLI}}}\n"
        }
    )
    files = dashboard_files(load_catalog(root).catalog)
    (team_file,) = [path for path in files if path.startswith("data.eng/wk-team-")]  # a hashed uid
    board = json.loads(files[team_file])
    status = _panel(board, "SLOs: status and budget remaining")["targets"][0]["expr"]
    info = r.SLO_INFO
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": f'{info}{{slo="a1", service="s1", team="data.eng"}}', "values": "1x5"},
                    {"series": f'{info}{{slo="a2", service="s2", team="data-eng"}}', "values": "1x5"},
                ],
                # By hand: no budget series and no alert, so data.eng's one SLO is No data (3); a2 is not its.
                "promql_expr_test": [
                    {
                        "expr": status,
                        "eval_time": "2m",
                        "exp_samples": [{"labels": '{slo="a1", service="s1", team="data.eng"}', "value": 3}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "status.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    run = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
