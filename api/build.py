"""Generate every artifact of a catalog into one output directory (the main job)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from api.cli_options import (
    DEFAULT_FORMAT,
    DEFAULT_GRAFANA_URL,
    DEFAULT_NAMESPACE,
    DEFAULT_SECRETS_DIR,
    DEFAULT_WATCHKEEPER_URL,
)
from catalog.model import Catalog
from catalog.yaml_dump import YamlDumpError


@dataclass(frozen=True)
class BuildOptions:
    """The options `watchkeeper build` shares with the `generate` commands (api/cli_options.py)."""

    fmt: str = DEFAULT_FORMAT
    namespace: str = DEFAULT_NAMESPACE
    grafana_url: str = DEFAULT_GRAFANA_URL
    check: bool = True
    watchkeeper_url: str = DEFAULT_WATCHKEEPER_URL
    secrets_dir: str = DEFAULT_SECRETS_DIR
    datasource_uid: str = "prometheus"
    """The Prometheus datasource uid every dashboard query names (and the provisioned datasource has)."""
    prometheus_url: str = "http://prometheus:9090"
    """The URL of the provisioned Prometheus datasource."""


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def generate_rule_files(
    catalog: Catalog,
    out: Path,
    options: BuildOptions,
    console: Console,
    tests: Path | None = None,
) -> list[Path] | None:
    """Generate, check with promtool, then write the rule files (and their promtool tests); None if invalid."""
    from rules.check import RuleCheckError, check_rules
    from rules.generate import generate_rules
    from rules.render import write_rules, write_tests

    rules = generate_rules(catalog, options.grafana_url, with_tests=tests is not None)
    for warning in rules.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    try:
        texts = check_rules(rules.files) if options.check else None  # rendered once, checked, written
        written = write_rules(rules.files, out, options.fmt, options.namespace, texts)
        if tests is not None:
            written += write_tests(rules.tests, rules.files, out, tests, rules.test_notes)
    except (RuleCheckError, YamlDumpError) as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        return None
    for path in written:
        console.print(f"  wrote {escape(str(path))}")
    return written


def alertmanager_text(catalog: Catalog, options: BuildOptions, console: Console) -> str | None:
    """The Alertmanager configuration as YAML; None (after printing why) if it cannot be written."""
    from rules.alertmanager import RoutingOptions, alertmanager_yaml

    routing = RoutingOptions(watchkeeper_url=options.watchkeeper_url, secrets_dir=options.secrets_dir)
    try:
        return alertmanager_yaml(catalog, routing)
    except YamlDumpError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        return None


def generate_dashboard_files(
    catalog: Catalog, out: Path, options: BuildOptions, console: Console
) -> list[Path]:
    """Write the Grafana dashboards (a folder per team), their file provisioning and ConfigMaps."""
    from dashboards.generate import DashboardOptions, dashboard_files
    from dashboards.provisioning import ProvisioningOptions, provisioning_files, write_files

    files = dashboard_files(catalog, DashboardOptions(options.datasource_uid, options.watchkeeper_url))
    provisioning = ProvisioningOptions(
        options.datasource_uid, options.prometheus_url, namespace=options.namespace
    )
    written = write_files(out, provisioning_files(files, provisioning))
    console.print(f"  wrote {len(files)} dashboards and their provisioning in {escape(str(out))}/")
    return written


def build_all(catalog: Catalog, out: Path, console: Console, options: BuildOptions) -> list[Path] | None:
    """Write the resolved catalog, its schema, rules, routing and dashboards; None if an artifact is invalid."""
    tests = out / "rule-tests" if options.fmt == "prometheus" else None
    if tests is None:
        console.print(
            "[yellow]note:[/] rule tests are not written for --format prometheusrule "
            "(promtool tests read plain rule files)"
        )
    rules = generate_rule_files(catalog, out / "rules", options, console, tests)
    if rules is None:
        return None
    routing = alertmanager_text(catalog, options, console)
    if routing is None:
        return None
    written = [
        write_text(out / "alertmanager.yml", routing),
        write_text(out / "catalog.json", catalog.model_dump_json(indent=2, by_alias=True) + "\n"),
        write_text(
            out / "catalog.schema.json", json.dumps(Catalog.model_json_schema(by_alias=True), indent=2) + "\n"
        ),
    ]
    for path in written:
        console.print(f"  wrote {escape(str(path))}")
    return rules + written + generate_dashboard_files(catalog, out / "grafana", options, console)
