"""Monthly snapshots, pure: each SLO's final figures for a closed calendar month (UTC), so the previous
month and the contractual history outlive Prometheus' retention. Stored by sla/store/snapshots.py."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sla.report import Report
from sla.report_math import Figures, Status
from sla.report_windows import period_bounds


@dataclass(frozen=True)
class Snapshot:
    """One SLO's month: `figures` as the report computed them at the month's end."""

    team: str
    service: str
    slo: str
    month: str
    """YYYY-MM."""
    figures: Figures
    corrections: int
    breaches: int


def month_key(start: datetime) -> str:
    return f"{start.year:04d}-{start.month:02d}"


def parse_month(text: str) -> datetime:
    """'2026-10' -> 2026-10-01T00:00Z; ValueError with the expected form otherwise."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        return datetime(year, month, 1, tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{text!r} is not a month: write it like 2026-10") from None


def closed_months(since: datetime, now: datetime) -> Iterator[datetime]:
    """The start of every month from `since`'s month that has ended by `now`, oldest first."""
    start, _ = period_bounds("month", since)
    while True:
        _, end = period_bounds("month", start)
        if end > now:
            return
        yield start
        start = end


def from_report(report: Report, month: str) -> list[Snapshot]:
    """The SLO rows of a closed month's report that had data (No data is not a result to keep: the
    month may still be backfilled from Prometheus later)."""
    return [
        Snapshot(
            row.team or "",
            row.service or "",
            row.name,
            month,
            row.figures,
            len(row.corrections),
            len(row.breaches),
        )
        for row in report.rows["slo"]
        if row.figures.status is not Status.NO_DATA
    ]


def figures_payload(figures: Figures) -> dict[str, Any]:
    """Figures as JSON (every field, status as its text)."""
    data = dataclasses.asdict(figures)
    data["status"] = figures.status.value
    return data


def figures_from_payload(data: dict[str, Any]) -> Figures:
    """The inverse of figures_payload (fields added later take their defaults)."""
    names = {f.name for f in dataclasses.fields(Figures)}
    values = {k: v for k, v in data.items() if k in names}
    values["status"] = Status(values["status"])
    return Figures(**values)
