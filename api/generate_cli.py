"""`watchkeeper build` and `watchkeeper generate rules|dashboards|alertmanager`: artifacts from a catalog
(api/build.py does the work), with their options checked before anything is written.

Commands import their libraries lazily so `--help` stays fast.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
from api.cli_options import (
    DEFAULT_DATASOURCE_UID,
    DEFAULT_FORMAT,
    DEFAULT_GRAFANA_URL,
    DEFAULT_NAMESPACE,
    DEFAULT_PROMETHEUS_URL,
    DEFAULT_SECRETS_DIR,
    DEFAULT_WATCHKEEPER_URL,
    CheckOption,
    DatasourceUidOption,
    FormatOption,
    GrafanaOption,
    NamespaceOption,
    PrometheusUrlOption,
    SecretsDirOption,
    WatchkeeperUrlOption,
    rule_format_problem,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from api.build import BuildOptions


generate_app = typer.Typer(
    help="Generate Prometheus rules, Alertmanager routing and Grafana dashboards.", no_args_is_help=True
)


@generate_app.callback()
def _generate_group(version: VersionOption = False) -> None:
    """Generate Prometheus rules, Alertmanager routing and Grafana dashboards."""


def _check_datasource_uid(uid: str) -> None:
    """Grafana datasource uids are 1-40 letters, digits, '-' or '_'; a usage error (exit 2) otherwise."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid):
        fail(
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
        fail(f"{option} must be an http:// or https:// URL with a host, not {url!r}", EXIT_USAGE)


def _out_dir(path: Path, option: str = "--out") -> None:
    """A path that cannot become a directory (a file, or below one) is a one-line usage error (exit 2),
    found before anything is generated; nothing is created here."""
    for place in (path, *path.parents):
        if place.exists():
            if not place.is_dir():
                what = "is a file" if place == path else f"is below {place}, a file"
                fail(f"{option} {path}: {what}, not a directory", EXIT_USAGE)
            return


@contextmanager
def _writing(path: Path, option: str = "--out") -> Iterator[None]:
    """An OS error while writing under `path` (not writable, no such place) as a one-line usage error."""
    try:
        yield
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(path) else ""
        fail(f"{option} {path}: cannot write there: {exc.strerror or exc}{where}", EXIT_USAGE)


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
        fail(problem, EXIT_USAGE)
    from api.build import BuildOptions

    return BuildOptions(
        fmt=fmt,
        namespace=namespace or DEFAULT_NAMESPACE,
        grafana_url=grafana_url,
        check=check,
        watchkeeper_url=watchkeeper_url,
        secrets_dir=secrets_dir,
    )


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
        fail(problem, EXIT_USAGE)
    options = _build_options(fmt, rule_namespace, grafana_url, check, watchkeeper_url, secrets_dir)
    options = replace(options, datasource_uid=datasource_uid, prometheus_url=prometheus_url)
    if namespace is not None:
        options = replace(options, namespace=namespace)
    from api.build import build_all

    result = load_or_exit(catalog)
    _out_dir(out)
    console = cli_console()
    with _writing(out):
        written = build_all(result.catalog, out, console, options)
    if written is None:
        raise typer.Exit(EXIT_INVALID)
    console.print(f"[green]built[/] {len(written)} artifacts in {out}/")


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
        fail("--tests needs --format prometheus: promtool tests read rule files", EXIT_USAGE)
    from api.build import generate_rule_files

    result = load_or_exit(catalog)
    _out_dir(out)
    if tests is not None:
        _out_dir(tests, "--tests")
    with _writing(out):
        written = generate_rule_files(result.catalog, out, options, cli_console(), tests)
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
        fail(problem, EXIT_USAGE)
    from api.build import BuildOptions, generate_dashboard_files

    result = load_or_exit(catalog)
    _out_dir(out)
    options = BuildOptions(
        namespace=namespace,
        watchkeeper_url=watchkeeper_url,
        datasource_uid=datasource_uid,
        prometheus_url=prometheus_url,
    )
    with _writing(out):
        generate_dashboard_files(result.catalog, out, options, cli_console())


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

    result = load_or_exit(catalog)
    options = BuildOptions(watchkeeper_url=watchkeeper_url, secrets_dir=secrets_dir)
    text = alertmanager_text(result.catalog, options, cli_console())
    if text is None:
        raise typer.Exit(EXIT_INVALID)
    write_text(out, text)
    typer.echo(f"wrote {out}", err=True)
