"""The breach ledger: one row per alert instance, unique on (fingerprint, starts_at).

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sla.store.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the breaches table and its indexes."""
    op.create_table(
        "breaches",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("alertname", sa.Text(), nullable=False),
        sa.Column("team", sa.Text(), nullable=True),
        sa.Column("service", sa.Text(), nullable=True),
        sa.Column("slo", sa.Text(), nullable=True),
        sa.Column("severity", sa.Text(), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        sa.Column("generator_url", sa.Text(), nullable=True),
        sa.Column("firing_received_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_received_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_breaches"),
        sa.UniqueConstraint("fingerprint", "starts_at", name="uq_breaches_fingerprint_starts_at"),
    )
    op.create_index("ix_breaches_starts_at_id", "breaches", ["starts_at", "id"])
    op.create_index("ix_breaches_team_service_slo", "breaches", ["team", "service", "slo"])


def downgrade() -> None:
    """Drop the ledger."""
    op.drop_index("ix_breaches_team_service_slo", table_name="breaches")
    op.drop_index("ix_breaches_starts_at_id", table_name="breaches")
    op.drop_table("breaches")
