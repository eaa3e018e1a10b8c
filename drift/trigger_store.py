"""The retraining triggers' durable state: breaches, the cooldown per monitor, and the audit trail.

Tables (created by the SLA store's Alembic migration `0003`; `sla/store/migrations/`):

- `drift_trigger_state`: one row per monitor, the time and key of its last breach. A breach is *claimed*
  by a conditional `UPDATE ... WHERE last_breach_at IS NULL OR last_breach_at <= now - cooldown`: the
  database lets exactly one of any number of concurrent runs (processes, hosts) win, on SQLite (one
  writer at a time) and on PostgreSQL (the row lock, then the condition re-checked on the new row).
- `drift_breaches`: one row per claimed breach with its idempotency key, payload, attempts, the time of
  the next attempt and a lease, so a restart resumes the retries where they stopped.
- `drift_trigger_audit`: one row per decision: triggered, suppressed (cooldown), failed, succeeded,
  resumed.

Times are Unix seconds (double precision). This module imports only SQLAlchemy; the engine comes from
the caller (`api/drift_cli.py` opens it with `sla.store.engine`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection

Decision = Literal["triggered", "suppressed", "failed", "succeeded", "resumed"]
BreachState = Literal["pending", "succeeded", "failed"]

metadata = MetaData()
state_table = Table(
    "drift_trigger_state",
    metadata,
    Column("monitor", String(200), primary_key=True),
    Column("last_breach_at", Float(53), nullable=True),
    Column("last_breach_key", String(64), nullable=True),
)
breach_table = Table(
    "drift_breaches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(200), nullable=False),
    Column("breach_key", String(64), nullable=False),
    Column("detected_at", Float(53), nullable=False),
    Column("target", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float(53), nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", Float(53), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("finished_at", Float(53), nullable=True),
    UniqueConstraint("breach_key", name="uq_drift_breaches_breach_key"),
    Index("ix_drift_breaches_monitor_state", "monitor", "state"),
)
audit_table = Table(
    "drift_trigger_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float(53), nullable=False),
    Column("monitor", String(200), nullable=False),
    Column("breach_key", String(64), nullable=True),
    Column("decision", String(16), nullable=False),
    Column("attempt", Integer, nullable=True),
    Column("detail", Text, nullable=False),
    Index("ix_drift_trigger_audit_monitor_id", "monitor", "id"),
)


@dataclass(frozen=True)
class Breach:
    """A claimed breach: what is sent, and how far its delivery got."""

    id: int
    monitor: str
    key: str
    detected_at: float
    target: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str | None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: float
    monitor: str
    breach_key: str | None
    decision: str
    attempt: int | None
    detail: str


def _breach(row: Any) -> Breach:
    return Breach(
        row.id,
        row.monitor,
        row.breach_key,
        row.detected_at,
        row.target,
        dict(row.payload),
        row.state,
        row.attempts,
        row.next_attempt_at,
        row.last_error,
    )


def audit(
    connection: Connection,
    monitor: str,
    decision: Decision,
    detail: str,
    at: float,
    breach_key: str | None = None,
    attempt: int | None = None,
) -> None:
    """Append one decision to the audit trail (inside the caller's transaction)."""
    connection.execute(
        insert(audit_table).values(
            at=at, monitor=monitor, breach_key=breach_key, decision=decision, attempt=attempt, detail=detail
        )
    )


def _ensure_state_row(connection: Connection, monitor: str) -> None:
    """Insert the monitor's state row if it is missing; concurrent inserts are fine (ON CONFLICT DO NOTHING)."""
    backend = connection.dialect.name
    if backend == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        connection.execute(pg_insert(state_table).values(monitor=monitor).on_conflict_do_nothing())
    elif backend == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        connection.execute(sqlite_insert(state_table).values(monitor=monitor).on_conflict_do_nothing())
    else:  # pragma: no cover - the store supports sqlite and postgresql only
        raise RuntimeError(f"unsupported database {backend}")


@dataclass(frozen=True)
class Claim:
    """The outcome of a claim: the new breach, or the one whose cooldown suppressed it."""

    breach: Breach | None
    suppressed_by: str | None = None
    cooldown_until: float | None = None


def claim(
    engine: Engine, monitor: str, now: float, cooldown: float, target: str, payload: dict[str, Any]
) -> Claim:
    """Open a breach for `monitor` unless one was opened less than `cooldown` seconds ago.

    Atomic across processes: the state row's conditional UPDATE is the lock. Writes the audit row
    (`triggered` or `suppressed`) in the same transaction."""
    key = uuid.uuid4().hex
    with engine.begin() as connection:
        _ensure_state_row(connection, monitor)
        won = connection.execute(
            update(state_table)
            .where(
                state_table.c.monitor == monitor,
                or_(state_table.c.last_breach_at.is_(None), state_table.c.last_breach_at <= now - cooldown),
            )
            .values(last_breach_at=now, last_breach_key=key)
        ).rowcount
        if won != 1:
            last = connection.execute(
                select(state_table.c.last_breach_at, state_table.c.last_breach_key).where(
                    state_table.c.monitor == monitor
                )
            ).one()
            until = float(last.last_breach_at) + cooldown
            audit(
                connection,
                monitor,
                "suppressed",
                f"cooldown: breach {last.last_breach_key} was opened at {_iso(last.last_breach_at)}; "
                f"no new trigger before {_iso(until)}",
                now,
                last.last_breach_key,
            )
            return Claim(None, last.last_breach_key, until)
        connection.execute(
            insert(breach_table).values(
                monitor=monitor,
                breach_key=key,
                detected_at=now,
                target=target,
                payload=payload,
                state="pending",
                attempts=0,
                next_attempt_at=now,
            )
        )
        audit(connection, monitor, "triggered", f"new breach; retraining via {target}", now, key)
        row = connection.execute(select(breach_table).where(breach_table.c.breach_key == key)).one()
    return Claim(_breach(row))


def pending(engine: Engine, monitor: str) -> list[Breach]:
    """The monitor's breaches whose delivery has not finished (oldest first)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(breach_table)
            .where(breach_table.c.monitor == monitor, breach_table.c.state == "pending")
            .order_by(breach_table.c.id)
        ).all()
    return [_breach(r) for r in rows]


def lease(engine: Engine, breach_id: int, owner: str, now: float, seconds: float) -> Breach | None:
    """Take the breach for one delivery attempt if it is due and no live process holds it; else None."""
    with engine.begin() as connection:
        taken = connection.execute(
            update(breach_table)
            .where(
                breach_table.c.id == breach_id,
                breach_table.c.state == "pending",
                breach_table.c.next_attempt_at <= now,
                or_(
                    breach_table.c.lease_until.is_(None),
                    breach_table.c.lease_until < now,
                    breach_table.c.lease_owner == owner,
                ),
            )
            .values(lease_owner=owner, lease_until=now + seconds)
        ).rowcount
        if taken != 1:
            return None
        row = connection.execute(select(breach_table).where(breach_table.c.id == breach_id)).one()
    return _breach(row)


def finish_attempt(
    engine: Engine,
    breach: Breach,
    owner: str,
    now: float,
    ok: bool,
    detail: str,
    next_attempt_at: float | None,
) -> str:
    """Record an attempt's outcome: succeeded, failed with a retry at `next_attempt_at`, or failed for good
    (`next_attempt_at` None). Returns the breach's new state. Only the lease holder may record."""
    attempt = breach.attempts + 1
    state: BreachState = "succeeded" if ok else ("pending" if next_attempt_at is not None else "failed")
    with engine.begin() as connection:
        updated = connection.execute(
            update(breach_table)
            .where(and_(breach_table.c.id == breach.id, breach_table.c.lease_owner == owner))
            .values(
                attempts=attempt,
                state=state,
                next_attempt_at=next_attempt_at if next_attempt_at is not None else now,
                lease_owner=None,
                lease_until=None,
                last_error=None if ok else detail,
                finished_at=None if state == "pending" else now,
            )
        ).rowcount
        if updated != 1:
            return "lost"
        if state == "failed":
            # a breach nobody received must not hold the cooldown: the next run with drift opens a new one
            connection.execute(
                update(state_table)
                .where(state_table.c.monitor == breach.monitor, state_table.c.last_breach_key == breach.key)
                .values(last_breach_at=None)
            )
            detail += "; cooldown released: the next run with drift opens a new breach"
        audit(connection, breach.monitor, "succeeded" if ok else "failed", detail, now, breach.key, attempt)
    return state


def note(
    engine: Engine, monitor: str, decision: Decision, detail: str, now: float, key: str | None = None
) -> None:
    """Append an audit row on its own (a resumed delivery, a trigger that could not be built)."""
    with engine.begin() as connection:
        audit(connection, monitor, decision, detail, now, key)


def history(engine: Engine, monitor: str | None = None, limit: int = 200) -> list[AuditRow]:
    """The audit trail, newest first."""
    query = select(audit_table).order_by(audit_table.c.id.desc()).limit(limit)
    if monitor is not None:
        query = query.where(audit_table.c.monitor == monitor)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [AuditRow(r.id, r.at, r.monitor, r.breach_key, r.decision, r.attempt, r.detail) for r in rows]


def breaches(engine: Engine, monitor: str) -> list[Breach]:
    """Every breach of a monitor, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(breach_table).where(breach_table.c.monitor == monitor).order_by(breach_table.c.id)
        ).all()
    return [_breach(r) for r in rows]


def _iso(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(float(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
