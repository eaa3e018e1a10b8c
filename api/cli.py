"""The `watchkeeper` command line. Commands import their libraries lazily so `--help` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from api.cli_options import (
    DEFAULT_FORMAT,
    DEFAULT_GRAFANA_URL,
    DEFAULT_NAMESPACE,
    DEFAULT_SECRETS_DIR,
    DEFAULT_WATCHKEEPER_URL,
    CatalogJoinOption,
    CheckOption,
    FormatOption,
    GrafanaOption,
    NamespaceOption,
    SecretsDirOption,
    WatchkeeperUrlOption,
    rule_format_problem,
)
from api.quality_cli import push_app, quality_app
from api.report_cli import report as report_command
from api.serve_cli import db_app
from api.serve_cli import serve as serve_command

if TYPE_CHECKING:
    from rich.console import Console

    from api.build import BuildOptions
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


def _console(stderr: bool = True) -> Console:
    """A console that never wraps: one problem per line, however narrow the terminal or pipe."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    from rich.markup import escape

    _console().print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def _print_problems(error: CatalogError | None, warnings: list[object]) -> None:
    from rich.markup import escape

    console = _console()
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
    _console(stderr=False).print(
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

    Console(highlight=False).print(ownership_tree(_load(catalog).catalog))


TeamOption = Annotated[
    str | None,
    typer.Option("--team", help="Owning team for the imported services (default: the spec's owner label)."),
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the YAML here instead of stdout.")]


def _import(kind: str, path: Path, team: str | None, catalog: Path | None, out: Path | None) -> None:
    from api.importing import run_import

    if not run_import(kind, path, team, catalog, out, _console()):
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


def _build_options(
    fmt: str,
    namespace: str | None,
    grafana_url: str,
    check: bool,
    watchkeeper_url: str = DEFAULT_WATCHKEEPER_URL,
    secrets_dir: str = DEFAULT_SECRETS_DIR,
) -> BuildOptions:
    """The shared options, checked; a usage error (exit 2) if they do not fit together."""
    problem = rule_format_problem(fmt, namespace)
    if problem is not None:
        _fail(problem, EXIT_USAGE)
    from api.build import BuildOptions

    return BuildOptions(
        fmt=fmt,
        namespace=namespace or DEFAULT_NAMESPACE,
        grafana_url=grafana_url,
        check=check,
        watchkeeper_url=watchkeeper_url,
        secrets_dir=secrets_dir,
    )


@app.command()
def build(
    catalog: CatalogArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the generated artifacts.")] = Path(
        "build"
    ),
    fmt: FormatOption = DEFAULT_FORMAT,
    namespace: NamespaceOption = None,
    grafana_url: GrafanaOption = DEFAULT_GRAFANA_URL,
    check: CheckOption = True,
    watchkeeper_url: WatchkeeperUrlOption = DEFAULT_WATCHKEEPER_URL,
    secrets_dir: SecretsDirOption = DEFAULT_SECRETS_DIR,
    version: VersionOption = False,
) -> None:
    """Validate a catalog and generate every artifact from it into one directory (rule tests too, for
    --format prometheus)."""
    options = _build_options(fmt, namespace, grafana_url, check, watchkeeper_url, secrets_dir)
    from api.build import build_all

    result = _load(catalog)
    console = _console()
    written = build_all(result.catalog, out, console, options)
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
    bracketed = host.startswith("[") and host.endswith("]") and len(host) > 2
    if (
        not host
        or not port_text.isdigit()
        or not 0 < int(port_text) < 65536
        or (":" in host and not bracketed)
        or (not bracketed and ("[" in host or "]" in host))
    ):
        _fail(
            f"--listen must be host:port, such as 127.0.0.1:9108 or [::1]:9108 (IPv6 in brackets), not {listen!r}",
            EXIT_USAGE,
        )
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


@generate_app.command("rules")
def generate_rules_command(
    catalog: CatalogArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the rule files.")] = Path(
        "build/rules"
    ),
    fmt: FormatOption = DEFAULT_FORMAT,
    namespace: NamespaceOption = None,
    grafana_url: GrafanaOption = DEFAULT_GRAFANA_URL,
    check: CheckOption = True,
    tests: Annotated[
        Path | None,
        typer.Option("--tests", help="Also write `promtool test rules` files proving every alert, here."),
    ] = None,
    version: VersionOption = False,
) -> None:
    """Write SLO and component alerting rules per team, plus self-monitoring; optionally their promtool tests."""
    options = _build_options(fmt, namespace, grafana_url, check)
    if tests is not None and fmt != "prometheus":
        _fail("--tests needs --format prometheus: promtool tests read rule files", EXIT_USAGE)
    from api.build import generate_rule_files

    result = _load(catalog)
    written = generate_rule_files(result.catalog, out, options, _console(), tests)
    if written is None:
        raise typer.Exit(EXIT_INVALID)


@generate_app.command("alertmanager")
def generate_alertmanager_command(
    catalog: CatalogArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="The alertmanager.yml to write.")] = Path(
        "build/alertmanager.yml"
    ),
    watchkeeper_url: WatchkeeperUrlOption = DEFAULT_WATCHKEEPER_URL,
    secrets_dir: SecretsDirOption = DEFAULT_SECRETS_DIR,
    version: VersionOption = False,
) -> None:
    """Write Alertmanager routing: a route per team, receivers per severity, inhibition and the Watchdog."""
    from api.build import BuildOptions, alertmanager_text, write_text

    result = _load(catalog)
    options = BuildOptions(watchkeeper_url=watchkeeper_url, secrets_dir=secrets_dir)
    text = alertmanager_text(result.catalog, options, _console())
    if text is None:
        raise typer.Exit(EXIT_INVALID)
    write_text(out, text)
    typer.echo(f"wrote {out}", err=True)


app.command("serve")(serve_command)
app.command("report")(report_command)
app.add_typer(db_app, name="db")
app.add_typer(quality_app, name="quality")
app.add_typer(push_app, name="push")


def main() -> None:
    """Console-script entry point."""
    app()
