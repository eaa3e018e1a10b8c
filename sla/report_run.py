"""The I/O edge of a report: query Prometheus (sla/queries.py), read the ledger and the stored
corrections, then build (sla/report.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from catalog.model import Catalog
from sla.corrections import Correction, from_catalog, intervals_to_query, per_slo
from sla.queries import Client, SloKey, fetch, fetch_range
from sla.report import Report, build
from sla.report_breaches import window_breaches
from sla.report_math import Figures
from sla.report_windows import ReportWindow, report_window


def compute(
    catalog: Catalog,
    client: Client,
    span: ReportWindow,
    when: datetime,
    engine: Engine | None = None,
) -> Report:
    """The report over `span` as of `when`: five vector queries, three more per distinct corrected
    interval, one ledger read and one corrections read."""
    corrections: list[Correction] = from_catalog(catalog)
    if engine is not None:
        from sla.store.corrections import list_corrections

        corrections += list_corrections(engine, since=span.start, until=span.period_end)
    applied = per_slo(catalog, corrections, span.start, span.end, span.period_end)
    data = fetch(client, span, when)
    parts = {(a, b): fetch_range(client, a, b, when) for a, b in intervals_to_query(applied)}
    breaches = window_breaches(engine, span) if engine is not None else []
    stored = snapshot_figures(engine, span) if engine is not None else {}
    return build(catalog, span, data, breaches, applied, parts, stored)


def snapshot_figures(engine: Engine, span: ReportWindow) -> dict[SloKey, Figures]:
    """For the previous month: the stored snapshots' figures, used where Prometheus has no data left."""
    if span.name != "previous-month":
        return {}
    from sla.snapshots import month_key
    from sla.store.snapshots import read_snapshots

    return {
        (s.snapshot.service, s.snapshot.slo): s.snapshot.figures
        for s in read_snapshots(engine, months=[month_key(span.start)])
    }


def make_report(
    catalog: Catalog, client: Client, window: str, at: datetime | None = None, engine: Engine | None = None
) -> Report:
    """The report for `window` as of `at` (default now)."""
    when = (at or datetime.now(UTC)).astimezone(UTC)
    return compute(catalog, client, report_window(window, when), when, engine)
