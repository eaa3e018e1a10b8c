"""`watchkeeper import sloth|openslo`: Sloth or OpenSLO specs as catalog YAML (api/importing.py does the
work).

Commands import their libraries lazily so `--help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli_common import EXIT_INVALID, VersionOption, cli_console
from api.cli_options import CatalogJoinOption

InputArg = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="The spec file to convert.", show_default=False
    ),
]


import_app = typer.Typer(help="Convert Sloth or OpenSLO specs into catalog YAML.", no_args_is_help=True)


@import_app.callback()
def _import_group(version: VersionOption = False) -> None:
    """Convert Sloth or OpenSLO specs into catalog YAML."""


TeamOption = Annotated[
    str | None,
    typer.Option("--team", help="Owning team for the imported services (default: the spec's owner label)."),
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the YAML here instead of stdout.")]


def _import(kind: str, path: Path, team: str | None, catalog: Path | None, out: Path | None) -> None:
    from api.importing import run_import

    if not run_import(kind, path, team, catalog, out, cli_console()):
        raise typer.Exit(EXIT_INVALID)


@import_app.command("sloth")
def import_sloth(
    file: InputArg,
    team: TeamOption = None,
    catalog: CatalogJoinOption = None,
    out: OutOption = None,
    version: VersionOption = False,
) -> None:
    """Convert a Sloth spec (prometheus/v1 or Kubernetes PrometheusServiceLevel) to catalog YAML."""
    _import("sloth", file, team, catalog, out)


@import_app.command("openslo")
def import_openslo(
    file: InputArg,
    team: TeamOption = None,
    catalog: CatalogJoinOption = None,
    out: OutOption = None,
    version: VersionOption = False,
) -> None:
    """Convert OpenSLO v1alpha or v1 SLO documents to catalog YAML."""
    _import("openslo", file, team, catalog, out)
