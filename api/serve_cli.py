"""`watchkeeper serve` and `watchkeeper db upgrade`: the SLA service and its schema migrations.

Only typer is imported at module level, so `watchkeeper --help` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from catalog.model import Catalog

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="Database URL (sqlite:///file.db or postgresql://user@host/db); default: "
        "$WATCHKEEPER_DATABASE_URL, else SQLite in the data directory.",
        show_default=False,
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Directory of the default SQLite database (default: $WATCHKEEPER_DATA_DIR, else "
        "$XDG_DATA_HOME/watchkeeper); created on first start.",
        show_default=False,
    ),
]
db_app = typer.Typer(help="Manage the SLA service's database.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, emoji=False, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(message)}"
    )
    return typer.Exit(code)


def _migrated_engine(database: str | None, data_dir: Path | None) -> tuple[Engine, str]:
    """An engine on the database, migrated to the head revision; (engine, what changed)."""
    from sla.store.engine import make_engine, resolve_url, safe_url
    from sla.store.errors import StoreError
    from sla.store.migrate import upgrade

    try:
        url = resolve_url(database, data_dir)
        engine = make_engine(url)
        before, after = upgrade(engine)
    except StoreError as exc:
        raise _fail(str(exc)) from None
    change = f"at revision {after}" if before == after else f"migrated from {before or 'empty'} to {after}"
    return engine, f"database {safe_url(url)}: {change}"


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOption = None, data_dir: DataDirOption = None) -> None:
    """Migrate the database to this version's schema (serve does this on start too)."""
    _engine, message = _migrated_engine(database, data_dir)
    typer.echo(message, err=True)


def _token(token_file: Path | None) -> str:
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(
                f"cannot read --token-file {token_file}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        if not token:
            raise _fail(f"--token-file {token_file} is empty: write the API token into it")
        return token
    from rules.alertmanager import API_TOKEN_ENV

    token = os.environ.get(API_TOKEN_ENV, "").strip()
    if not token:
        raise _fail(
            f"the API needs a bearer token: set {API_TOKEN_ENV} or pass --token-file (the file Alertmanager's "
            "credentials_file points at)",
            2,
        )
    return token


def serve(
    catalog: Annotated[
        Path, typer.Argument(exists=True, readable=True, help="The catalog YAML file or directory.")
    ],
    listen: Annotated[str, typer.Option("--listen", help="host:port to serve on.")] = "127.0.0.1:8000",
    database: DatabaseOption = None,
    data_dir: DataDirOption = None,
    prometheus: Annotated[
        str | None,
        typer.Option("--prometheus", help="Prometheus base URL (reports read it; /readyz checks it)."),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help="File holding the API bearer token (else $WATCHKEEPER_API_TOKEN)."),
    ] = None,
    public_read: Annotated[
        bool, typer.Option("--public-read", help="Let GET endpoints answer without a token.")
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the SLA service: the breach ledger Alertmanager posts to (/api/v1/alerts), SLA reports
    (/api/v1/reports: JSON, CSV, HTML; needs --prometheus), corrections (/api/v1/corrections), monthly
    snapshots (/api/v1/reports/history), /healthz, /readyz and /metrics."""
    host, _, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _fail(f"--listen must be host:port, such as 127.0.0.1:8000, not {listen!r}", 2)
    if log_level.lower() not in {"debug", "info", "warning", "error"}:
        raise _fail(f"--log-level must be debug, info, warning or error, not {log_level!r}", 2)
    token = _token(token_file)
    from api.cli_common import load_or_exit

    loaded = load_or_exit(catalog).catalog
    engine, message = _migrated_engine(database, data_dir)
    typer.echo(message, err=True)
    _run(
        engine,
        token,
        prometheus,
        public_read,
        {s.name: s.team for s in loaded.services},
        host,
        port_text,
        log_level,
        loaded,
    )


def _run(
    engine: Engine,
    token: str,
    prometheus: str | None,
    public_read: bool,
    teams_by_service: dict[str, str],
    host: str,
    port_text: str,
    log_level: str,
    catalog: Catalog | None = None,
) -> None:
    import uvicorn
    from pydantic import SecretStr

    from api.app import create_app
    from api.service_state import ServiceSettings, ServiceState

    settings = ServiceSettings(SecretStr(token), public_read=public_read, prometheus_url=prometheus)
    app = create_app(ServiceState(engine, settings, teams_by_service, catalog=catalog))
    try:
        uvicorn.run(app, host=host.strip("[]"), port=int(port_text), log_level=log_level.lower())
    finally:
        engine.dispose()
