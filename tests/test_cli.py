"""The CLI surface: help and version everywhere, exit codes, the tree, the build, and lazy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLE_CATALOG, ROOT, require_binary, run_cli

COMMANDS = [
    [],
    ["validate"],
    ["build"],
    ["catalog"],
    ["catalog", "show"],
    ["import"],
    ["import", "sloth"],
    ["import", "openslo"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_help_works_everywhere(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.code == 0, result.output
    assert "Usage: watchkeeper" in result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_version_works_everywhere(command: list[str]) -> None:
    from importlib.metadata import version

    result = run_cli(*command, "--version")
    assert result.code == 0, result.output
    assert result.stdout.strip() == f"watchkeeper {version('watchkeeper')}"


def test_validate_the_example_catalog() -> None:
    result = run_cli("validate", str(EXAMPLE_CATALOG))
    assert result.code == 0, result.output
    assert "4 teams, 10 services, 11 SLOs, 13 sources, 2 drift monitors" in result.stdout
    assert "warning" not in result.stderr


def test_validate_rejects_an_unknown_format() -> None:
    result = run_cli("validate", str(EXAMPLE_CATALOG), "--format", "xml")
    assert result.code == 2
    assert "--format must be text or json" in result.stderr


def test_catalog_show_prints_the_ownership_tree() -> None:
    result = run_cli("catalog", "show", str(EXAMPLE_CATALOG))
    assert result.code == 0, result.output
    lines = result.stdout.splitlines()
    team_line = next(i for i, line in enumerate(lines) if "mlops owners:" in line)
    service_line = next(i for i, line in enumerate(lines) if "churn-serving (critical)" in line)
    slo_line = next(i for i, line in enumerate(lines) if "SLO churn-latency 99% over 30d latency" in line)
    assert team_line < service_line < slo_line
    assert "drift churn-features share 0.3" in result.stdout
    assert "SLO exec-kpis-freshness 98% over month freshness · alerts: ticket" in result.stdout


def test_catalog_show_on_a_broken_catalog_fails(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("teams: [{name: x}]\n")
    result = run_cli("catalog", "show", str(tmp_path))
    assert result.code == 1
    assert "missing required key 'owners'" in result.stderr


def test_build_writes_the_resolved_catalog_and_its_schema(tmp_path: Path) -> None:
    result = run_cli("build", str(EXAMPLE_CATALOG), "--out", str(tmp_path))
    assert result.code == 0, result.output
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    assert [t["name"] for t in catalog["teams"]] == ["platform", "data-engineering", "mlops", "bi"]
    slo = next(s for s in catalog["slos"] if s["name"] == "daily-sales-freshness")
    assert slo["window"] == "month"
    assert slo["sli"]["freshness"]["max_age"] == "1d2h"
    schema = json.loads((tmp_path / "catalog.schema.json").read_text())
    assert set(schema["properties"]) == {"teams", "services", "slos", "sources", "drift"}


def test_the_cli_imports_no_heavy_library_for_help() -> None:
    # Measured in docs/performance.md; here we check the cause: nothing heavy is imported for --help.
    code = (
        "import sys; from api.cli import app; from typer.testing import CliRunner;"
        "CliRunner().invoke(app, ['--help']);"
        "heavy = [m for m in ('pandas', 'evidently', 'great_expectations', 'numpy', 'pydantic', 'sqlalchemy',"
        " 'fastapi', 'httpx', 'prometheus_client', 'yaml', 'promql_parser') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""


def test_validate_loads_the_promql_parser_only_when_a_query_is_checked() -> None:
    code = (
        "import sys; import catalog.fields, catalog.model;"
        "before = 'promql_parser' in sys.modules;"
        "from catalog.fields import PromQLTemplate; from pydantic import TypeAdapter;"
        "TypeAdapter(PromQLTemplate).validate_python('sum(rate(x[{{window}}]))');"
        "print(before, 'promql_parser' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "True"]


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "watchkeeper"
    out = subprocess.run(
        [str(script), "validate", str(EXAMPLE_CATALOG)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr


def _piped(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed console script with stdout and stderr piped and no COLUMNS (rich then uses 80)."""
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES"}}
    script = Path(sys.executable).parent / "watchkeeper"
    return subprocess.run([str(script), *args], capture_output=True, text=True, check=False, env=env)


