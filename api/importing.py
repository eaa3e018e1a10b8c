"""`watchkeeper import`: convert a Sloth or OpenSLO spec, fit it into an existing catalog, validate, write."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from catalog import CatalogError
from catalog.importers import ImportResult, SpecImportError
from catalog.importers.join import (
    imported_name,
    join_existing,
    load_existing,
    looks_like_catalog,
    validate_import,
)
from catalog.yaml_dump import YamlDumpError

if TYPE_CHECKING:
    from catalog.model import Catalog


def _convert(kind: str, path: Path, team: str | None) -> ImportResult:
    if kind == "sloth":
        from catalog.importers.sloth import import_sloth

        return import_sloth(path, team=team)
    from catalog.importers.openslo import import_openslo

    return import_openslo(path, team=team)


def _existing_catalog(
    catalog: Path | None, out: Path | None, result: ImportResult, team: str | None, console: Console
) -> tuple[Path | None, bool]:
    """The catalog the import joins (given, or the --out directory when it holds one), and whether it loaded."""
    if catalog is None and out is not None and looks_like_catalog(out.parent, out):
        try:
            existing = load_existing(out.parent, out)
        except CatalogError:
            result.notes.append(
                f"{out.parent} holds YAML files that are not a valid catalog; the import is checked on its own "
                "(pass --catalog to join a catalog)"
            )
            return None, True
        result.notes.append(f"joining the catalog in {out.parent} (the --out directory)")
        return out.parent, _join(result, existing, team, out.parent, console)
    if catalog is None:
        return None, True
    try:
        existing = load_existing(catalog, out)
    except CatalogError as exc:
        for problem in exc.problems:
            console.print(f"[bold red]error:[/] {escape(str(problem))}")
        console.print(f"[bold red]error:[/] --catalog {escape(str(catalog))} is invalid; fix it, then import")
        return catalog, False
    return catalog, _join(result, existing, team, catalog, console)


def _join(result: ImportResult, existing: Catalog, team: str | None, where: Path, console: Console) -> bool:
    """Join the catalog at `where`; False after printing why not (a `--team` it does not define)."""
    try:
        join_existing(result, existing, team)
    except SpecImportError as exc:
        console.print(f"[bold red]error:[/] {escape(f'{where}: {exc}')}; nothing was written")
        return False
    return True


def run_import(
    kind: str, path: Path, team: str | None, catalog: Path | None, out: Path | None, console: Console
) -> bool:
    """Convert, join, validate and write (to `out` or stdout); False after printing every problem."""
    try:
        result = _convert(kind, path, team)
    except SpecImportError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        return False
    catalog, ok = _existing_catalog(catalog, out, result, team, console)
    if not ok:
        return False
    if catalog is None and team is not None:
        result.notes.append(
            f"team {team!r} is written with placeholder owners; if your catalog already defines it, "
            "pass --catalog so it is not defined twice"
        )
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    try:
        text = result.to_yaml(str(path))
    except YamlDumpError as exc:
        console.print(f"[bold red]error:[/] {escape(f'{path}: {exc}')}")
        return False
    problems = validate_import(text, catalog, out)
    if problems:
        shown = imported_name(out)
        for problem in problems:
            line = f"{path}: {problem.path}: {problem.message}" if problem.file == shown else str(problem)
            console.print(f"[bold red]error:[/] {escape(line)}")
        console.print(
            f"[bold red]{len(problems)} error{'s' if len(problems) != 1 else ''}[/]: {escape(str(path))} "
            "converts to an invalid catalog; nothing was written"
        )
        return False
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"[green]wrote[/] {escape(str(out))} ({len(result.slos)} SLOs)")
    return True
