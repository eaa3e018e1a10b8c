"""Alembic migrations of the SLA store, shipped in the package and run by `sla.store.migrate`."""