def test_catalog_errors_are_one_line_each_when_piped(tmp_path: Path) -> None:
    long_query = (
        "rate("
        + "a_rather_long_metric_name_for_an_http_server_request_counter" * 2
        + "[{{window}}]) by (job)"
    )
    (tmp_path / "c.yaml").write_text(
        "teams: [{name: t, owners: [a@example.com], channels: {email: {to: [a@example.com]}}}]\n"
        "services: [{name: s, team: t}]\n"
        "slos:\n  - name: x\n    service: s\n    objective: 99\n"
        f"    sli: {{events: {{errors: '{long_query}', total: '{long_query}'}}}}\n"
    )
    out = _piped("validate", str(tmp_path))
    assert out.returncode == 1
    lines = out.stderr.splitlines()
    # Two problems and the summary: three lines, however long (rich's piped default would wrap at 80).
    assert len(lines) == 3, out.stderr
    assert all(line.startswith("error: ") for line in lines[:2])
    assert min(len(line) for line in lines[:2]) > 200
    assert lines[2] == "2 errors; the catalog is invalid."


def test_failure_messages_keep_square_brackets_and_one_line_per_problem() -> None:
    # `[range]` in a fix is text, not rich markup; MetricsQL queries fail the import, one line each.
    spec = ROOT / "tests" / "fixtures" / "slo_sloth" / "examples" / "victoria-metrics.yml"
    out = _piped("import", "sloth", str(spec))
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 4, out.stderr
    assert sum("a [range] applies to a metric selector" in line for line in errors) == 2, out.stderr


# --- build takes the generate commands' options ----------------------------------------------------------


def _options(*command: str) -> dict[str, tuple[object, ...]]:
    """The options of a command as click sees them: name -> (flags..., default) (help excluded)."""
    import typer.main

    from api.cli import app

    group = typer.main.get_command(app)
    ctx = group.make_context("watchkeeper", list(command), resilient_parsing=True)
    node = group
    for name in command:
        node = node.get_command(ctx, name)  # type: ignore[attr-defined]
    return {
        str(p.name): (*p.opts, *p.secondary_opts, p.default)
        for p in node.params
        if p.opts and p.name != "help"
    }


def test_build_offers_every_option_of_the_generate_commands() -> None:
    build = _options("build")
    generate = {**_options("generate", "rules"), **_options("generate", "alertmanager")}
    # --out is per command (a directory for build) and --tests is build's rule-tests/ directory.
    shared = {k: v for k, v in generate.items() if k not in {"out", "tests"}}
    assert shared, generate
    for name, flags in shared.items():
        assert build.get(name) == flags, f"build lacks {flags} (flags and default) of the generate commands"
    assert _options("generate", "rules")["namespace"] == ("--namespace", None)


def test_build_honours_format_namespace_urls_and_secrets(tmp_path: Path) -> None:
    grafana, ledger, secrets = "https://grafana.example.com", "http://wk.example.com:9000", "/run/secrets/am"
    result = run_cli(
        "build", str(EXAMPLE_CATALOG), "--out", str(tmp_path),
        "--format", "prometheusrule", "--namespace", "observability",
        "--grafana-url", grafana, "--watchkeeper-url", ledger, "--secrets-dir", secrets,
    )  # fmt: skip
    assert result.code == 0, result.output
    objects = [yaml.safe_load(p.read_text()) for p in sorted((tmp_path / "rules").glob("*.yml"))]
    assert objects and all(o["kind"] == "PrometheusRule" for o in objects)
    assert {o["metadata"]["namespace"] for o in objects} == {"observability"}
    annotations = [r.get("annotations", {}) for o in objects for g in o["spec"]["groups"] for r in g["rules"]]
    dashboards = [a["dashboard_url"] for a in annotations if "dashboard_url" in a]
    assert dashboards and all(url.startswith(grafana + "/d/") for url in dashboards)
    assert not (tmp_path / "rule-tests").exists()  # promtool tests need plain rule files
    assert "rule tests are not written for --format prometheusrule" in result.stderr
    alertmanager = (tmp_path / "alertmanager.yml").read_text()
    assert f"{ledger}/api/v1/alerts" in alertmanager
    assert f"api_url_file: {secrets}/SLACK_PLATFORM_URL" in alertmanager
    assert "/etc/alertmanager/secrets" not in alertmanager


