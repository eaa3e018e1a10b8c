"""Generate `docs/metrics.md` from the metric registrations in the names modules.

Run: `.venv/bin/python -m api.metrics_reference` (writes docs/metrics.md), or with `--check` to exit 1
when the file is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from exporters.registry import MetricInfo, Registry, Section

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "metrics.md"
COMMAND = ".venv/bin/python -m api.metrics_reference"


def registries() -> list[tuple[str, Registry]]:
    """(module path, registry) of every names module, in reference order."""
    from drift import names as drift_names
    from exporters import names as exporter_names
    from rules import names as rule_names

    found = [("exporters/names.py", exporter_names.REGISTRY), ("drift/names.py", drift_names.REGISTRY)]
    registry = getattr(rule_names, "REGISTRY", None)
    if isinstance(registry, Registry):
        found.append(("rules/names.py", registry))
    from sla import names as sla_names

    found.append(("sla/names.py", sla_names.REGISTRY))
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _row(info: MetricInfo) -> str:
    names = "<br>".join(f"`{name}`" for name in info.samples)
    labels = ", ".join(f"`{label}`" for label in info.labels) or "—"
    return f"| {names} | {info.kind} | {labels} | {info.unit or '—'} | {_cell(info.help)} |"


def _section(section: Section, module: str) -> list[str]:
    return [
        f"## {section.title}",
        "",
        f"{section.text} Defined in `{section.module.replace('.', '/') + '.py' if section.module else module}`.",
        "",
        "| metric | type | labels | unit | meaning |",
        "|---|---|---|---|---|",
        *(_row(info) for info in section.metrics),
        "",
    ]


def render() -> str:
    """The whole reference, as docs/metrics.md holds it."""
    lines = [
        "# Metrics reference",
        "",
        "Every metric Watchkeeper produces: its name as a scrape shows it, type, label names, unit and",
        "meaning (the HELP text the exporter serves). Generated from the registrations in the names",
        f"modules; do not edit by hand: change the names module, then run `{COMMAND}`.",
        "`tests/test_metrics_reference.py` fails when this file is out of date, and checks the types and",
        "labels listed here against what the exporter emits for the recorded fixture payloads.",
        "",
        "A counter is listed by its sample name (`…_total`); in OpenMetrics its `# TYPE` and `# HELP` name",
        "the family without `_total`. The unit is the name's suffix (seconds, bytes, ratio) and is what the",
        "OpenMetrics `# UNIT` line says. No series carries team or owner labels: join",
        "`watchkeeper_ownership_info` on `service`.",
        "",
    ]
    for module, registry in registries():
        registry.by_name()  # a name registered twice is an error here too
        for section in registry.sections:
            lines += _section(section, module)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    parser.add_argument("--output", type=Path, default=REFERENCE)
    args = parser.parse_args(argv)
    text = render()
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else None
    if args.check:
        if current != text:
            sys.stderr.write(f"{args.output} is out of date: run `{COMMAND}`\n")
            return 1
        return 0
    if current != text:
        args.output.write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {args.output}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
