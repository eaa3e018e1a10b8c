"""One run of a drift monitor: load, decide, report, publish, trigger.

A run that cannot give a verdict (unreadable data, an empty window) or whose input has problems (a
missing column, schema drift, an all-NaN column) publishes only its failure, and never fires a
retraining: retraining on broken input fixes nothing. Each step's failure is kept on the outcome, so the
caller reports every problem of the run at once. With a timeout, loading, testing and the report run in a
child process that is abandoned when the time is up (`drift/run_deadline.py`): a failed run like bad input.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.model.drift import DataRef, DriftMonitor
from drift.errors import DriftInputError
from drift.result import DriftResult, Engine

if TYPE_CHECKING:
    from drift.triggers import Trigger


@dataclass(frozen=True)
class RunOptions:
    engine: Engine = "fast"
    base: Path = Path(".")
    """The catalog's directory: relative data paths are read from here."""
    pushgateway: str | None = None
    reports: Path | None = None
    keep: int = 20
    timeout: float | None = None
    """Seconds a run's loading, testing and report may take (`drift/run_deadline.py`); None: no limit."""


@dataclass
class RunOutcome:
    """What one run found and did."""

    monitor: str
    started: float
    duration: float = 0.0
    result: DriftResult | None = None
    error: str | None = None
    """No verdict was possible (the message says why)."""
    problems: list[str] = field(default_factory=list)
    """A verdict, but with columns that could not be tested: counted as drifted, the run failed."""
    published: str | None = None
    publish_error: str | None = None
    report: Path | None = None
    report_error: str | None = None
    trigger: str | None = None
    trigger_error: str | None = None
    nonfinite: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Per tested column, the +-inf values dropped before testing (reference, current), as Evidently does."""

    @property
    def notes(self) -> list[str]:
        """Not problems: what the run did to the data without changing the verdict."""
        return [
            f"column {column!r}: {ref} reference / {cur} current infinite value(s) dropped before testing, "
            "as Evidently does (they count as missing; the verdict is unchanged)"
            for column, (ref, cur) in self.nonfinite.items()
        ]

    @property
    def trigger_failed(self) -> bool:
        """A retraining trigger failed for good in this run (or the trigger database failed)."""
        return self.trigger_error is not None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape (`monitor`, `dataset_drift`, `drift_share`, `columns`), plus status."""
        doc: dict[str, Any] = {"monitor": self.monitor}
        if self.result is not None:
            doc["dataset_drift"] = self.result.dataset_drift
            doc["drift_share"] = self.result.drift_share
            doc["columns"] = [
                {
                    "column": c.column,
                    "stattest": c.stattest,
                    "score": c.score if c.score is not None and math.isfinite(c.score) else None,
                    "threshold": None if c.problem else c.threshold,
                    "drift": c.drift,
                    **({"problem": c.problem} if c.problem else {}),
                    **(
                        {
                            "nonfinite_dropped": dict(
                                zip(("reference", "current"), self.nonfinite[c.column], strict=True)
                            )
                        }
                        if c.column in self.nonfinite
                        else {}
                    ),
                }
                for c in self.result.columns
            ]
        else:
            doc.update(dataset_drift=None, drift_share=None, columns=[])
        if self.error is not None:
            doc["error"] = self.error
        if self.problems:
            doc["problems"] = self.problems
        if self.notes:
            doc["notes"] = self.notes
        for key in ("publish_error", "report_error", "trigger", "trigger_error"):
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        if self.report is not None:
            doc["report"] = str(self.report)
        return doc


