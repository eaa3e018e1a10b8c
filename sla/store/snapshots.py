"""Store and read monthly snapshots. Immutable: a month is written only once it has closed, and a
stored (SLO, month) is never changed (insert or do nothing), whatever is recomputed later."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sla.report_windows import period_bounds
from sla.snapshots import Snapshot, figures_from_payload, figures_payload, parse_month
from sla.store.models import SnapshotRow


class OpenMonthError(ValueError):
    """A snapshot of a month that has not ended."""


@dataclass(frozen=True)
class StoredSnapshot:
    snapshot: Snapshot
    computed_at: datetime


def write_snapshots(engine: Engine, snapshots: Sequence[Snapshot], now: datetime) -> int:
    """Insert the snapshots not stored yet (committed on return); how many were new."""
    for s in snapshots:
        if period_bounds("month", parse_month(s.month))[1] > now:
            raise OpenMonthError(
                f"month {s.month} has not ended: it cannot be snapshotted before {now:%Y-%m}"
            )
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    new = 0
    with engine.begin() as connection:
        for s in snapshots:
            f = s.figures
            values = {
                "team": s.team,
                "service": s.service,
                "slo": s.slo,
                "month": s.month,
                "objective": f.objective,
                "attainment": f.attainment,
                "budget_remaining": f.budget_remaining_ratio,
                "covered_minutes": f.covered_minutes,
                "excluded_minutes": f.excluded_minutes,
                "status": f.status.value,
                "payload": {
                    "figures": figures_payload(f),
                    "corrections": s.corrections,
                    "breaches": s.breaches,
                },
                "computed_at": now,
            }
            statement = insert(SnapshotRow).values(values).on_conflict_do_nothing().returning(SnapshotRow.id)
            new += connection.execute(statement).first() is not None
    return new


def read_snapshots(
    engine: Engine,
    team: str | None = None,
    service: str | None = None,
    slo: str | None = None,
    months: Sequence[str] | None = None,
    limit: int = 10_000,
) -> list[StoredSnapshot]:
    """Stored snapshots, oldest month first, filtered."""
    query = select(SnapshotRow)
    for column, value in ((SnapshotRow.team, team), (SnapshotRow.service, service), (SnapshotRow.slo, slo)):
        if value is not None:
            query = query.where(column == value)
    if months is not None:
        query = query.where(SnapshotRow.month.in_(list(months)))
    query = query.order_by(SnapshotRow.month, SnapshotRow.team, SnapshotRow.service, SnapshotRow.slo)
    with Session(engine) as session:
        return [
            StoredSnapshot(
                Snapshot(
                    r.team,
                    r.service,
                    r.slo,
                    r.month,
                    figures_from_payload(r.payload["figures"]),
                    int(r.payload.get("corrections", 0)),
                    int(r.payload.get("breaches", 0)),
                ),
                r.computed_at,
            )
            for r in session.scalars(query.limit(limit))
        ]


def stored_months(engine: Engine) -> dict[str, set[tuple[str, str]]]:
    """month -> the (service, slo) pairs snapshotted for it."""
    out: dict[str, set[tuple[str, str]]] = {}
    with Session(engine) as session:
        for month, service, slo in session.execute(
            select(SnapshotRow.month, SnapshotRow.service, SnapshotRow.slo)
        ):
            out.setdefault(month, set()).add((service, slo))
    return out
