"""What every command of the `watchkeeper` CLI shares: exit codes, `--version`, the catalog argument, a
console that never wraps, one-line errors, and loading a catalog with its problems printed.

Only typer is imported here: the CLI's `--help` must stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from catalog import CatalogError, LoadResult

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"watchkeeper {version('watchkeeper')}")
        raise typer.Exit(EXIT_OK)


VersionOption = Annotated[
    bool,
    typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
]
CatalogArg = Annotated[
    Path,
    typer.Argument(
        exists=True, readable=True, help="A catalog YAML file or a directory of them.", show_default=False
    ),
]


def cli_console(stderr: bool = True) -> Console:
    """A console that never wraps: one problem per line, however narrow the terminal or pipe."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=True)


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Print a one-line error on stderr and exit with `code` (1: invalid, 2: a usage error)."""
    from rich.markup import escape

    cli_console().print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def _print_problems(error: CatalogError | None, warnings: list[object]) -> None:
    from rich.markup import escape

    from catalog.errors import MAX_SHOWN, more

    console = cli_console()
    for warning in warnings[:MAX_SHOWN]:
        console.print(f"[yellow]warning:[/] {escape(str(warning))}")
    if len(warnings) > MAX_SHOWN:
        console.print(f"[yellow]warning:[/] {more(len(warnings) - MAX_SHOWN, 'warning')}")
    if error is not None:
        for problem in error.problems[:MAX_SHOWN]:
            console.print(f"[bold red]error:[/] {escape(str(problem))}")
        count = len(error.problems)
        if count > MAX_SHOWN:
            console.print(f"[bold red]error:[/] {more(count - MAX_SHOWN)} (fix these first)")
        console.print(f"[bold red]{count} error{'s' if count != 1 else ''}[/]; the catalog is invalid.")


def load_or_exit(path: Path) -> LoadResult:
    """The catalog at `path` with its warnings printed; every problem printed and exit 1 if it is invalid."""
    from catalog import CatalogError, load_catalog

    try:
        result = load_catalog(path)
    except CatalogError as exc:
        _print_problems(exc, list(exc.warnings))
        raise typer.Exit(EXIT_INVALID) from None
    _print_problems(None, list(result.warnings))
    return result
