"""The I/O edge of a report: query Prometheus (sla/queries.py), read the ledger and the stored
corrections, then build (sla/report.py)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import Engine

from catalog.model import Catalog
from sla.corrections import Correction, from_catalog, groups_to_query, per_slo, scopes_of
from sla.queries import Client, SloKey, fetch, fetch_corrected
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
    only: Collection[SloKey] | None = None,
) -> Report:
    """The report over `span` as of `when`: five vector queries, then three per group of SLOs with the
    same corrected intervals (per 50 intervals), one ledger read and one corrections read. With `only`,
    corrections are read and queried for those SLOs alone (the rows of the others lack them)."""
    corrections: list[Correction] = from_catalog(catalog)
    if engine is not None:
        from sla.store.corrections import list_corrections

        scopes = scopes_of(catalog, only) if only is not None else None
        corrections += list_corrections(engine, since=span.start, until=span.period_end, scopes=scopes)
    applied = per_slo(catalog, corrections, span.start, span.end, span.period_end, only)
    data = fetch(client, span, when)
    groups = groups_to_query(applied)
    parts = fetch_corrected(client, groups, when) if groups else None
    breaches = window_breaches(engine, span) if engine is not None else []
    stored = snapshot_figures(engine, span) if engine is not None else {}
    return build(catalog, span, data, breaches, applied, parts, stored)


def report_slos(catalog: Catalog, level: str, name: str | None) -> set[SloKey] | None:
    """The SLOs a report shows (None: the platform, every SLO): only their corrections are queried."""
    if level == "platform":
        return None
    team_of = {s.name: s.team for s in catalog.services}
    return {
        (s.service, s.name)
        for s in catalog.slos
        if (level == "slo" and s.name == name)
        or (level == "service" and s.service == name)
        or (level == "team" and team_of.get(s.service) == name)
    }


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
    catalog: Catalog,
    client: Client,
    window: str,
    at: datetime | None = None,
    engine: Engine | None = None,
    only: Collection[SloKey] | None = None,
) -> Report:
    """The report for `window` as of `at` (default now); `only`: see `compute`."""
    when = (at or datetime.now(UTC)).astimezone(UTC)
    return compute(catalog, client, report_window(window, when), when, engine, only)
