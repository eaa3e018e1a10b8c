"""`watchkeeper validate` and `watchkeeper catalog show`: check a catalog, print its ownership tree.

Commands import their libraries lazily so `--help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli_common import (
    EXIT_INVALID,
    EXIT_USAGE,
    CatalogArg,
    VersionOption,
    cli_console,
    fail,
    load_or_exit,
)

catalog_app = typer.Typer(help="Inspect a catalog.", no_args_is_help=True)


@catalog_app.callback()
def _catalog_group(version: VersionOption = False) -> None:
    """Inspect a catalog."""


def validate(
    catalog: Annotated[
        Path, typer.Argument(help="A catalog YAML file or a directory of them.", show_default=False)
    ],
    output: Annotated[str, typer.Option("--format", help="text, or json for machines.")] = "text",
    version: VersionOption = False,
) -> None:
    """Validate a catalog. Exit 0 if valid, 1 if invalid, 2 on a usage error."""
    if output not in {"text", "json"}:
        fail(f"--format must be text or json, not {output!r}", EXIT_USAGE)
    if not catalog.exists():  # checked here, not by typer, so that --format json still answers in JSON
        message = f"{catalog} does not exist: give a catalog YAML file or a directory of them"
        if output == "json":
            import json

            problem = {"file": str(catalog), "line": None, "column": None, "path": "", "level": "error"}
            report = {
                "valid": False,
                "errors": 1,
                "omitted": 0,
                "problems": [{**problem, "message": message}],
            }
            typer.echo(json.dumps(report, indent=2))
            raise typer.Exit(EXIT_USAGE)
        fail(message, EXIT_USAGE)
    if output == "json":
        import json

        from catalog import CatalogError, load_catalog
        from catalog.errors import MAX_SHOWN_JSON

        try:
            result = load_catalog(catalog)
        except CatalogError as exc:
            found = [*exc.problems, *exc.warnings]
            problems = [p.as_dict() for p in found[:MAX_SHOWN_JSON]]
            omitted = max(0, len(found) - MAX_SHOWN_JSON)
            report = {"valid": False, "errors": len(exc.problems), "omitted": omitted, "problems": problems}
            typer.echo(json.dumps(report, indent=2))
            raise typer.Exit(EXIT_INVALID) from None
        problems = [p.as_dict() for p in result.warnings[:MAX_SHOWN_JSON]]
        omitted = max(0, len(result.warnings) - MAX_SHOWN_JSON)
        typer.echo(json.dumps({"valid": True, "omitted": omitted, "problems": problems}, indent=2))
        return
    result = load_or_exit(catalog)
    c = result.catalog
    cli_console(stderr=False).print(
        f"[green]valid:[/] {catalog} ({len(result.files)} file{'s' if len(result.files) != 1 else ''}): "
        f"{_count(len(c.teams), 'team')}, {_count(len(c.services), 'service')}, {_count(len(c.slos), 'SLO')}, "
        f"{_count(sum(len(getattr(c.sources, k)) for k in type(c.sources).model_fields), 'source')}, "
        f"{_count(len(c.drift), 'drift monitor')}"
    )


def _count(n: int, noun: str) -> str:
    """`1 team`, `2 teams`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


@catalog_app.command("show")
def catalog_show(catalog: CatalogArg, version: VersionOption = False) -> None:
    """Print the ownership tree: teams, their services, and each service's SLOs and sources."""
    from rich.console import Console

    from api.catalog_tree import ownership_tree

    Console(highlight=False, emoji=False).print(ownership_tree(load_or_exit(catalog).catalog))
