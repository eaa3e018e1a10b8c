"""`watchkeeper drift run | serve | history`: the catalog's drift monitors, their metrics, reports and
retraining triggers.

Exit codes of `run`: 0 every monitor ran and none found dataset drift, 1 dataset drift found, 2 a usage or
catalog error, 3 a run gave no clean verdict (bad data, missing column, schema drift, all-NaN) or the
Pushgateway, the report, the trigger database or a retraining trigger (refused or given up) failed.
Only typer is imported at module level.
"""

from __future__ import annotations

import json
import os
import signal
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer

from api.serve_cli import DatabaseOption, DataDirOption

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine

    from catalog.model import Catalog, DriftMonitor
    from drift.run import RunOptions, RunOutcome
    from drift.triggers import Trigger

EXIT_OK, EXIT_DRIFT, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2, 3
MIGRATE_ATTEMPTS = 4
drift_app = typer.Typer(
    help="Run drift monitors, serve them on their schedules, show trigger history.", no_args_is_help=True
)

CatalogArg = Annotated[Path, typer.Argument(exists=True, readable=True, help="Catalog file or directory.")]
EngineOption = Annotated[
    str, typer.Option("--engine", help="fast (vectorised, the default) or evidently (Evidently's preset).")
]
PushgatewayOption = Annotated[
    str | None,
    typer.Option(
        "--pushgateway",
        help="Push each run's metrics here, e.g. http://pushgateway:9091.",
        show_default=False,
    ),
]
ReportsOption = Annotated[
    Path | None,
    typer.Option(
        "--reports",
        help="Directory for the per-run Evidently HTML reports (none if not given).",
        show_default=False,
    ),
]
KeepOption = Annotated[
    int, typer.Option("--keep", min=1, help="Reports kept per monitor (older ones deleted).")
]
NoTriggerOption = Annotated[
    bool, typer.Option("--no-trigger", help="Never fire retraining triggers (and open no database).")
]


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    console = Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 10_000  # piped or logged: never cut tables to rich's 80-column default
    return console


def _fail(message: str, code: int) -> NoReturn:
    from rich.markup import escape

    _console(True).print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def _catalog(path: Path) -> Catalog:
    from catalog import CatalogError, load_catalog

    try:
        return load_catalog(path).catalog
    except CatalogError as exc:
        for problem in exc.problems[:20]:
            _console(True).print(f"error: {problem}", markup=False)
        _fail(
            f"the catalog {path} is invalid ({len(exc.problems)} problem(s)): run `watchkeeper validate {path}`",
            EXIT_USAGE,
        )


def _monitors(catalog: Catalog, names: list[str], path: Path) -> list[DriftMonitor]:
    import difflib

    known = {m.name: m for m in catalog.drift}
    if not known:
        _fail(
            f"the catalog {path} has no drift monitors: add them under `drift:` (docs/catalog.md)", EXIT_USAGE
        )
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            _fail(
                f"unknown drift monitor {name!r}{hint} (the catalog has: {', '.join(sorted(known))})",
                EXIT_USAGE,
            )
    return [known[n] for n in names] if names else list(known.values())


def _engine_name(engine: str) -> Literal["fast", "evidently"]:
    if engine not in ("fast", "evidently"):
        _fail(f"--engine {engine!r}: use fast or evidently", EXIT_USAGE)
    return "fast" if engine == "fast" else "evidently"


def _store(database: str | None, data_dir: Path | None) -> Engine:
    from sla.store.engine import make_engine, resolve_url
    from sla.store.errors import StoreError
    from sla.store.migrate import upgrade

    try:
        engine = make_engine(resolve_url(database, data_dir))
    except StoreError as exc:
        _fail(f"the trigger database: {exc}", EXIT_RUNTIME)
    for attempt in range(MIGRATE_ATTEMPTS):
        try:
            upgrade(engine)
            return engine
        except StoreError as exc:
            # concurrent first runs on a fresh database race to create the tables: the loser retries
            if attempt == MIGRATE_ATTEMPTS - 1:
                _fail(f"the trigger database: {exc}", EXIT_RUNTIME)
            time.sleep(0.5 + attempt)
    return engine


