"""Review 14: a breach whose delivery failed for good (refused, or gave up after its retries) must not hold
the cooldown, or a receiver that is healthy again never gets the retraining; `drift run` exits 3 when a
trigger failed, and pushes `watchkeeper_drift_trigger_failed` = 1 next to the run's verdict (a real
Pushgateway)."""

from __future__ import annotations

import json
from pathlib import Path

from drift import names as n
from drift import trigger_store as store
from drift.triggers import RetryPolicy, build_trigger
from tests.conftest import run_cli
from tests.freshness_helpers import pushgateway
from tests.test_drift_cli import _catalog
from tests.test_drift_pushgateway import _group
from tests.test_drift_triggers import BODY, Clock, migrated_engine, monitor, receiver


def test_a_breach_that_gave_up_releases_the_cooldown(tmp_path: Path) -> None:
    engine = migrated_engine(f"sqlite:///{tmp_path / 'wk.db'}")
    clock = Clock()
    with receiver([503, 503]) as hook:  # down for the whole first breach (2 attempts)
        trigger = build_trigger(
            engine,
            monitor(hook.url, cooldown="24h"),
            RetryPolicy(max_attempts=2),
            clock=clock,
            sleep=clock.sleep,
        )
        assert trigger is not None
        first = trigger.breach(BODY)
        assert first.breach is not None
        assert store.breaches(engine, "churn")[0].state == "failed"
        assert "cooldown released" in store.history(engine, "churn")[0].detail
        clock.now += 60  # one minute later, far inside the 24 h cooldown; the receiver is healthy now
        second = trigger.breach(BODY)
        assert second.breach is not None and second.breach.key != first.breach.key
        assert sorted(b.state for b in store.breaches(engine, "churn")) == ["failed", "succeeded"]
        assert len(hook.requests) == 3  # 2 failed attempts + the new breach's one
        # a delivered breach does hold the cooldown
        clock.now += 60
        third = trigger.breach(BODY)
        assert third.breach is None and third.suppressed_by == second.breach.key


def test_failed_trigger_exits_3_and_pushes_trigger_failed(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'wk.db'}"
    with pushgateway(tmp_path) as pgw, receiver([400, 400]) as hook:
        extra = f"    retrain: {{webhook: {{url: '{hook.url}'}}, cooldown: 1h}}"
        catalog = _catalog(tmp_path, extra)
        failed = run_cli(
            "drift",
            "run",
            str(catalog),
            "churn",
            "--database",
            database,
            "--pushgateway",
            pgw,
            "--format",
            "json",
        )
        assert failed.code == 3, failed.output
        doc = json.loads(failed.stdout)
        assert "retraining was not delivered" in doc["trigger_error"] and "HTTP 400" in doc["trigger_error"]
        group = _group(pgw, "churn")
        assert group[n.DRIFT_TRIGGER_FAILED] == 1.0 and group[n.DRIFT_DETECTED] == 1.0
        # the receiver refuses once more, then accepts: a new breach each run, no cooldown in the way
        again = run_cli("drift", "run", str(catalog), "churn", "--database", database, "--pushgateway", pgw)
        assert again.code == 3
        ok = run_cli("drift", "run", str(catalog), "churn", "--database", database, "--pushgateway", pgw)
        assert ok.code == 1, ok.output  # drift found, retraining delivered
        assert "succeeded" in ok.stdout
        assert _group(pgw, "churn")[n.DRIFT_TRIGGER_FAILED] == 0.0
        assert len(hook.requests) == 3
