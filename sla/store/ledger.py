"""Write and read the breach ledger. Idempotency lives in the database: one upsert per transition
on the unique key (fingerprint, starts_at), so duplicates and any delivery order converge to one row.

- firing: insert the row, or only fill `firing_received_at` if the row exists (a resolve that came
  first keeps its end);
- resolved: insert the row already ended, or set `ends_at` to the latest end seen (commutative, so
  the final state does not depend on the order of deliveries).

A whole webhook payload is written in one transaction, committed before the caller answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine, Select, and_, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sla.store.models import Breach

Status = Literal["firing", "resolved"]


@dataclass(frozen=True)
class Transition:
    """One alert's state in one delivery, as the ledger stores it."""

    fingerprint: str
    status: Status
    starts_at: datetime
    ends_at: datetime | None
    labels: dict[str, str]
    annotations: dict[str, str]
    generator_url: str | None
    team: str | None


@dataclass(frozen=True)
class BreachFilter:
    """Which breaches to list: label filters, an overlap time range and a keyset position."""

    team: str | None = None
    service: str | None = None
    slo: str | None = None
    severity: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after: tuple[datetime, int] | None = None
    """Keyset cursor: (starts_at, id) of the last row of the previous page (newest first)."""


def _row(t: Transition, now: datetime) -> dict[str, Any]:
    resolved = t.status == "resolved"
    return {
        "fingerprint": t.fingerprint,
        "starts_at": t.starts_at,
        "ends_at": t.ends_at if resolved else None,
        "alertname": t.labels.get("alertname", ""),
        "team": t.team,
        "service": t.labels.get("service"),
        "slo": t.labels.get("slo"),
        "severity": t.labels.get("severity"),
        "labels": t.labels,
        "annotations": t.annotations,
        "generator_url": t.generator_url,
        "firing_received_at": None if resolved else now,
        "resolved_received_at": now if resolved else None,
    }


def _upsert(dialect: str, t: Transition, now: datetime) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Breach).values(_row(t, now))
    table, new = Breach.__table__.c, statement.excluded
    changes: dict[str, Any]
    if t.status == "firing":
        changes = {"firing_received_at": func.coalesce(table.firing_received_at, new.firing_received_at)}
    else:
        changes = {
            "ends_at": case(
                (or_(table.ends_at.is_(None), new.ends_at > table.ends_at), new.ends_at), else_=table.ends_at
            ),
            "resolved_received_at": func.coalesce(table.resolved_received_at, new.resolved_received_at),
        }
    return statement.on_conflict_do_update(index_elements=["fingerprint", "starts_at"], set_=changes)


def record(engine: Engine, transitions: Sequence[Transition], now: datetime) -> None:
    """Store every transition in one transaction; returns once it is committed."""
    dialect = engine.dialect.name
    with engine.begin() as connection:
        for transition in transitions:
            connection.execute(_upsert(dialect, transition, now))


def _query(where: BreachFilter) -> Select[Breach]:
    query = select(Breach)
    for column, value in (
        (Breach.team, where.team),
        (Breach.service, where.service),
        (Breach.slo, where.slo),
        (Breach.severity, where.severity),
    ):
        if value is not None:
            query = query.where(column == value)
    if where.until is not None:
        query = query.where(Breach.starts_at < where.until)
    if where.since is not None:
        query = query.where(or_(Breach.ends_at.is_(None), Breach.ends_at > where.since))
    if where.after is not None:
        starts_at, row_id = where.after
        query = query.where(
            or_(Breach.starts_at < starts_at, and_(Breach.starts_at == starts_at, Breach.id < row_id))
        )
    return query.order_by(Breach.starts_at.desc(), Breach.id.desc())


def list_breaches(engine: Engine, where: BreachFilter, limit: int) -> list[Breach]:
    """Breaches overlapping [since, until) that match the filters, newest first, at most `limit`."""
    with Session(engine) as session:
        return list(session.scalars(_query(where).limit(limit)))
