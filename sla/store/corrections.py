"""Store and read the corrections posted to the API. A repeated post of the same (scope, name, start,
end) is idempotent: the first row stays, its id is returned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sla.corrections import Correction, Scope
from sla.store.models import CorrectionRow


def _to(row: CorrectionRow) -> Correction:
    scope: Scope = row.scope  # type: ignore[assignment]
    return Correction(scope, row.name, row.starts_at, row.ends_at, row.reason, "api", row.id)


def add_correction(engine: Engine, c: Correction, now: datetime) -> tuple[Correction, bool]:
    """Store `c` (committed on return); (the stored correction, whether it is new)."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    values = {
        "scope": c.scope,
        "name": c.name,
        "starts_at": c.start,
        "ends_at": c.end,
        "reason": c.reason,
        "created_at": now,
    }
    statement = insert(CorrectionRow).values(values).on_conflict_do_nothing().returning(CorrectionRow.id)
    with engine.begin() as connection:
        created = connection.execute(statement).first() is not None
    with Session(engine) as session:
        row = session.scalars(
            select(CorrectionRow).where(
                CorrectionRow.scope == c.scope,
                CorrectionRow.name == c.name,
                CorrectionRow.starts_at == c.start,
                CorrectionRow.ends_at == c.end,
            )
        ).one()
        return _to(row), created


def list_corrections(
    engine: Engine, since: datetime | None = None, until: datetime | None = None, limit: int = 10_000
) -> list[Correction]:
    """Stored corrections overlapping [since, until), oldest first."""
    query = select(CorrectionRow)
    if since is not None:
        query = query.where(CorrectionRow.ends_at > since)
    if until is not None:
        query = query.where(CorrectionRow.starts_at < until)
    with Session(engine) as session:
        rows = session.scalars(query.order_by(CorrectionRow.starts_at, CorrectionRow.id).limit(limit))
        return [_to(r) for r in rows]
