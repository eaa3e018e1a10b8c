"""The `watchkeeper` command line: the root app, with each command and group from its own `*_cli` module.

Commands import their libraries lazily so `--help` stays fast."""

from __future__ import annotations

import typer

from api.catalog_cli import catalog_app, validate
from api.cli_common import VersionOption
from api.drift_cli import drift_app
from api.exporter_cli import exporter
from api.generate_cli import build, generate_app
from api.import_cli import import_app
from api.owner_cli import owner as owner_command
from api.quality_cli import push_app, quality_app
from api.report_cli import report as report_command
from api.serve_cli import db_app
from api.serve_cli import serve as serve_command
from api.sla_cli import sla_app

app = typer.Typer(
    name="watchkeeper",
    help="Observability and SLA control plane: validate the catalog and generate everything from it.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(version: VersionOption = False) -> None:
    """Watchkeeper ties platform metrics to their owners."""


# Commands are listed in `--help` in this order, then the groups.
app.command()(validate)
app.command()(build)
app.command()(exporter)
app.command("serve")(serve_command)
app.command("report")(report_command)
app.command("owner")(owner_command)
app.add_typer(catalog_app, name="catalog")
app.add_typer(import_app, name="import")
app.add_typer(generate_app, name="generate")
app.add_typer(db_app, name="db")
app.add_typer(sla_app, name="sla")
app.add_typer(quality_app, name="quality")
app.add_typer(push_app, name="push")
app.add_typer(drift_app, name="drift")


def main() -> None:
    """Console-script entry point."""
    app()
