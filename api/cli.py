"""The `watchkeeper` command line. Commands import their libraries lazily so `--help` stays fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
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
InputArg = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="The spec file to convert.", show_default=False
    ),
]

app = typer.Typer(
    name="watchkeeper",
    help="Observability and SLA control plane: validate the catalog and generate everything from it.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
catalog_app = typer.Typer(help="Inspect a catalog.", no_args_is_help=True)
generate_app = typer.Typer(help="Generate Prometheus rules and Alertmanager routing.", no_args_is_help=True)
import_app = typer.Typer(help="Convert Sloth or OpenSLO specs into catalog YAML.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(import_app, name="import")
app.add_typer(generate_app, name="generate")


@app.callback()
def _root(version: VersionOption = False) -> None:
    """Watchkeeper ties platform metrics to their owners."""


@catalog_app.callback()
def _catalog_group(version: VersionOption = False) -> None:
    """Inspect a catalog."""


@generate_app.callback()
def _generate_group(version: VersionOption = False) -> None:
    """Generate Prometheus rules and Alertmanager routing."""


@import_app.callback()
def _import_group(version: VersionOption = False) -> None:
    """Convert Sloth or OpenSLO specs into catalog YAML."""


def _fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    from rich.console import Console

    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)


def _print_problems(error: CatalogError | None, warnings: list[object]) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, highlight=False)
    for warning in warnings:
        console.print(f"[yellow]warning:[/] {escape(str(warning))}")
    if error is not None:
        for problem in error.problems:
            console.print(f"[bold red]error:[/] {escape(str(problem))}")
        count = len(error.problems)
        console.print(f"[bold red]{count} error{'s' if count != 1 else ''}[/]; the catalog is invalid.")


def _load(path: Path) -> LoadResult:
    from catalog import CatalogError, load_catalog

    try:
        result = load_catalog(path)
    except CatalogError as exc:
        _print_problems(exc, list(exc.warnings))
        raise typer.Exit(EXIT_INVALID) from None
    _print_problems(None, list(result.warnings))
    return result


@app.command()
def validate(
    catalog: CatalogArg,
    output: Annotated[str, typer.Option("--format", help="text, or json for machines.")] = "text",
    version: VersionOption = False,
) -> None:
    """Validate a catalog. Exit 0 if valid, 1 if invalid, 2 on a usage error."""
    if output not in {"text", "json"}:
        _fail(f"--format must be text or json, not {output!r}", EXIT_USAGE)
    if output == "json":
        import json

        from catalog import CatalogError, load_catalog

        try:
            result = load_catalog(catalog)
        except CatalogError as exc:
            problems = [p.as_dict() for p in (*exc.problems, *exc.warnings)]
            typer.echo(json.dumps({"valid": False, "problems": problems}, indent=2))
            raise typer.Exit(EXIT_INVALID) from None
        problems = [p.as_dict() for p in result.warnings]
        typer.echo(json.dumps({"valid": True, "problems": problems}, indent=2))
        return
    result = _load(catalog)
    c = result.catalog
    from rich.console import Console

    Console(highlight=False).print(
        f"[green]valid:[/] {catalog} ({len(result.files)} file{'s' if len(result.files) != 1 else ''}): "
        f"{len(c.teams)} teams, {len(c.services)} services, {len(c.slos)} SLOs, "
        f"{sum(len(getattr(c.sources, k)) for k in type(c.sources).model_fields)} sources, "
        f"{len(c.drift)} drift monitors"
    )


@catalog_app.command("show")
def catalog_show(catalog: CatalogArg, version: VersionOption = False) -> None:
    """Print the ownership tree: teams, their services, and each service's SLOs and sources."""
    from rich.console import Console

    from api.catalog_tree import ownership_tree

    Console().print(ownership_tree(_load(catalog).catalog))


def _emit_import(kind: str, path: Path, team: str | None, out: Path | None) -> None:
    import tempfile

    from catalog import CatalogError, load_catalog
    from catalog.importers import SpecImportError

    try:
        if kind == "sloth":
            from catalog.importers.sloth import import_sloth

            result = import_sloth(path, team=team)
        else:
            from catalog.importers.openslo import import_openslo

            result = import_openslo(path, team=team)
    except SpecImportError as exc:
        _fail(str(exc))
    text = result.to_yaml(str(path))
    with tempfile.TemporaryDirectory() as tmp:
        check = Path(tmp) / "imported.yaml"
        check.write_text(text, encoding="utf-8")
        try:
            load_catalog(check)
        except CatalogError as exc:
            details = "; ".join(f"{p.path}: {p.message}" for p in exc.problems)
            _fail(f"{path}: converted, but the result is not a valid catalog: {details}")
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, highlight=False)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"[green]wrote[/] {out} ({len(result.slos)} SLOs)")


