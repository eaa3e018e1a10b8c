"""The SLA store: SQLAlchemy models, Alembic migrations and the breach ledger's reads and writes."""

from __future__ import annotations

from sla.store.errors import StoreError

__all__ = ["StoreError"]
