"""The SQLAlchemy models of the SLA store: the breach ledger, corrections and monthly snapshots.

One row per alert instance, keyed by Alertmanager's `fingerprint` (a hash of the alert's labels) and
`startsAt` (when this instance began firing). The row records both transitions: `firing_received_at`
when a firing notification was first stored, `resolved_received_at` and `ends_at` once resolved.
Timestamps are stored as naive UTC and come back timezone-aware (`UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime, stored the same way on SQLite and PostgreSQL (naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Breach(Base):
    """One alert instance in the ledger: its labels, when it started and (once resolved) ended."""

    __tablename__ = "breaches"
    __table_args__ = (
        UniqueConstraint("fingerprint", "starts_at", name="uq_breaches_fingerprint_starts_at"),
        Index("ix_breaches_starts_at_id", "starts_at", "id"),
        Index("ix_breaches_team_service_slo", "team", "service", "slo"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    alertname: Mapped[str] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(Text, nullable=True)
    service: Mapped[str | None] = mapped_column(Text, nullable=True)
    slo: Mapped[str | None] = mapped_column(Text, nullable=True)
    severity: Mapped[str | None] = mapped_column(Text, nullable=True)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON)
    generator_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    firing_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CorrectionRow(Base):
    """A correction posted to the API: [starts_at, ends_at) excluded from the budgets of one SLO, every
    SLO of a service, or every SLO of a team (`scope`, `name`). Ids are never reused (AUTOINCREMENT on
    SQLite, migration 0004), so an id names one correction for good."""

    __tablename__ = "corrections"
    __table_args__ = (
        UniqueConstraint("scope", "name", "starts_at", "ends_at", name="uq_corrections_scope"),
        Index("ix_corrections_ends_at", "ends_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SnapshotRow(Base):
    """One SLO's final figures for one closed calendar month (`month` is YYYY-MM); never changed."""

    __tablename__ = "sla_snapshots"
    __table_args__ = (
        UniqueConstraint("team", "service", "slo", "month", name="uq_sla_snapshots_slo_month"),
        Index("ix_sla_snapshots_team_month", "team", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team: Mapped[str] = mapped_column(Text)
    service: Mapped[str] = mapped_column(Text)
    slo: Mapped[str] = mapped_column(Text)
    month: Mapped[str] = mapped_column(String(7))
    objective: Mapped[float] = mapped_column(Float)
    attainment: Mapped[float | None] = mapped_column(Float, nullable=True)
    budget_remaining: Mapped[float | None] = mapped_column(Float, nullable=True)
    covered_minutes: Mapped[float] = mapped_column(Float)
    excluded_minutes: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
