"""The I/O edge of a report: query Prometheus (sla/queries.py), read the ledger, then build (sla/report.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from catalog.model import Catalog
from sla.queries import Client, fetch
from sla.report import Report, build
from sla.report_breaches import window_breaches
from sla.report_windows import report_window


def make_report(
    catalog: Catalog, client: Client, window: str, at: datetime | None = None, engine: Engine | None = None
) -> Report:
    """The report for `window` as of `at` (default now): five vector queries, one ledger read."""
    when = (at or datetime.now(UTC)).astimezone(UTC)
    span = report_window(window, when)
    data = fetch(client, span, when)
    breaches = window_breaches(engine, span) if engine is not None else []
    return build(catalog, span, data, breaches)
