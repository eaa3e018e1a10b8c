"""The `watchkeeper` command line. Commands import their libraries lazily so `--help` stays fast."""

from __future__ import annotations

from contextlib import contextmanager
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
from api.drift_cli import drift_app
from api.owner_cli import owner as owner_command
from api.quality_cli import push_app, quality_app
from api.report_cli import report as report_command
from api.serve_cli import db_app
from api.serve_cli import serve as serve_command
from api.sla_cli import sla_app
from exporters.sources import COLLECTORS

if TYPE_CHECKING:
    from collections.abc import Iterator

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
generate_app = typer.Typer(
    help="Generate Prometheus rules, Alertmanager routing and Grafana dashboards.", no_args_is_help=True
)
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
    """Generate Prometheus rules, Alertmanager routing and Grafana dashboards."""


@import_app.callback()
def _import_group(version: VersionOption = False) -> None:
    """Convert Sloth or OpenSLO specs into catalog YAML."""


def _console(stderr: bool = True) -> Console:
    """A console that never wraps: one problem per line, however narrow the terminal or pipe."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=True)


def _fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    from rich.markup import escape

    _console().print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def _print_problems(error: CatalogError | None, warnings: list[object]) -> None:
    from rich.markup import escape

    from catalog.errors import MAX_SHOWN, more

    console = _console()
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
    catalog: Annotated[
        Path, typer.Argument(help="A catalog YAML file or a directory of them.", show_default=False)
    ],
    output: Annotated[str, typer.Option("--format", help="text, or json for machines.")] = "text",
    version: VersionOption = False,
) -> None:
    """Validate a catalog. Exit 0 if valid, 1 if invalid, 2 on a usage error."""
    if output not in {"text", "json"}:
        _fail(f"--format must be text or json, not {output!r}", EXIT_USAGE)
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
        _fail(message, EXIT_USAGE)
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
    result = _load(catalog)
    c = result.catalog
    _console(stderr=False).print(
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

    Console(highlight=False, emoji=False).print(ownership_tree(_load(catalog).catalog))


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


DatasourceUidOption = Annotated[
    str,
    typer.Option(
        "--datasource-uid", help="Uid of the Prometheus datasource the dashboards query (and provision)."
    ),
]
PrometheusUrlOption = Annotated[
    str,
    typer.Option(
        "--prometheus-url", help="URL of the provisioned Prometheus datasource, as Grafana reaches it."
    ),
]
DEFAULT_DATASOURCE_UID, DEFAULT_PROMETHEUS_URL = "prometheus", "http://prometheus:9090"


def _check_datasource_uid(uid: str) -> None:
    """Grafana datasource uids are 1-40 letters, digits, '-' or '_'; a usage error (exit 2) otherwise."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid):
        _fail(
            f"--datasource-uid must be 1 to 40 letters, digits, '-' or '_' (a Grafana uid), not {uid!r}",
            EXIT_USAGE,
        )


def _check_url(option: str, url: str) -> None:
    """An http(s) URL with a host and no whitespace; a usage error (exit 2) otherwise."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or not url.isprintable()
        or " " in url
    ):
        _fail(f"{option} must be an http:// or https:// URL with a host, not {url!r}", EXIT_USAGE)


def _out_dir(path: Path, option: str = "--out") -> None:
    """A path that cannot become a directory (a file, or below one) is a one-line usage error (exit 2),
    found before anything is generated; nothing is created here."""
    for place in (path, *path.parents):
        if place.exists():
            if not place.is_dir():
                what = "is a file" if place == path else f"is below {place}, a file"
                _fail(f"{option} {path}: {what}, not a directory", EXIT_USAGE)
            return


@contextmanager
def _writing(path: Path, option: str = "--out") -> Iterator[None]:
    """An OS error while writing under `path` (not writable, no such place) as a one-line usage error."""
    try:
        yield
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
        _fail(f"{option} {path}: cannot write there: {exc.strerror or exc}{where}", EXIT_USAGE)


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
    datasource_uid: DatasourceUidOption = DEFAULT_DATASOURCE_UID,
    prometheus_url: PrometheusUrlOption = DEFAULT_PROMETHEUS_URL,
    version: VersionOption = False,
) -> None:
    """Validate a catalog and generate every artifact from it into one directory (rule tests too, for
    --format prometheus)."""
    from dataclasses import replace

    _check_datasource_uid(datasource_uid)
    _check_url("--prometheus-url", prometheus_url)
    _check_url("--watchkeeper-url", watchkeeper_url)
    # --namespace names the PrometheusRule objects' namespace (with --format prometheusrule) and always the
    # dashboard ConfigMaps'.
    rule_namespace = namespace if fmt == "prometheusrule" else None
    if namespace is not None and (problem := rule_format_problem("prometheusrule", namespace)) is not None:
        _fail(problem, EXIT_USAGE)
    options = _build_options(fmt, rule_namespace, grafana_url, check, watchkeeper_url, secrets_dir)
    options = replace(options, datasource_uid=datasource_uid, prometheus_url=prometheus_url)
    if namespace is not None:
        options = replace(options, namespace=namespace)
    from api.build import build_all

    result = _load(catalog)
    _out_dir(out)
    console = _console()
    with _writing(out):
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
        typer.Option("--only", help=f"Comma-separated source kinds to collect ({','.join(COLLECTORS)})."),
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
    _out_dir(out)
    if tests is not None:
        _out_dir(tests, "--tests")
    with _writing(out):
        written = generate_rule_files(result.catalog, out, options, _console(), tests)
    if written is None:
        raise typer.Exit(EXIT_INVALID)


@generate_app.command("dashboards")
def generate_dashboards_command(
    catalog: CatalogArg,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for dashboards and provisioning.")
    ] = Path("build/grafana"),
    datasource_uid: DatasourceUidOption = DEFAULT_DATASOURCE_UID,
    prometheus_url: PrometheusUrlOption = DEFAULT_PROMETHEUS_URL,
    watchkeeper_url: Annotated[
        str,
        typer.Option(
            "--watchkeeper-url",
            help="Base URL of the Watchkeeper API, for the SLA report links on SLO dashboards.",
        ),
    ] = DEFAULT_WATCHKEEPER_URL,
    namespace: Annotated[str, typer.Option("--namespace", help="Namespace of the dashboard ConfigMaps.")] = (
        DEFAULT_NAMESPACE
    ),
    version: VersionOption = False,
) -> None:
    """Write Grafana dashboards (a folder per team), file provisioning and ConfigMaps for the sidecar."""
    _check_datasource_uid(datasource_uid)
    _check_url("--prometheus-url", prometheus_url)
    _check_url("--watchkeeper-url", watchkeeper_url)
    problem = rule_format_problem("prometheusrule", namespace)
    if problem is not None:
        _fail(problem, EXIT_USAGE)
    from api.build import BuildOptions, generate_dashboard_files

    result = _load(catalog)
    _out_dir(out)
    options = BuildOptions(
        namespace=namespace,
        watchkeeper_url=watchkeeper_url,
        datasource_uid=datasource_uid,
        prometheus_url=prometheus_url,
    )
    with _writing(out):
        generate_dashboard_files(result.catalog, out, options, _console())


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
app.command("owner")(owner_command)
app.add_typer(db_app, name="db")
app.add_typer(sla_app, name="sla")
app.add_typer(quality_app, name="quality")
app.add_typer(push_app, name="push")
app.add_typer(drift_app, name="drift")


def main() -> None:
    """Console-script entry point."""
    app()
