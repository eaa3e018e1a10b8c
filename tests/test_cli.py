"""The CLI surface: help and version everywhere, exit codes, the tree, the build, and lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_CATALOG, ROOT, run_cli

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
    assert "4 teams, 10 services, 11 SLOs, 11 sources, 2 drift monitors" in result.stdout
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
        " 'fastapi', 'httpx', 'prometheus_client', 'yaml') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "watchkeeper"
    out = subprocess.run(
        [str(script), "validate", str(EXAMPLE_CATALOG)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
