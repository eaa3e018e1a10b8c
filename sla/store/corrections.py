"""Store and read the corrections posted to the API. A repeated post of the same (scope, name, start,
end) is idempotent: the first row stays, its id is returned. At most `MAX_PER_SCOPE` corrections per
(scope, name) and `MAX_TOTAL` overall are stored (`CorrectionLimitError` beyond, exact under concurrent
posts), and every stored one that is relevant is read: nothing is silently dropped. Ids are never reused
(PostgreSQL's sequence; SQLite's AUTOINCREMENT, migration 0004), so a retried DELETE of a deleted id
is a 404, never another correction's removal."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    and_,
    delete,
    func,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sla.corrections import Correction, Scope
from sla.store.models import CorrectionRow

MAX_PER_SCOPE = 1_000
"""Corrections stored for one SLO, service or team; a report queries Prometheus in batches of them."""
MAX_TOTAL = 10_000
"""Corrections stored overall."""


class CorrectionLimitError(ValueError):
    """The store already holds the maximum number of corrections (for the scope, or overall)."""


def _to(row: CorrectionRow | Row[Any]) -> Correction:
    scope: Scope = row.scope  # type: ignore[assignment]
    return Correction(scope, row.name, row.starts_at, row.ends_at, row.reason, "api", row.id)


def _same(c: Correction) -> tuple[ColumnElement[bool], ...]:
    return (
        CorrectionRow.scope == c.scope,
        CorrectionRow.name == c.name,
        CorrectionRow.starts_at == c.start,
        CorrectionRow.ends_at == c.end,
    )


def _find(session: Session, c: Correction) -> CorrectionRow | None:
    return session.scalars(select(CorrectionRow).where(*_same(c))).one_or_none()


CORRECTIONS_LOCK = 0x5741_0001
"""PostgreSQL advisory lock key that serialises corrections' writes: inserts (so the maxima are exact)
and deletes (so a conflicting row an insert found is still there when it is read back)."""
COLUMNS = tuple(CorrectionRow.__table__.columns)


def _lock(connection: Connection) -> None:
    """Serialise this transaction's write with every other (SQLite's single writer does it alone)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CORRECTIONS_LOCK})


def _check_room(connection: Connection, c: Correction) -> None:
    """CorrectionLimitError when the row just inserted (in this transaction) passes a maximum. Inserts are
    serialised (SQLite's single writer; a PostgreSQL advisory lock), so concurrent posts cannot pass it."""
    scoped = connection.scalar(
        select(func.count()).where(CorrectionRow.scope == c.scope, CorrectionRow.name == c.name)
    )
    if (scoped or 0) > MAX_PER_SCOPE:
        raise CorrectionLimitError(
            f"{c.scope} {c.name!r} already has {MAX_PER_SCOPE} corrections (the maximum): delete old ones "
            "(DELETE /api/v1/corrections/{id}) or post one longer correction covering several"
        )
    total = connection.scalar(select(func.count()).select_from(CorrectionRow))
    if (total or 0) > MAX_TOTAL:
        raise CorrectionLimitError(
            f"the store already holds {MAX_TOTAL} corrections (the maximum): delete old ones first"
        )


def add_correction(engine: Engine, c: Correction, now: datetime) -> tuple[Correction, bool]:
    """Store `c` (committed on return); (the stored correction, whether it is new).
    CorrectionLimitError when a maximum is reached, nothing stored (a repeat of a stored one is still
    answered). The answer is the row as the write's own transaction saw it (INSERT ... RETURNING, or the
    conflicting row read under the same lock): a DELETE committed the moment after cannot change it."""
    with Session(engine) as session:
        existing = _find(session, c)  # a repeat costs one read, no write lock
        if existing is not None:
            return _to(existing), False
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    values = {
        "scope": c.scope,
        "name": c.name,
        "starts_at": c.start,
        "ends_at": c.end,
        "reason": c.reason,
        "created_at": now,
    }
    statement = insert(CorrectionRow).values(values).on_conflict_do_nothing().returning(*COLUMNS)
    with engine.begin() as connection:  # an error rolls the insert back
        _lock(connection)
        row = connection.execute(statement).first()
        if row is not None:
            _check_room(connection, c)
            return _to(row), True
        # A concurrent identical post stored it first. Its row is still there: deletes take the same
        # lock (PostgreSQL) or wait for this writer (SQLite).
        return _to(connection.execute(select(*COLUMNS).where(*_same(c))).one()), False


def delete_correction(engine: Engine, correction_id: int) -> Correction | None:
    """Delete one stored correction (committed on return); the deleted one, or None if there was none.
    Of concurrent deletes of one id, exactly one gets it (DELETE ... RETURNING: the rows it removed)."""
    statement = delete(CorrectionRow).where(CorrectionRow.id == correction_id).returning(*COLUMNS)
    with engine.begin() as connection:
        _lock(connection)
        row = connection.execute(statement).first()
    return None if row is None else _to(row)


def list_corrections(
    engine: Engine,
    since: datetime | None = None,
    until: datetime | None = None,
    scopes: Collection[tuple[Scope, str]] | None = None,
) -> list[Correction]:
    """Every stored correction overlapping [since, until) (of the `scopes` (scope, name) if given),
    oldest first. Not truncated: the maxima bound it."""
    query = select(CorrectionRow)
    if since is not None:
        query = query.where(CorrectionRow.ends_at > since)
    if until is not None:
        query = query.where(CorrectionRow.starts_at < until)
    if scopes is not None:
        if not scopes:
            return []
        query = query.where(tuple_(CorrectionRow.scope, CorrectionRow.name).in_(sorted(scopes)))
    with Session(engine) as session:
        rows = session.scalars(query.order_by(CorrectionRow.starts_at, CorrectionRow.id))
        return [_to(r) for r in rows]


class BadCursorError(ValueError):
    """A `cursor` this store did not hand out."""


def _cursor(c: Correction) -> str:
    raw = f"{c.start.isoformat()}|{c.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uncursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, ident = raw.split("|")
        start = datetime.fromisoformat(stamp)
        if start.tzinfo is None:
            raise ValueError("no zone")
        return start.astimezone(UTC), int(ident)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursorError("unknown cursor: pass the next_cursor of a previous page") from None


def page_corrections(
    engine: Engine,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[Correction], str | None]:
    """One page of `list_corrections` (oldest first) and the cursor of the next (None: last page)."""
    query = select(CorrectionRow)
    if since is not None:
        query = query.where(CorrectionRow.ends_at > since)
    if until is not None:
        query = query.where(CorrectionRow.starts_at < until)
    if cursor is not None:
        start, ident = _uncursor(cursor)
        query = query.where(
            or_(
                CorrectionRow.starts_at > start,
                and_(CorrectionRow.starts_at == start, CorrectionRow.id > ident),
            )
        )
    query = query.order_by(CorrectionRow.starts_at, CorrectionRow.id).limit(limit + 1)
    with Session(engine) as session:
        rows = [_to(r) for r in session.scalars(query)]
    if len(rows) > limit:
        return rows[:limit], _cursor(rows[limit - 1])
    return rows, None