TeamOption = Annotated[
    str | None,
    typer.Option("--team", help="Owning team for the imported services (default: the spec's owner label)."),
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the YAML here instead of stdout.")]


@import_app.command("sloth")
def import_sloth(
    file: InputArg, team: TeamOption = None, out: OutOption = None, version: VersionOption = False
) -> None:
    """Convert a Sloth spec (prometheus/v1 or Kubernetes PrometheusServiceLevel) to catalog YAML."""
    _emit_import("sloth", file, team, out)


@import_app.command("openslo")
def import_openslo(
    file: InputArg, team: TeamOption = None, out: OutOption = None, version: VersionOption = False
) -> None:
    """Convert OpenSLO v1alpha or v1 SLO documents to catalog YAML."""
    _emit_import("openslo", file, team, out)


@app.command()
def build(
    catalog: CatalogArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the generated artifacts.")] = Path(
        "build"
    ),
    version: VersionOption = False,
) -> None:
    """Validate a catalog and generate every artifact from it into one directory."""
    from rich.console import Console

    from api.build import build_all

    result = _load(catalog)
    console = Console(stderr=True, highlight=False)
    written = build_all(result.catalog, out, console)
    if written is None:
        raise typer.Exit(EXIT_INVALID)
    console.print(f"[green]built[/] {len(written)} artifacts in {out}/")


@app.command()
def exporter(
    catalog: CatalogArg,
    listen: Annotated[
        str, typer.Option("--listen", help="host:port to serve /metrics and /healthz on.")
    ] = "127.0.0.1:9108",
    only: Annotated[
        str | None,
        typer.Option("--only", help="Comma-separated source kinds to collect (hdfs,yarn,spark,kafka)."),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
    version: VersionOption = False,
) -> None:
    """Serve Prometheus metrics for every source in the catalog (logs are logfmt on stderr)."""
    host, _, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        _fail(f"--listen must be host:port, such as 127.0.0.1:9108, not {listen!r}", EXIT_USAGE)
    if log_level.lower() not in {"debug", "info", "warning", "error"}:
        _fail(f"--log-level must be debug, info, warning or error, not {log_level!r}", EXIT_USAGE)
    from exporters import logs
    from exporters.errors import ConfigError
    from exporters.runtime import Runtime
    from exporters.server import serve
    from exporters.sources import IMPLEMENTED, build_sources

    kinds = None
    if only is not None:
        kinds = {k.strip() for k in only.split(",") if k.strip()}
        unknown = sorted(kinds - set(IMPLEMENTED))
        if unknown or not kinds:
            _fail(f"--only takes {', '.join(IMPLEMENTED)}; not {', '.join(unknown) or 'nothing'}", EXIT_USAGE)
    result = _load(catalog)
    logs.setup(log_level)
    import logging

    log = logging.getLogger("watchkeeper.exporter")
    try:
        sources, notes = build_sources(result.catalog, kinds)
    except ConfigError as exc:
        _fail(str(exc))
    for note in notes:
        log.warning(note)
    if not sources:
        log.warning("no sources to collect; serving ownership info only")
    try:
        serve(Runtime(result.catalog, sources), host.strip("[]"), int(port_text))
    except OSError as exc:
        _fail(f"cannot listen on {listen}: {exc.strerror}", EXIT_USAGE)


GrafanaOption = Annotated[str, typer.Option("--grafana-url", help="Base URL for dashboard links in alerts.")]
CheckOption = Annotated[
    bool, typer.Option("--check/--no-check", help="Check every rule with promtool first.")
]


@generate_app.command("rules")
def generate_rules_command(
    catalog: CatalogArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the rule files.")] = Path(
        "build/rules"
    ),
    fmt: Annotated[
        str, typer.Option("--format", help="prometheus (rule files) or prometheusrule (Kubernetes).")
    ] = "prometheus",
    grafana_url: GrafanaOption = "http://grafana:3000",
    check: CheckOption = True,
    tests: Annotated[
        Path | None,
        typer.Option("--tests", help="Also write `promtool test rules` files proving every alert, here."),
    ] = None,
    version: VersionOption = False,
) -> None:
    """Write SLO and component alerting rules per team, plus self-monitoring; optionally their promtool tests."""
    if fmt not in {"prometheus", "prometheusrule"}:
        _fail(f"--format must be prometheus or prometheusrule, not {fmt!r}", EXIT_USAGE)
    if tests is not None and fmt != "prometheus":
        _fail("--tests needs --format prometheus: promtool tests read rule files", EXIT_USAGE)
    from rich.console import Console

    from api.build import generate_rule_files

    result = _load(catalog)
    console = Console(stderr=True, highlight=False)
    written = generate_rule_files(result.catalog, out, fmt, grafana_url, check, console, tests)
    if written is None:
        raise typer.Exit(EXIT_INVALID)


@generate_app.command("alertmanager")
def generate_alertmanager_command(
    catalog: CatalogArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="The alertmanager.yml to write.")] = Path(
        "build/alertmanager.yml"
    ),
    watchkeeper_url: Annotated[
        str, typer.Option("--watchkeeper-url", help="Base URL of the Watchkeeper API (ledger and watchdog).")
    ] = "http://watchkeeper-api:8000",
    secrets_dir: Annotated[
        str,
        typer.Option(
            "--secrets-dir", help="Where Alertmanager finds secret files named after the catalog's *_env."
        ),
    ] = "/etc/alertmanager/secrets",
    version: VersionOption = False,
) -> None:
    """Write Alertmanager routing: a route per team, receivers per severity, inhibition and the Watchdog."""
    from api.build import write_text
    from rules.alertmanager import RoutingOptions, alertmanager_yaml

    result = _load(catalog)
    options = RoutingOptions(watchkeeper_url=watchkeeper_url, secrets_dir=secrets_dir)
    write_text(out, alertmanager_yaml(result.catalog, options))
    typer.echo(f"wrote {out}", err=True)


def main() -> None:
    """Console-script entry point."""
    app()
