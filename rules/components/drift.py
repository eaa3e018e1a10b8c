"""Drift monitors: drift detected, and a drift job that stopped running."""

from __future__ import annotations

from catalog.model import DriftMonitor
from drift import names as drift_names
from rules.components.common import Draft, Scenario, Series
from rules.promql import matchers, number


def drift_drafts(mon: DriftMonitor) -> list[Draft]:
    """The component alerts of a drift monitor."""
    sel = {"monitor": mon.name}
    s = matchers(sel)
    schedule = mon.schedule.seconds
    last_run = drift_names.DRIFT_LAST_RUN_TIMESTAMP
    return [
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
            lambda t: f"time() - max by (monitor) ({last_run}{s}) > {number((t or 0) * schedule)}",
            f"The drift job {mon.name} has not run",
            f"The drift job {mon.name} has not run for longer than the alert's limit (schedule {mon.schedule}).",
            lambda t: Scenario(
                [Series(last_run, sel, f"0x{int((t or 0) * schedule / 60) + 30}")],
                [Series(last_run, sel, f"0+60x{int((t or 0) * schedule / 60) + 30}")],
                sel,
                None,
                settle=f"{int((t or 0) * schedule / 60) + 1}m",
            ),
        ),
    ]
