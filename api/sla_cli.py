"""`watchkeeper sla backfill`: write the monthly snapshots (sla/snapshots.py) of closed months that are
missing from the database, computed from Prometheus while it still holds their data. Libraries import
lazily, so `watchkeeper --help` stays fast."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from api.serve_cli import DatabaseOption, DataDirOption

sla_app = typer.Typer(help="SLA history: monthly snapshots.", no_args_is_help=True)
DEFAULT_MONTHS = 12


EARLIEST_MONTH = datetime(2000, 1, 1, tzinfo=UTC)
"""The oldest month `sla backfill --since` accepts."""


def _fail(message: str, code: int = 1) -> typer.Exit:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, emoji=False, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(message)}"
    )
    return typer.Exit(code)


@sla_app.command("backfill")
def backfill(
    catalog: Annotated[
        Path, typer.Argument(exists=True, readable=True, help="The catalog YAML file or directory.")
    ],
    prometheus: Annotated[str, typer.Option("--prometheus", help="Prometheus base URL.")],
    database: DatabaseOption = None,
    data_dir: DataDirOption = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help=f"First month, YYYY-MM (default: {DEFAULT_MONTHS} months back)."),
    ] = None,
) -> None:
    """Snapshot every closed month since --since that lacks a snapshot for some SLO. Stored months are
    never changed; SLOs without data in a month are reported and not stored. Exit 1 if Prometheus fails
    (the months already written stay)."""
    from datetime import UTC, datetime, timedelta

    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from api.cli_common import load_or_exit
    from api.serve_cli import _migrated_engine
    from sla.queries import QueryError, connect
    from sla.report_windows import period_bounds
    from sla.snapshot_run import missing, snapshot_month
    from sla.snapshots import closed_months, month_key, parse_month

    now = datetime.now(UTC)
    if since is None:
        first = period_bounds("month", now)[0]
        for _ in range(DEFAULT_MONTHS):
            first = period_bounds("month", first - timedelta(days=1))[0]
    else:
        try:
            first = parse_month(since)
        except ValueError as exc:
            raise _fail(f"--since: {exc}", 2) from None
        if first < EARLIEST_MONTH:
            raise _fail(
                f"--since {since}: months before {EARLIEST_MONTH:%Y-%m} are refused (no Prometheus holds "
                "them; each month is a query)",
                2,
            )
        if first > now:
            raise _fail(f"--since {since} is in the future", 2)
    loaded = load_or_exit(catalog).catalog
    engine, message = _migrated_engine(database, data_dir)
    console = Console(stderr=True, highlight=False, emoji=False)
    console.print(escape(message))
    months = list(closed_months(first, now))
    todo = missing(loaded, engine, months)
    console.print(f"{len(months)} closed months since {month_key(first)}, {len(todo)} to snapshot")
    client = connect(prometheus, 30)
    written_total = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("snapshots", total=len(todo))
        for month in todo:
            progress.update(task, description=f"month {month_key(month)}")
            try:
                written, without = snapshot_month(loaded, client, engine, month, now)
            except QueryError as exc:
                raise _fail(f"month {month_key(month)}: {exc}") from None
            written_total += written
            progress.console.print(
                f"{month_key(month)}: {written} snapshots written, {without} SLOs without data (not stored)"
            )
            progress.advance(task)
    typer.echo(f"{written_total} snapshots written")