def _existing_store(database: str | None, data_dir: Path | None) -> Engine:
    """The trigger database for reading: never created or migrated (a mistyped path is an error, exit 2)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from drift.trigger_store import audit_table
    from sla.store.engine import make_engine, resolve_url
    from sla.store.errors import StoreError

    try:
        url = resolve_url(database, data_dir)
    except StoreError as exc:
        _fail(f"the trigger database: {exc}", EXIT_USAGE)
    local = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if local and not Path(url.database or "").is_file():
        _fail(
            f"no database at {url.database}: check --database (`drift run` creates it when a monitor "
            "with `retrain:` runs)",
            EXIT_USAGE,
        )
    try:
        engine = make_engine(url)
        has_table = inspect(engine).has_table(audit_table.name)
    except (StoreError, SQLAlchemyError) as exc:
        _fail(f"the trigger database: {str(exc).splitlines()[0]}", EXIT_RUNTIME)
    if not has_table:
        _fail(
            f"the database {url.render_as_string(hide_password=True)} has no trigger audit table: no "
            "`drift run` with a retraining trigger has used it (check --database)",
            EXIT_USAGE,
        )
    return engine


def _triggers(
    monitors: list[DriftMonitor], no_trigger: bool, database: str | None, data_dir: Path | None
) -> dict[str, Trigger]:
    if no_trigger or not any(m.retrain for m in monitors):
        return {}
    from drift.triggers import build_trigger
    from exporters.errors import ConfigError

    engine = _store(database, data_dir)
    out: dict[str, Trigger] = {}
    for mon in monitors:
        try:
            trigger = build_trigger(engine, mon, on_event=partial(_note, mon.name))
        except ConfigError as exc:
            _fail(str(exc), EXIT_USAGE)
        if trigger is not None:
            out[mon.name] = trigger
    return out


def _note(monitor: str, message: str) -> None:
    from rich.markup import escape

    _console(True).print(f"[dim]{escape(monitor)}:[/] {escape(message)}")


def _options(path: Path, engine: str, pushgateway: str | None, reports: Path | None, keep: int) -> RunOptions:
    from drift.run import RunOptions

    base = path if path.is_dir() else path.parent
    return RunOptions(_engine_name(engine), base.resolve(), pushgateway, reports, keep)


def _exit_code(outcomes: list[RunOutcome]) -> int:
    if any(not o.ok or o.publish_error or o.report_error or o.trigger_error for o in outcomes):
        return EXIT_RUNTIME
    return EXIT_DRIFT if any(o.result and o.result.dataset_drift for o in outcomes) else EXIT_OK


def print_table(outcome: RunOutcome, console: Console) -> None:
    """The run's columns: test, score, threshold, verdict; then its problems and what it did."""
    from rich.markup import escape
    from rich.table import Table

    result = outcome.result
    if result is None:
        console.print(
            f"[bold]{escape(outcome.monitor)}[/]: [red]no verdict[/]: {escape(outcome.error or '')}"
        )
        return
    verdict = "[red]DRIFT[/]" if result.dataset_drift else "[green]no drift[/]"
    title = (
        f"{outcome.monitor}: {result.drifted}/{len(result.columns)} columns drifted "
        f"(share {result.drift_share:.3f}, threshold {result.drift_share_threshold:g})"
    )
    table = Table(title=escape(title), title_justify="left")
    for name, justify in (
        ("column", "left"),
        ("test", "left"),
        ("score", "right"),
        ("threshold", "right"),
        ("verdict", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for c in result.columns:
        score = "-" if c.score is None else f"{c.score:.6g}"
        shown = (
            f"[yellow]problem[/]: {escape(c.problem)}"
            if c.problem
            else ("[red]drift[/]" if c.drift else "ok")
        )
        threshold = "-" if c.problem else f"{c.threshold:g}"  # an untested column has no threshold
        table.add_row(escape(c.column), escape(c.stattest), score, threshold, shown)
    console.print(table)
    console.print(
        f"dataset: {verdict} ({result.engine} engine, {result.reference_rows} reference / "
        f"{result.current_rows} current rows, {outcome.duration:.2f} s)"
    )
    for problem in outcome.problems:
        console.print(f"[yellow]problem:[/] {escape(problem)}")
    for note in outcome.notes:
        console.print(f"note: {escape(note)}")
    for key in ("publish_error", "report_error", "trigger_error"):
        if getattr(outcome, key):
            console.print(f"[red]error:[/] {escape(getattr(outcome, key))}")
    if outcome.published:
        console.print(f"pushed {escape(outcome.published)}")
    if outcome.report:
        console.print(f"report {escape(str(outcome.report))}")
    if outcome.trigger:
        console.print(f"retraining: {escape(outcome.trigger)}")


@drift_app.command("run")
def drift_run(
    catalog: CatalogArg,
    monitors: Annotated[
        list[str] | None, typer.Argument(help="Monitors to run (default: all).", show_default=False)
    ] = None,
    engine: EngineOption = "fast",
    fmt: Annotated[
        str, typer.Option("--format", help="table or json (one JSON object per monitor and line).")
    ] = "table",
    pushgateway: PushgatewayOption = None,
    reports: ReportsOption = None,
    keep: KeepOption = 20,
    no_trigger: NoTriggerOption = False,
    database: DatabaseOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Run drift monitors once: per-column verdicts, metrics, an HTML report, retraining on a breach."""
    from drift.run import run_monitor

    if fmt not in ("table", "json"):
        _fail(f"--format {fmt!r}: use table or json", EXIT_USAGE)
    options = _options(catalog, engine, pushgateway, reports, keep)
    chosen = _monitors(_catalog(catalog), list(monitors or []), catalog)
    triggers = _triggers(chosen, no_trigger, database, data_dir)
    console = _console()
    outcomes = []
    for mon in chosen:
        outcome = run_monitor(mon, options, triggers.get(mon.name), partial(_note, mon.name))
        outcomes.append(outcome)
        if fmt == "json":
            typer.echo(json.dumps(outcome.to_json(), sort_keys=False, allow_nan=False))
        else:
            print_table(outcome, console)
    raise typer.Exit(_exit_code(outcomes))


@drift_app.command("serve")
def drift_serve(
    catalog: CatalogArg,
    engine: EngineOption = "fast",
    pushgateway: PushgatewayOption = None,
    reports: ReportsOption = None,
    keep: KeepOption = 20,
    no_trigger: NoTriggerOption = False,
    database: DatabaseOption = None,
    data_dir: DataDirOption = None,
    run_now: Annotated[
        bool, typer.Option("--run-now/--wait", help="Run every monitor at start, or wait for its first slot.")
    ] = True,
) -> None:
    """Run every monitor on its catalog schedule until SIGTERM or Ctrl-C, showing the next runs."""
    from drift.run import run_monitor
    from drift.schedule import Plan

    options = _options(catalog, engine, pushgateway, reports, keep)
    chosen = _monitors(_catalog(catalog), [], catalog)
    triggers = _triggers(chosen, no_trigger, database, data_dir)
    by_name = {m.name: m for m in chosen}
    plan = Plan.starting({m.name: m.schedule.seconds for m in chosen}, time.time(), run_now)
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    console = _console(True)
    last: dict[str, str] = {}
    console.print(f"serving {len(chosen)} drift monitor(s); SIGTERM or Ctrl-C stops after the current run")
    try:
        while not stopping:
            for name in plan.due(time.time()):
                if stopping:
                    break
                outcome = run_monitor(by_name[name], options, triggers.get(name), partial(_note, name))
                last[name] = _summary(outcome)
                nxt = plan.done(name, time.time())
                _note(name, f"{last[name]}; next run {_when(nxt)}")
            if not stopping:
                _show_plan(console, plan, last)
                _sleep(plan.wait(time.time()), stopping)
    except KeyboardInterrupt:
        pass
    console.print("stopped")


def _sleep(seconds: float, stopping: list[int]) -> None:
    deadline = time.monotonic() + seconds
    while not stopping and time.monotonic() < deadline:
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def _summary(outcome: RunOutcome) -> str:
    if outcome.error:
        return f"no verdict: {outcome.error}"
    assert outcome.result is not None
    text = "DRIFT" if outcome.result.dataset_drift else "no drift"
    text += f" ({outcome.result.drifted}/{len(outcome.result.columns)} columns, {outcome.duration:.1f} s)"
    if outcome.problems:
        text += f"; {len(outcome.problems)} problem(s): {outcome.problems[0]}"
    for extra in (outcome.publish_error, outcome.report_error, outcome.trigger, outcome.trigger_error):
        if extra:
            text += f"; {extra}"
    return text


def _show_plan(console: Console, plan: object, last: dict[str, str]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from drift.schedule import Plan

    assert isinstance(plan, Plan)
    table = Table(title="next drift runs", title_justify="left")
    for name in ("monitor", "next run (UTC)", "every", "last run"):
        table.add_column(name)
    for name, at in plan.upcoming():
        table.add_row(escape(name), _when(at), f"{plan.schedules[name]:g}s", escape(last.get(name, "-")))
    console.print(table)


@drift_app.command("history")
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
        _fail(f"--format {fmt!r}: use table or json", EXIT_USAGE)
    if catalog_path is not None:
        _monitors(_catalog(catalog_path), [monitor], catalog_path)
    engine = _existing_store(database, data_dir)
    rows = trigger_store.history(engine, monitor, limit)
    if fmt == "json":
        typer.echo(
            json.dumps(
                [
                    {
                        "at": _when(r.at),
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
        _console().print(f"no trigger decisions recorded for {escape(monitor)}{escape(known)}")
        return
    table = Table(title=f"retraining triggers of {escape(monitor)} (newest first)", title_justify="left")
    for name in ("time (UTC)", "decision", "breach", "attempt", "detail"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            _when(r.at), r.decision, (r.breach_key or "-")[:12], str(r.attempt or "-"), escape(r.detail)
        )
    _console().print(table)
