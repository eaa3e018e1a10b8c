"""A drift run's loading, testing and report under a deadline (`drift run|serve --timeout`).

They run in a forked child process, which reports back through a pipe: each step as it starts, the
verdict, then the report. When the time is up the child is abandoned: interrupted (SIGINT, so psycopg
cancels a PostgreSQL query on the server), killed after a short grace, and the run has no verdict, like
a run on unusable input (`run_failed` is published, nothing is triggered). A child that dies (the kernel's
out-of-memory killer on a huge file) fails the run the same way instead of taking the caller with it.
A report still being written when the time is up is dropped; the verdict stands, with `report_error`.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import signal
import time
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from catalog.model import DriftMonitor

if TYPE_CHECKING:
    from collections.abc import Callable

    from drift.run import RunOptions, RunOutcome

GRACE = 3.0
"""Seconds an interrupted child gets to cancel its query and exit before it is killed."""
VERDICT_FIELDS = ("result", "error", "problems", "nonfinite", "duration")


def evaluate_within(
    monitor: DriftMonitor, options: RunOptions, outcome: RunOutcome, on_event: Callable[[str], None]
) -> None:
    """`decide` and `write_report` of `drift.run` in a child, within `options.timeout` seconds."""
    import multiprocessing

    assert options.timeout is not None
    preload(options)
    context = multiprocessing.get_context("fork")  # the child inherits the loaded catalog: no pickling
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(
        target=_child, args=(writer, monitor, options, outcome), name=f"drift-{monitor.name}", daemon=True
    )
    t0 = time.perf_counter()
    deadline = time.monotonic() + options.timeout
    stage, verdict = "starting the run", False
    child.start()
    writer.close()  # only the child writes: its exit is then seen as the end of the pipe
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not reader.poll(remaining):
                _abandon(child)
                _timed_out(outcome, options.timeout, stage, verdict, time.perf_counter() - t0)
                return
            try:
                kind, payload = reader.recv()
            except EOFError:
                child.join()
                _died(outcome, child.exitcode, stage, verdict)
                return
            if kind == "stage":
                stage = payload
            elif kind == "event":
                on_event(payload)
            elif kind == "verdict":
                verdict = True
                for name, value in payload.items():
                    setattr(outcome, name, value)
            else:  # "report": the last message
                outcome.report, outcome.report_error = payload
                return
    finally:
        reader.close()
        if child.is_alive():  # the caller was interrupted (Ctrl-C) while waiting
            _abandon(child)
        child.join()


def preload(options: RunOptions) -> None:
    """Import the heavy libraries here, once, before the clock starts: every forked child inherits them,
    so the timeout measures the run rather than imports (seconds on a loaded machine)."""
    import importlib

    names = ["pandas", "pyarrow.dataset", "pyarrow.csv", "sqlalchemy", "scipy.stats", "drift.engines"]
    if options.engine == "evidently" or options.reports is not None:
        names.append("evidently")
    for name in names:
        importlib.import_module(name)


def _child(writer: Connection, monitor: DriftMonitor, options: RunOptions, outcome: RunOutcome) -> None:
    """The child's side: decide, send the verdict, write the report, send it."""
    from drift.run import decide, write_report

    gc.freeze()  # never finalise the parent's objects here (its pooled database connections)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # `drift serve`'s handler is the parent's business
    try:
        frames = decide(
            monitor,
            options,
            outcome,
            lambda message: writer.send(("event", message)),
            lambda stage: writer.send(("stage", stage)),
        )
        writer.send(("verdict", _verdict(outcome)))
        if options.reports is not None and frames is not None:
            writer.send(("stage", "writing the HTML report"))
        write_report(monitor, options, outcome, frames)
        writer.send(("report", (outcome.report, outcome.report_error)))
    except KeyboardInterrupt:
        pass  # abandoned: the parent has stopped listening
    finally:
        writer.close()


def _verdict(outcome: RunOutcome) -> dict[str, Any]:
    """What the parent needs of the child's outcome; Evidently's snapshot stays here (the report's)."""
    fields = {name: getattr(outcome, name) for name in VERDICT_FIELDS}
    if outcome.result is not None:
        fields["result"] = dataclasses.replace(outcome.result, report=None)
    return fields


def _abandon(child: Any) -> None:
    """SIGINT, then SIGKILL after `GRACE` seconds if the child is still there."""
    if child.pid is not None and child.is_alive():
        try:
            os.kill(child.pid, signal.SIGINT)
        except ProcessLookupError:
            return
        child.join(GRACE)
    if child.is_alive():
        child.kill()
    child.join()


def _timed_out(outcome: RunOutcome, timeout: float, stage: str, verdict: bool, elapsed: float) -> None:
    if verdict:  # only the report was late: the verdict stands
        outcome.report_error = (
            f"the HTML report was abandoned: the run exceeded --timeout {timeout:g} s while writing it"
        )
        return
    outcome.duration = elapsed
    outcome.error = (
        f"drift monitor {outcome.monitor}: abandoned after --timeout {timeout:g} s while {stage}: a hung "
        "query or too much data? Narrow the current window or sample in the query, or raise --timeout"
    )


def _died(outcome: RunOutcome, exitcode: int | None, stage: str, verdict: bool) -> None:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        how = f"was killed by {name}" + ("; out of memory?" if exitcode == -signal.SIGKILL else "")
    else:
        how = f"exited with status {exitcode}"
    if verdict:
        outcome.report_error = f"the HTML report failed: the run's process {how} while writing it"
    else:
        outcome.error = f"drift monitor {outcome.monitor}: the run's process {how} while {stage}"
