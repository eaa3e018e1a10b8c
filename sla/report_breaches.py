"""Read the breaches of a report window from the ledger (the existing store), as BreachSpans."""

from __future__ import annotations

from sqlalchemy import Engine

from sla.report import BreachSpan
from sla.report_windows import ReportWindow
from sla.store.ledger import BreachFilter, list_breaches

MAX_BREACHES = 10_000


def window_breaches(engine: Engine, window: ReportWindow, team: str | None = None) -> list[BreachSpan]:
    """Breaches overlapping [start, end) of `window`, oldest first (at most MAX_BREACHES, newest kept)."""
    rows = list_breaches(engine, BreachFilter(team=team, since=window.start, until=window.end), MAX_BREACHES)
    return [
        BreachSpan(
            alertname=r.alertname,
            service=r.service,
            slo=r.slo,
            team=r.team,
            severity=r.severity,
            start=r.starts_at,
            end=r.ends_at,
        )
        for r in reversed(rows)
    ]
