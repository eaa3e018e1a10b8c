"""What the `watchkeeper drift` commands share: exit codes, consoles, errors, the catalog's monitors.

Only typer is imported at module level.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from catalog.model import Catalog, DriftMonitor

EXIT_OK, EXIT_DRIFT, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2, 3


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=True)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = 10_000  # piped or logged: never cut tables to rich's 80-column default
    return out


def fail(message: str, code: int) -> NoReturn:
    from rich.markup import escape

    console(True).print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def note(monitor: str, message: str) -> None:
    """A line about one monitor's run, on stderr."""
    from rich.markup import escape

    console(True).print(f"[dim]{escape(monitor)}:[/] {escape(message)}")


def when(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def load(path: Path) -> Catalog:
    """The catalog, or exit 2 with its first problems."""
    from catalog import CatalogError, load_catalog

    try:
        return load_catalog(path).catalog
    except CatalogError as exc:
        for problem in exc.problems[:20]:
            console(True).print(f"error: {problem}", markup=False)
        fail(
            f"the catalog {path} is invalid ({len(exc.problems)} problem(s)): run `watchkeeper validate {path}`",
            EXIT_USAGE,
        )


def monitors(catalog: Catalog, names: list[str], path: Path) -> list[DriftMonitor]:
    """The named monitors (all when none is named), or exit 2 naming an unknown one."""
    import difflib

    known = {m.name: m for m in catalog.drift}
    if not known:
        fail(
            f"the catalog {path} has no drift monitors: add them under `drift:` (docs/catalog.md)", EXIT_USAGE
        )
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            fail(
                f"unknown drift monitor {name!r}{hint} (the catalog has: {', '.join(sorted(known))})",
                EXIT_USAGE,
            )
    return [known[n] for n in names] if names else list(known.values())
