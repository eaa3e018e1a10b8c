"""`watchkeeper report`: an SLA report from Prometheus, as a table (terminal), JSON or CSV (the same
content as `GET /api/v1/reports/...`, built by api/report_models.py). Libraries import lazily."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api.serve_cli import DatabaseOption, DataDirOption
from sla.report_windows import WINDOWS

if TYPE_CHECKING:
    from rich.table import Table

    from api.report_models import ReportOut

WINDOW_NAMES = WINDOWS
FORMATS = ("table", "json", "csv")


def _fail(message: str, code: int = 1) -> typer.Exit:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, emoji=False, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(message)}"
    )
    return typer.Exit(code)


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.3f}%"


def table(report: ReportOut) -> Table:
    """The report's rows as a rich table."""
    from rich.table import Table

    colours = {"Healthy": "green", "At risk": "yellow", "Exhausted": "bold red", "No data": "dim"}
    w = report.window
    out = Table(
        title=f"{report.level} {report.name}: {w.name} ({w.start:%Y-%m-%d %H:%M} to {w.end:%Y-%m-%d %H:%M} UTC)"
    )
    for column in (
        "level",
        "name",
        "objective",
        "attainment",
        "budget left (min)",
        "left",
        "burn 1h",
        "burn 6h",
    ):
        out.add_column(column, justify="left" if column in {"level", "name"} else "right", overflow="fold")
    out.add_column("exhausted in (h)", justify="right", overflow="fold")
    out.add_column("status", overflow="fold")
    out.add_column("breaches", justify="right", overflow="fold")
    for r in report.rows:
        colour = colours.get(r.status.value, "")
        out.add_row(
            r.level,
            r.name,
            _pct(r.objective),
            _pct(r.attainment),
            _num(r.budget_remaining_minutes, ".1f"),
            _pct(r.budget_remaining_ratio),
            _num(r.burn_rate_1h, ".2f"),
            _num(r.burn_rate_6h, ".2f"),
            _num(None if r.minutes_to_exhaustion is None else r.minutes_to_exhaustion / 60, ".1f"),
            f"[{colour}]{r.status.value}[/]" if colour else r.status.value,
            str(r.breach_count),
        )
    return out


def _warn(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, emoji=False, soft_wrap=True).print(
        f"[bold yellow]warning:[/] {escape(message)}"
    )


def report(
    catalog: Annotated[
        Path, typer.Argument(exists=True, readable=True, help="The catalog YAML file or directory.")
    ],
    prometheus: Annotated[str, typer.Option("--prometheus", help="Prometheus base URL.")],
    team: Annotated[str | None, typer.Option("--team", help="Report on this team.")] = None,
    service: Annotated[str | None, typer.Option("--service", help="Report on this service.")] = None,
    slo: Annotated[str | None, typer.Option("--slo", help="Report on this SLO.")] = None,
    window: Annotated[str, typer.Option("--window", help=f"One of {', '.join(WINDOW_NAMES)}.")] = "30d",
    output: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    at: Annotated[
        str | None, typer.Option("--at", help="Report time, ISO 8601 with a zone (default: now).")
    ] = None,
    database: DatabaseOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """An SLA report (the platform unless --team, --service or --slo): attainment, error budget, burn
    rates and status per SLO and rollup. With --database or --data-dir (the service's), the posted
    corrections and the ledger's breaches are read too, as the API does; without, a warning says they
    are not. Exit 1 if Prometheus or the database cannot answer."""
    chosen = [(lvl, name) for lvl, name in (("team", team), ("service", service), ("slo", slo)) if name]
    if len(chosen) > 1:
        raise _fail("give at most one of --team, --service and --slo", 2)
    if window not in WINDOW_NAMES:
        raise _fail(f"--window must be one of {', '.join(WINDOW_NAMES)}, not {window!r}", 2)
    if output not in FORMATS:
        raise _fail(f"--format must be one of {', '.join(FORMATS)}, not {output!r}", 2)
    when = _parse_at(at)
    from api.cli_common import load_or_exit
    from api.report_models import UnknownNameError, check_name, report_out, to_csv
    from sla.queries import QueryError, connect
    from sla.report_run import make_report, report_slos

    loaded = load_or_exit(catalog).catalog
    level, name = chosen[0] if chosen else ("platform", None)
    try:
        check_name(loaded, level, name)  # type: ignore[arg-type]
    except UnknownNameError as exc:
        raise _fail(str(exc)) from None
    engine = None
    if database is None and data_dir is None:
        _warn(
            "no --database or --data-dir: corrections posted to the API (and the ledger's breaches) are "
            "not read; this report may differ from GET /api/v1/reports"
        )
    else:
        from api.serve_cli import _migrated_engine

        engine, _message = _migrated_engine(database, data_dir)
    try:
        only = report_slos(loaded, level, name)
        built = make_report(loaded, connect(prometheus, 10), window, when, engine, only)
        out = report_out(built, loaded, level, name, when)  # type: ignore[arg-type]
    except UnknownNameError as exc:
        raise _fail(str(exc)) from None
    except QueryError as exc:
        raise _fail(f"cannot compute the report: {exc}") from None
    if output == "json":
        typer.echo(out.model_dump_json(indent=2))
    elif output == "csv":
        typer.echo(to_csv(out), nl=False)
    else:
        print_table(out)


def print_table(out: ReportOut) -> None:
    """The table, never cut: in a terminal, wide cells fold onto more lines; in a pipe or a file the
    console is as wide as the table needs (rich would otherwise assume 80 columns and cut it)."""
    from rich.console import Console
    from rich.measure import Measurement

    console = Console(emoji=False)
    rendered = table(out)
    if not console.is_terminal:
        needed = Measurement.get(console, console.options.update(max_width=100_000), rendered).maximum
        console = Console(width=max(needed, 80), soft_wrap=False, emoji=False)
    console.print(rendered)


def _parse_at(at: str | None) -> datetime:
    from datetime import UTC

    if at is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"--at must be an ISO 8601 time such as 2026-11-22T12:00:00Z, not {at!r}", 2) from None
    if when.tzinfo is None:
        raise _fail(f"--at needs a zone (Z or +01:00): {at!r}", 2)
    return when.astimezone(UTC)
