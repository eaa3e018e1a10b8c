"""Drift monitors: drift detected, a drift job that stopped producing verdicts, one whose input is unusable,
and a retraining trigger that failed for good."""

from __future__ import annotations

from catalog.model.drift import DriftMonitor
from drift import names as drift_names
from rules.components.common import Draft, Scenario, Series
from rules.promql import matchers, number


def drift_drafts(mon: DriftMonitor) -> list[Draft]:
    """The component alerts of a drift monitor (`trigger_failed` only with `retrain:`)."""
    sel = {"monitor": mon.name}
    s = matchers(sel)
    schedule = mon.schedule.seconds
    last_run = drift_names.DRIFT_LAST_RUN_TIMESTAMP
    failed = drift_names.DRIFT_RUN_FAILED

    def limit(t: float | None) -> int:
        return int((t or 0) * schedule)

    def stale_expr(t: float | None) -> str:
        # The second arm covers a monitor that never produced a verdict (or whose push the Pushgateway lost):
        # with no last-run sample for the whole limit there is nothing for the first arm to subtract from.
        return (
            f"time() - max by (monitor) ({last_run}{s}) > {number(limit(t))}"
            f" or absent_over_time({last_run}{s}[{limit(t)}s])"
        )

    drafts = [
        Draft(
            "drift_detected",
            "WatchkeeperDataDrift",
            lambda _t: f"max by (monitor) ({drift_names.DRIFT_DETECTED}{s}) == 1",
            f"Data drift detected by {mon.name}",
            f"{mon.name} found drift in its current data against the reference; retraining is "
            f"{'triggered (cooldown ' + str(mon.retrain.cooldown) + ')' if mon.retrain else 'not configured'}.",
            lambda _t: Scenario(
                [Series(drift_names.DRIFT_DETECTED, sel, "1x10")],
                [Series(drift_names.DRIFT_DETECTED, sel, "0x10")],
                sel,
            ),
        ),
        Draft(
            "drift_stale",
            "WatchkeeperDriftJobStale",
            stale_expr,
            f"The drift job {mon.name} has not produced a verdict",
            f"The drift job {mon.name} has produced no verdict for longer than the alert's limit (schedule "
            f"{mon.schedule}), or never has.",
            lambda t: Scenario(
                [Series(last_run, sel, f"0x{limit(t) // 60 + 30}")],
                [Series(last_run, sel, f"0+60x{limit(t) // 60 + 30}")],
                sel,
                None,
                settle=f"{limit(t) // 60 + 1}m",
            ),
        ),
        Draft(
            "run_failed",
            "WatchkeeperDriftRunFailed",
            lambda _t: f"max by (monitor) ({failed}{s}) == 1",
            f"The drift job {mon.name} cannot read usable data",
            f"The last run of {mon.name} produced no verdict: a missing column, a changed type, an empty current "
            "window or unreadable data (`watchkeeper drift run` prints which). No verdict or retraining happens "
            "until it is fixed.",
            lambda _t: Scenario(
                [Series(failed, sel, "1x30")],
                [Series(failed, sel, "0x30")],
                sel,
            ),
        ),
    ]
    if mon.retrain is not None:
        drafts.append(_trigger_failed(mon, sel, s))
    return drafts


def _trigger_failed(mon: DriftMonitor, sel: dict[str, str], s: str) -> Draft:
    """A breach whose delivery failed for good: pushed as `trigger_failed` 1 until the next verdict."""
    assert mon.retrain is not None
    trigger_failed = drift_names.DRIFT_TRIGGER_FAILED
    receiver = "an Airflow DAG run" if mon.retrain.airflow is not None else "a webhook"  # no free text
    return Draft(
        "trigger_failed",
        "WatchkeeperDriftTriggerFailed",
        lambda _t: f"max by (monitor) ({trigger_failed}{s}) == 1",
        f"The retraining trigger of {mon.name} failed",
        f"A retraining of {mon.name} ({receiver}) was not delivered: refused, given up after its retries, or "
        f"the trigger database failed. `watchkeeper drift run` prints why; `watchkeeper drift history "
        f"{mon.name}` shows each attempt's answer. A failed breach releases the cooldown, so the next run that "
        "still finds drift triggers again; the alert clears with the next run that has a verdict.",
        lambda _t: Scenario(
            [Series(trigger_failed, sel, "1x30")],
            [Series(trigger_failed, sel, "0x30")],
            sel,
        ),
    )
