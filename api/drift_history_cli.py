"""`watchkeeper drift history MONITOR`: the retraining triggers' audit trail, read-only.

Registered on the `drift` app by `api/drift_cli.py`. Only typer is imported at module level.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.drift_common import EXIT_RUNTIME, EXIT_USAGE, console, fail, load, monitors, when
from api.serve_cli import DatabaseOption, DataDirOption

if TYPE_CHECKING:
    from sqlalchemy import Engine


def existing_store(database: str | None, data_dir: Path | None) -> Engine:
    """The trigger database for reading: never created or migrated (a mistyped path is an error, exit 2)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from drift.trigger_store import audit_table
    from sla.store.engine import make_engine, resolve_url
    from sla.store.errors import StoreError

    try:
        url = resolve_url(database, data_dir)
    except StoreError as exc:
        fail(f"the trigger database: {exc}", EXIT_USAGE)
    local = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if local and not Path(url.database or "").is_file():
        fail(
            f"no database at {url.database}: check --database (`drift run` creates it when a monitor "
            "with `retrain:` runs)",
            EXIT_USAGE,
        )
    try:
        engine = make_engine(url)
        has_table = inspect(engine).has_table(audit_table.name)
    except (StoreError, SQLAlchemyError) as exc:
        fail(f"the trigger database: {str(exc).splitlines()[0]}", EXIT_RUNTIME)
    if not has_table:
        fail(
            f"the database {url.render_as_string(hide_password=True)} has no trigger audit table: no "
            "`drift run` with a retraining trigger has used it (check --database)",
            EXIT_USAGE,
        )
    return engine


def drift_history(
    monitor: Annotated[str, typer.Argument(help="The drift monitor's name.")],
    database: DatabaseOption = None,
    data_dir: DataDirOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest rows shown.")] = 50,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    catalog_path: Annotated[
        Path | None, typer.Option("--catalog", help="Check the monitor's name against this catalog.")
    ] = None,
) -> None:
    """The retraining triggers' audit trail of a monitor: triggered, suppressed, failed, succeeded.
    Read-only: the database must exist (it is never created or migrated here)."""
    from drift import trigger_store

    if fmt not in ("table", "json"):
        fail(f"--format {fmt!r}: use table or json", EXIT_USAGE)
    if catalog_path is not None:
        monitors(load(catalog_path), [monitor], catalog_path)
    engine = existing_store(database, data_dir)
    rows = trigger_store.history(engine, monitor, limit)
    if fmt == "json":
        typer.echo(
            json.dumps(
                [
                    {
                        "at": when(r.at),
                        "monitor": r.monitor,
                        "breach": r.breach_key,
                        "decision": r.decision,
                        "attempt": r.attempt,
                        "detail": r.detail,
                    }
                    for r in rows
                ]
            )
        )
        return
    from rich.markup import escape
    from rich.table import Table

    if not rows:
        recorded = sorted({r.monitor for r in trigger_store.history(engine, None, 10_000)})
        known = f" (recorded: {', '.join(recorded)})" if recorded else " (none recorded for any monitor)"
        console().print(f"no trigger decisions recorded for {escape(monitor)}{escape(known)}")
        return
    table = Table(title=f"retraining triggers of {escape(monitor)} (newest first)", title_justify="left")
    for name in ("time (UTC)", "decision", "breach", "attempt", "detail"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            when(r.at), r.decision, (r.breach_key or "-")[:12], str(r.attempt or "-"), escape(r.detail)
        )
    console().print(table)
