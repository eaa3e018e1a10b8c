"""Generate every artifact of a catalog into one output directory (the main job)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from catalog.model import Catalog


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def generate_rule_files(
    catalog: Catalog,
    out: Path,
    fmt: str,
    grafana_url: str,
    check: bool,
    console: Console,
    tests: Path | None = None,
) -> list[Path] | None:
    """Generate, check with promtool, then write the rule files (and their promtool tests); None if invalid."""
    from rich.markup import escape

    from rules.check import RuleCheckError, check_rules
    from rules.generate import generate_rules
    from rules.render import write_rules, write_tests

    rules = generate_rules(catalog, grafana_url, with_tests=tests is not None)
    for warning in rules.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    if check:
        try:
            check_rules(rules.files)
        except RuleCheckError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}")
            return None
    written = write_rules(rules.files, out, fmt)
    if tests is not None:
        written += write_tests(rules.tests, rules.files, out, tests)
    for path in written:
        console.print(f"  wrote {path}")
    return written


def build_all(catalog: Catalog, out: Path, console: Console) -> list[Path] | None:
    """Write the resolved catalog, its schema, rules and routing; None if a generated artifact is invalid."""
    from rules.alertmanager import alertmanager_yaml

    rules = generate_rule_files(
        catalog, out / "rules", "prometheus", "http://grafana:3000", True, console, out / "rule-tests"
    )
    if rules is None:
        return None
    written = [
        write_text(out / "alertmanager.yml", alertmanager_yaml(catalog)),
        write_text(out / "catalog.json", catalog.model_dump_json(indent=2, by_alias=True) + "\n"),
        write_text(
            out / "catalog.schema.json", json.dumps(Catalog.model_json_schema(by_alias=True), indent=2) + "\n"
        ),
    ]
    for path in written:
        console.print(f"  wrote {path}")
    return rules + written
