"""Drift retraining triggers: the cooldown state per monitor, breaches with their retries, the audit trail.

The tables `drift/trigger_store.py` reads and writes (defined there with SQLAlchemy Core; this migration
spells them out on its own so the sla package never imports drift). Times are Unix seconds.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create drift_trigger_state, drift_breaches and drift_trigger_audit."""
    op.create_table(
        "drift_trigger_state",
        sa.Column("monitor", sa.String(200), nullable=False),
        sa.Column("last_breach_at", sa.Float(53), nullable=True),
        sa.Column("last_breach_key", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("monitor", name="pk_drift_trigger_state"),
    )
    op.create_table(
        "drift_breaches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor", sa.String(200), nullable=False),
        sa.Column("breach_key", sa.String(64), nullable=False),
        sa.Column("detected_at", sa.Float(53), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(53), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.Float(53), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.Float(53), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_drift_breaches"),
        sa.UniqueConstraint("breach_key", name="uq_drift_breaches_breach_key"),
    )
    op.create_index("ix_drift_breaches_monitor_state", "drift_breaches", ["monitor", "state"])
    op.create_table(
        "drift_trigger_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.Float(53), nullable=False),
        sa.Column("monitor", sa.String(200), nullable=False),
        sa.Column("breach_key", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_drift_trigger_audit"),
    )
    op.create_index("ix_drift_trigger_audit_monitor_id", "drift_trigger_audit", ["monitor", "id"])


def downgrade() -> None:
    """Drop the drift trigger tables."""
    op.drop_index("ix_drift_trigger_audit_monitor_id", table_name="drift_trigger_audit")
    op.drop_table("drift_trigger_audit")
    op.drop_index("ix_drift_breaches_monitor_state", table_name="drift_breaches")
    op.drop_table("drift_breaches")
    op.drop_table("drift_trigger_state")
