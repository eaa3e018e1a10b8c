"""`watchkeeper drift run | serve | history`: the catalog's drift monitors, their metrics, reports and
retraining triggers. This module runs monitors (`run`, `serve`); `api/drift_output.py` shows the runs,
`api/drift_history_cli.py` is `history`, `api/drift_common.py` holds what they share.

Exit codes of `run`: 0 every monitor ran and none found dataset drift, 1 dataset drift found, 2 a usage or
catalog error, 3 a run gave no clean verdict (bad data, missing column, schema drift, all-NaN, over
`--timeout`) or the Pushgateway, the report, the trigger database or a retraining trigger (refused or
given up) failed. Only typer is imported at module level.
"""

from __future__ import annotations

import json
import math
import signal
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from api.drift_common import (
    EXIT_DRIFT,
    EXIT_OK,
    EXIT_RUNTIME,
    EXIT_USAGE,
    console,
    fail,
    load,
    note,
    when,
)
from api.drift_common import monitors as select_monitors
from api.drift_history_cli import drift_history
from api.serve_cli import DatabaseOption, DataDirOption

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from catalog.model import DriftMonitor
    from drift.run import RunOptions, RunOutcome
    from drift.triggers import Trigger

MIGRATE_ATTEMPTS = 4
MAX_TIMEOUT = 7 * 24 * 3600.0
"""The longest `--timeout`: the longest schedule (7d)."""
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
TimeoutOption = Annotated[
    str | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="Abandon a monitor's run (loading, testing, report) after this many seconds: it fails like a "
        "run on unusable input (run_failed is pushed, nothing is triggered). Default: no limit.",
        show_default=False,
    ),
]


def parse_timeout(text: str | None) -> float | None:
    """`--timeout`: seconds above 0, at most 7 days; anything else exits 2 with the fix."""
    if text is None:
        return None
    try:
        seconds = float(text.strip())
    except ValueError:
        from catalog.durations import Duration

        try:
            hint = f": in seconds, that is --timeout {Duration.parse(text.strip()).seconds:g}"
        except ValueError:
            hint = ", e.g. --timeout 600 for ten minutes"
        fail(f"--timeout {text!r} is not a number of seconds{hint}", EXIT_USAGE)
    if not math.isfinite(seconds) or seconds <= 0:
        fail(f"--timeout {text!r}: give the seconds a run may take, a number above 0 (e.g. 600)", EXIT_USAGE)
    if seconds > MAX_TIMEOUT:
        fail(
            f"--timeout {text!r}: at most {MAX_TIMEOUT:g} seconds (7 days, the longest schedule)", EXIT_USAGE
        )
    return seconds


def _engine_name(engine: str) -> Literal["fast", "evidently"]:
    if engine not in ("fast", "evidently"):
        fail(f"--engine {engine!r}: use fast or evidently", EXIT_USAGE)
    return "fast" if engine == "fast" else "evidently"


def _store(database: str | None, data_dir: Path | None) -> Engine:
    from sla.store.engine import make_engine, resolve_url
    from sla.store.errors import StoreError
    from sla.store.migrate import upgrade

    try:
        engine = make_engine(resolve_url(database, data_dir))
    except StoreError as exc:
        fail(f"the trigger database: {exc}", EXIT_RUNTIME)
    for attempt in range(MIGRATE_ATTEMPTS):
        try:
            upgrade(engine)
            return engine
        except StoreError as exc:
            # concurrent first runs on a fresh database race to create the tables: the loser retries
            if attempt == MIGRATE_ATTEMPTS - 1:
                fail(f"the trigger database: {exc}", EXIT_RUNTIME)
            time.sleep(0.5 + attempt)
    return engine


def _triggers(
    chosen: list[DriftMonitor], no_trigger: bool, database: str | None, data_dir: Path | None
) -> dict[str, Trigger]:
    if no_trigger or not any(m.retrain for m in chosen):
        return {}
    from drift.triggers import build_trigger
    from exporters.errors import ConfigError

    engine = _store(database, data_dir)
    out: dict[str, Trigger] = {}
    for mon in chosen:
        try:
            trigger = build_trigger(engine, mon, on_event=partial(note, mon.name))
        except ConfigError as exc:
            fail(str(exc), EXIT_USAGE)
        if trigger is not None:
            out[mon.name] = trigger
    return out


def _options(
    path: Path, engine: str, pushgateway: str | None, reports: Path | None, keep: int, timeout: str | None
) -> RunOptions:
    from drift.run import RunOptions

    seconds = parse_timeout(timeout)
    base = path if path.is_dir() else path.parent
    return RunOptions(_engine_name(engine), base.resolve(), pushgateway, reports, keep, seconds)


def _exit_code(outcomes: list[RunOutcome]) -> int:
    if any(not o.ok or o.publish_error or o.report_error or o.trigger_error for o in outcomes):
        return EXIT_RUNTIME
    return EXIT_DRIFT if any(o.result and o.result.dataset_drift for o in outcomes) else EXIT_OK


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
    timeout: TimeoutOption = None,
) -> None:
    """Run drift monitors once: per-column verdicts, metrics, an HTML report, retraining on a breach."""
    from api.drift_output import print_table
    from drift.run import run_monitor

    if fmt not in ("table", "json"):
        fail(f"--format {fmt!r}: use table or json", EXIT_USAGE)
    options = _options(catalog, engine, pushgateway, reports, keep, timeout)
    chosen = select_monitors(load(catalog), list(monitors or []), catalog)
    triggers = _triggers(chosen, no_trigger, database, data_dir)
    out = console()
    outcomes = []
    for mon in chosen:
        outcome = run_monitor(mon, options, triggers.get(mon.name), partial(note, mon.name))
        outcomes.append(outcome)
        if fmt == "json":
            typer.echo(json.dumps(outcome.to_json(), sort_keys=False, allow_nan=False))
        else:
            print_table(outcome, out)
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
    timeout: TimeoutOption = None,
) -> None:
    """Run every monitor on its catalog schedule until SIGTERM or Ctrl-C, showing the next runs. A run
    over --timeout is abandoned and counted as failed; the monitor runs again at its next slot."""
    from api.drift_output import show_plan, summary
    from drift.run import run_monitor
    from drift.schedule import Plan

    options = _options(catalog, engine, pushgateway, reports, keep, timeout)
    chosen = select_monitors(load(catalog), [], catalog)
    triggers = _triggers(chosen, no_trigger, database, data_dir)
    by_name = {m.name: m for m in chosen}
    plan = Plan.starting({m.name: m.schedule.seconds for m in chosen}, time.time(), run_now)
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    err = console(True)
    last: dict[str, str] = {}
    limit = f", each run within {options.timeout:g} s" if options.timeout is not None else ""
    err.print(f"serving {len(chosen)} drift monitor(s){limit}; SIGTERM or Ctrl-C stops after the current run")
    try:
        while not stopping:
            for name in plan.due(time.time()):
                if stopping:
                    break
                outcome = run_monitor(by_name[name], options, triggers.get(name), partial(note, name))
                last[name] = summary(outcome)
                nxt = plan.done(name, time.time())
                note(name, f"{last[name]}; next run {when(nxt)}")
            if not stopping:
                show_plan(err, plan, last)
                _sleep(plan.wait(time.time()), stopping)
    except KeyboardInterrupt:
        pass
    err.print("stopped")


def _sleep(seconds: float, stopping: list[int]) -> None:
    deadline = time.monotonic() + seconds
    while not stopping and time.monotonic() < deadline:
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


drift_app.command("history")(drift_history)