@pytest.mark.promtool
def test_built_prometheusrule_groups_and_routing_pass_promtool_and_amtool(tmp_path: Path) -> None:
    promtool, amtool = require_binary("promtool"), require_binary("amtool")
    out = tmp_path / "build"
    result = run_cli("build", str(EXAMPLE_CATALOG), "-o", str(out), "--format", "prometheusrule")
    assert result.code == 0, result.output
    for path in sorted((out / "rules").glob("*.yml")):
        obj = yaml.safe_load(path.read_text())
        assert obj["metadata"]["namespace"] == "monitoring"  # the default
        plain = tmp_path / path.name
        plain.write_text(yaml.safe_dump({"groups": obj["spec"]["groups"]}))
        check = subprocess.run(
            [promtool, "check", "rules", str(plain)], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stdout + check.stderr
    check = subprocess.run(
        [amtool, "check-config", str(out / "alertmanager.yml")], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_generate_rules_takes_a_namespace(tmp_path: Path) -> None:
    result = run_cli(
        "generate", "rules", str(EXAMPLE_CATALOG), "-o", str(tmp_path), "--format", "prometheusrule",
        "--namespace", "team-x", "--no-check",
    )  # fmt: skip
    assert result.code == 0, result.output
    objects = [yaml.safe_load(p.read_text()) for p in tmp_path.glob("*.yml")]
    assert objects and {o["metadata"]["namespace"] for o in objects} == {"team-x"}


@pytest.mark.parametrize("command", [["build"], ["generate", "rules"]], ids=" ".join)
def test_a_namespace_must_be_a_kubernetes_name_and_needs_prometheusrule(
    command: list[str], tmp_path: Path
) -> None:
    bad = run_cli(
        *command,
        str(EXAMPLE_CATALOG),
        "-o",
        str(tmp_path),
        "--format",
        "prometheusrule",
        "--namespace",
        "Obs_1",
    )
    assert bad.code == 2
    assert "--namespace must be a Kubernetes namespace name" in bad.stderr
    plain = run_cli(*command, str(EXAMPLE_CATALOG), "-o", str(tmp_path), "--namespace", "obs")
    if command == ["build"]:  # build's --namespace also names the dashboard ConfigMaps' namespace
        assert plain.code == 0, plain.stderr
        assert "namespace: obs" in (tmp_path / "grafana/kubernetes/configmaps.yaml").read_text()
    else:
        assert plain.code == 2
        assert "--namespace applies to --format prometheusrule" in plain.stderr


@pytest.mark.parametrize("command", [["build"], ["generate", "rules"]], ids=" ".join)
def test_no_check_skips_promtool(command: list[str], tmp_path: Path) -> None:
    # With no promtool on PATH, the check fails clearly, and --no-check builds anyway.
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    script = str(Path(sys.executable).parent / "watchkeeper")
    args = [script, *command, str(EXAMPLE_CATALOG), "-o", str(tmp_path / "out")]
    checked = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert checked.returncode == 1
    assert "promtool is not installed" in checked.stderr
    unchecked = subprocess.run([*args, "--no-check"], capture_output=True, text=True, env=env, check=False)
    assert unchecked.returncode == 0, unchecked.stderr
    assert list((tmp_path / "out").rglob("slo-platform.rules.yml"))


EMOJI_CATALOG = """
teams: [{name: t, owners: [a@example.com], channels: {email: {to: [a@example.com]}}}]
services: [{name: s, team: t}]
slos:
  - name: x
    service: s
    objective: 99
    sli: {events: {errors: 'sum(rate(e[{{window}}]))', total: 'sum(rate(t[{{window}}]))'}}
    alerting: {annotations: {summary: "Checkout is burning \U0001f525", note: "a\u2028b\x85c \U0010fffd"}}
"""


@pytest.mark.promtool
@pytest.mark.parametrize("check", ["--check", "--no-check"])
def test_generate_rules_with_characters_beyond_the_bmp(check: str, tmp_path: Path) -> None:
    # The reported defect: an emoji made `generate rules` fail, and --no-check wrote a file promtool rejects.
    promtool = require_binary("promtool")
    (tmp_path / "c.yaml").write_text(EMOJI_CATALOG, encoding="utf-8")
    result = run_cli("generate", "rules", str(tmp_path / "c.yaml"), "-o", str(tmp_path / "out"), check)
    assert result.code == 0, result.output
    path = tmp_path / "out" / "slo-t.rules.yml"
    out = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    rules = [r for g in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"] for r in g["rules"]]
    summaries = {r["annotations"]["summary"] for r in rules if "note" in r.get("annotations", {})}
    assert summaries == {"Checkout is burning \U0001f525"}
