"""Corrections' ids are never reused on SQLite: the table becomes AUTOINCREMENT.

Without it SQLite hands out max(id) + 1, so after the newest correction is deleted the next post gets
its id again, and a retried `DELETE /api/v1/corrections/{id}` removes someone else's new correction.
SQLite cannot alter a table's key, so the table is rebuilt (Alembic's batch mode: create the new table,
copy every row with its id, drop the old, rename; the unique constraint and index are recreated).
`sqlite_sequence` then starts from the largest id kept. PostgreSQL's sequence never reuses an id: nothing
to do there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "corrections", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    """Rebuild the SQLite corrections table with AUTOINCREMENT, keeping every row and id."""
    _rebuild(True)


def downgrade() -> None:
    """Rebuild it without (ids may then be reused again), keeping every row and id."""
    _rebuild(False)