def run_monitor(
    monitor: DriftMonitor,
    options: RunOptions,
    trigger: Trigger | None = None,
    on_event: Callable[[str], None] = lambda _message: None,
) -> RunOutcome:
    """Run `monitor` once; never raises for bad data, an unreachable Pushgateway, a failed report or (with
    `options.timeout`) a run that takes too long."""
    outcome = RunOutcome(monitor.name, time.time())
    _resume(outcome, trigger)
    if options.timeout is None:
        frames = decide(monitor, options, outcome, on_event)
        write_report(monitor, options, outcome, frames)
    else:
        from drift.run_deadline import evaluate_within

        evaluate_within(monitor, options, outcome, on_event)
    _publish(outcome, options)
    _trigger(outcome, monitor, trigger)
    if outcome.trigger_failed and options.pushgateway is not None and outcome.publish_error is None:
        from drift.publish import PublishError, push, trigger_failed_samples

        try:  # added to the run's group (POST), next to its verdict
            push(options.pushgateway, trigger_failed_samples(outcome.monitor), False)
        except PublishError as exc:
            outcome.publish_error = str(exc)
    return outcome


def _resume(outcome: RunOutcome, trigger: Trigger | None) -> None:
    if trigger is None:
        return
    try:
        resumed = trigger.resume()  # a breach a stopped run left mid-retries
        if "failed" in resumed:
            outcome.trigger_error = "a resumed breach's delivery failed for good (see `drift history`)"
    except Exception as exc:  # the database is down: the run itself still goes on
        first = f"{type(exc).__name__}: {exc}".splitlines()[0]
        outcome.trigger_error = f"resuming pending triggers failed: {first}"


Frames = tuple[Any, Any]
"""The loaded reference and current data (`drift.data.Loaded`), kept for the report."""


def decide(
    monitor: DriftMonitor,
    options: RunOptions,
    outcome: RunOutcome,
    on_event: Callable[[str], None],
    stage: Callable[[str], None] = lambda _stage: None,
) -> Frames | None:
    """Load and test: the verdict (or the error), problems, notes and duration go on `outcome`. `stage`
    hears each step as it starts, so a run abandoned past its timeout can say where it was."""
    from drift.data import load

    t0 = time.perf_counter()
    where = f"drift monitor {monitor.name}"
    reference = current = None
    try:
        stage(f"loading the reference data ({_describe(monitor.reference)})")
        reference = load(monitor.reference, monitor.columns, options.base, f"{where} reference")
        stage(f"loading the current data ({_describe(monitor.current)})")
        current = load(monitor.current, monitor.columns, options.base, f"{where} current")
        on_event(f"loaded {len(reference.frame)} reference and {len(current.frame)} current rows")
        _check_per_column(monitor, list(reference.frame.columns))
        from drift.engines import compute_drift

        stage(f"testing {len(reference.frame.columns)} column(s) with the {options.engine} engine")
        outcome.result = compute_drift(
            reference.frame,
            current.frame,
            monitor.columns,
            engine=options.engine,
            drift_share=monitor.drift_share,
            stattests=monitor.stattests,
            thresholds=monitor.thresholds,
        )
    except DriftInputError as exc:
        outcome.error = str(exc)
    except Exception as exc:  # an engine's own failure (Evidently raises bare errors): no verdict, no crash
        outcome.error = f"the {options.engine} engine failed: {type(exc).__name__}: {exc}"
    outcome.duration = time.perf_counter() - t0
    if outcome.result is None or reference is None or current is None:
        return None
    detailed = [m for m in (reference.missing_message("reference"), current.missing_message("current")) if m]
    missing = set(reference.missing) | set(current.missing)
    outcome.problems = detailed + [
        c.problem for c in outcome.result.columns if c.problem and c.column not in missing
    ]
    outcome.nonfinite = _nonfinite(outcome.result, reference.frame, current.frame)
    return reference, current


def _check_per_column(monitor: DriftMonitor, available: list[str]) -> None:
    """With `columns` empty the loader cannot check `stattests` and `thresholds`: a column they name that
    the reference lacks (a typo) would be silently ignored. DriftInputError instead."""
    named = set(monitor.stattests) | set(monitor.thresholds)
    unknown = sorted(named - set(available)) if not monitor.columns else []
    if unknown:
        shown = ", ".join(repr(c) for c in available[:20]) + (" ..." if len(available) > 20 else "")
        raise DriftInputError(
            f"drift monitor {monitor.name}: stattests or thresholds name {', '.join(map(repr, unknown))}, "
            f"not a column of the reference data (it has: {shown or 'no columns'}): fix the name, or list "
            "the monitor's columns so the catalog checks it"
        )


