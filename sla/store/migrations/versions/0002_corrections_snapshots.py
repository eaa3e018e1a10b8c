"""SLO corrections (planned maintenance) and monthly report snapshots.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sla.store.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the corrections and sla_snapshots tables."""
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_corrections"),
        sa.UniqueConstraint("scope", "name", "starts_at", "ends_at", name="uq_corrections_scope"),
    )
    op.create_index("ix_corrections_ends_at", "corrections", ["ends_at"])
    op.create_table(
        "sla_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team", sa.Text(), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("slo", sa.Text(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("objective", sa.Float(), nullable=False),
        sa.Column("attainment", sa.Float(), nullable=True),
        sa.Column("budget_remaining", sa.Float(), nullable=True),
        sa.Column("covered_minutes", sa.Float(), nullable=False),
        sa.Column("excluded_minutes", sa.Float(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sla_snapshots"),
        sa.UniqueConstraint("team", "service", "slo", "month", name="uq_sla_snapshots_slo_month"),
    )
    op.create_index("ix_sla_snapshots_team_month", "sla_snapshots", ["team", "month"])


def downgrade() -> None:
    """Drop the corrections and snapshots tables."""
    op.drop_index("ix_sla_snapshots_team_month", table_name="sla_snapshots")
    op.drop_table("sla_snapshots")
    op.drop_index("ix_corrections_ends_at", table_name="corrections")
    op.drop_table("corrections")
