"""Option definitions shared by `watchkeeper build` and the `generate` commands, defined once.

Only typer is imported here: the CLI's `--help` must stay fast.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

FORMATS = ("prometheus", "prometheusrule")
DEFAULT_FORMAT = "prometheus"
DEFAULT_NAMESPACE = "monitoring"
DEFAULT_GRAFANA_URL = "http://grafana:3000"
DEFAULT_WATCHKEEPER_URL = "http://watchkeeper-api:8000"
DEFAULT_SECRETS_DIR = "/etc/alertmanager/secrets"
_NAMESPACE_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

FormatOption = Annotated[
    str, typer.Option("--format", help="prometheus (rule files) or prometheusrule (Kubernetes objects).")
]
NamespaceOption = Annotated[
    str | None,
    typer.Option(
        "--namespace",
        help=f"Namespace of the PrometheusRule objects (with --format prometheusrule; default {DEFAULT_NAMESPACE}).",
        show_default=False,
    ),
]
GrafanaOption = Annotated[
    str,
    typer.Option(
        "--grafana-url",
        help="Base URL for dashboard links in alerts, and for runbook links of services without a runbook.",
    ),
]
CheckOption = Annotated[
    bool, typer.Option("--check/--no-check", help="Check every rule with promtool before writing.")
]
WatchkeeperUrlOption = Annotated[
    str,
    typer.Option("--watchkeeper-url", help="Base URL of the Watchkeeper API (alert ledger and watchdog)."),
]
SecretsDirOption = Annotated[
    str,
    typer.Option(
        "--secrets-dir", help="Where Alertmanager finds secret files named after the catalog's *_env."
    ),
]
CatalogJoinOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        exists=True,
        readable=True,
        help="The catalog the import joins: teams and services it already defines are not written again, and "
        "the result is validated together with it (default: the --out directory when it holds a catalog).",
        show_default=False,
    ),
]

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


def rule_format_problem(fmt: str, namespace: str | None) -> str | None:
    """Why `--format`/`--namespace` cannot be used as given, or None."""
    if fmt not in FORMATS:
        return f"--format must be prometheus or prometheusrule, not {fmt!r}"
    if namespace is not None and fmt != "prometheusrule":
        return "--namespace applies to --format prometheusrule (PrometheusRule objects); add that or drop it"
    if namespace is not None and not _NAMESPACE_RE.match(namespace):
        return (
            f"--namespace must be a Kubernetes namespace name (lower-case letters, digits and '-', at most "
            f"63 characters, starting and ending with a letter or digit), not {namespace!r}"
        )
    return None