def _describe(ref: DataRef) -> str:
    """Where one side's data comes from, for messages: the path, or "a SQL query" (never its URL)."""
    return ref.path if ref.path is not None else "a SQL query"


def write_report(
    monitor: DriftMonitor, options: RunOptions, outcome: RunOutcome, frames: Frames | None
) -> None:
    """The run's HTML report into `options.reports`; its failure is kept as `report_error`."""
    if options.reports is None or outcome.result is None or frames is None:
        return
    from drift.report_html import write_report as write_html

    reference, current = frames
    try:
        outcome.report = write_html(
            options.reports,
            monitor.name,
            outcome.result,
            reference.frame,
            current.frame,
            outcome.started,
            options.keep,
            problems=outcome.problems,
        )
    except Exception as exc:  # Evidently's failures are bare exceptions; the run's verdict stands
        outcome.report_error = f"the HTML report failed: {type(exc).__name__}: {exc}"


def _nonfinite(result: DriftResult, reference: Any, current: Any) -> dict[str, tuple[int, int]]:
    """+-inf counts per tested numeric column and side (only columns with any)."""
    import numpy as np
    import pandas as pd

    out: dict[str, tuple[int, int]] = {}
    for c in result.columns:
        if c.problem is not None or c.kind != "num":
            continue
        counts = []
        for frame in (reference, current):
            column = frame[c.column] if c.column in frame.columns else None
            if column is None or not pd.api.types.is_float_dtype(column.dtype):
                counts.append(0)
                continue
            counts.append(int(np.isinf(column.to_numpy(dtype=float, na_value=np.nan)).sum()))
        if any(counts):
            out[c.column] = (counts[0], counts[1])
    return out


def _publish(outcome: RunOutcome, options: RunOptions) -> None:
    if options.pushgateway is None:
        return
    from drift.publish import PublishError, failure_samples, push, verdict_samples

    if outcome.ok and outcome.result is not None:
        samples, replace = (
            verdict_samples(outcome.monitor, outcome.result, outcome.started, outcome.duration),
            True,
        )
    else:
        samples, replace = failure_samples(outcome.monitor, outcome.started), False
    try:
        outcome.published = push(options.pushgateway, samples, replace)
    except PublishError as exc:
        outcome.publish_error = str(exc)


def _trigger(outcome: RunOutcome, monitor: DriftMonitor, trigger: Trigger | None) -> None:
    result = outcome.result
    if result is None or not result.dataset_drift:
        return
    if monitor.retrain is None or trigger is None:
        outcome.trigger = "no retraining configured" if monitor.retrain is None else "triggers disabled"
        return
    if not outcome.ok:
        outcome.trigger = "not triggered: the input has problems (retraining would not fix them)"
        return
    from sqlalchemy.exc import SQLAlchemyError

    from drift.triggers import payload

    try:
        claim = trigger.breach(payload(monitor, result, outcome.started))
    except SQLAlchemyError as exc:
        outcome.trigger_error = f"the trigger database failed: {type(exc).__name__}: {exc}".splitlines()[0]
        return
    if claim.breach is None:
        outcome.trigger = f"suppressed by the cooldown (breach {claim.suppressed_by})"
    else:
        breach = next((b for b in _breaches(trigger) if b.key == claim.breach.key), None)
        state = breach.state if breach is not None else "pending"
        outcome.trigger = f"breach {claim.breach.key}: {state}"
        if state == "failed":
            outcome.trigger_error = (
                f"retraining was not delivered: breach {claim.breach.key} failed "
                f"({breach.last_error if breach is not None else 'see drift history'})"
            )


def _breaches(trigger: Trigger) -> list[Any]:
    from drift import trigger_store

    return trigger_store.breaches(trigger.engine, trigger.monitor)
