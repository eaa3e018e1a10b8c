"""The I/O edge of monthly snapshots: compute a closed month's report from Prometheus (and the stored
corrections and ledger), then store its SLO rows once (sla/store/snapshots.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from catalog.model import Catalog
from sla.queries import Client
from sla.report_run import compute
from sla.report_windows import month_window, period_bounds
from sla.snapshots import from_report, month_key
from sla.store.snapshots import stored_months, write_snapshots


def previous_month(now: datetime) -> datetime:
    """The start of the last closed month."""
    current, _ = period_bounds("month", now)
    return period_bounds("month", current - timedelta(seconds=1))[0]


def missing(catalog: Catalog, engine: Engine, months: list[datetime]) -> list[datetime]:
    """The months some SLO of the catalog has no snapshot for."""
    stored = stored_months(engine)
    wanted = {(s.service, s.name) for s in catalog.slos}
    return [m for m in months if not wanted <= stored.get(month_key(m), set())]


def snapshot_month(
    catalog: Catalog, client: Client, engine: Engine, month_start: datetime, now: datetime
) -> tuple[int, int]:
    """Compute and store one closed month; (snapshots written, SLOs without data, not stored)."""
    window = month_window(month_start)
    report = compute(catalog, client, window, window.end, engine)
    snapshots = from_report(report, month_key(month_start))
    written = write_snapshots(engine, snapshots, now)
    return written, len(report.rows["slo"]) - len(snapshots)
