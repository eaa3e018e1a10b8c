"""Report windows, pure: rolling (7d, 28d, 30d) and calendar (month-to-date, previous month,
quarter-to-date, UTC), as a start, an end (the report time, or the period's end) and a full length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sla.report_math import Span

ROLLING = {"7d": 7, "28d": 28, "30d": 30}
CALENDAR = ("month", "previous-month", "quarter")
WINDOWS = (*ROLLING, *CALENDAR)
COVERAGE_STEP_SECONDS = 300
"""Data coverage is counted on a 5m grid: an SLO has data at a step if its 5m total rate does."""


class UnknownWindowError(ValueError):
    """A window name that is not one of WINDOWS."""


@dataclass(frozen=True)
class ReportWindow:
    """[start, end) of a report; `period_end` is where a calendar period ends (end for rolling ones)."""

    name: str
    start: datetime
    end: datetime
    period_end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    @property
    def span(self) -> Span:
        length = (self.period_end - self.start).total_seconds() / 60
        return Span(length, (self.end - self.start).total_seconds() / 60, rolling=self.name in ROLLING)


def _month_start(when: datetime, months_back: int = 0) -> datetime:
    index = when.year * 12 + when.month - 1 - months_back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _next_month(start: datetime, months: int = 1) -> datetime:
    index = start.year * 12 + start.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def report_window(name: str, at: datetime) -> ReportWindow:
    """The window `name` as seen at `at` (aware; converted to UTC)."""
    at = at.astimezone(UTC)
    if name in ROLLING:
        return ReportWindow(name, at - timedelta(days=ROLLING[name]), at, at)
    if name == "month":
        start = _month_start(at)
        return ReportWindow(name, start, at, _next_month(start))
    if name == "previous-month":
        start = _month_start(at, 1)
        end = _next_month(start)
        return ReportWindow(name, start, end, end)
    if name == "quarter":
        start = _month_start(at, (at.month - 1) % 3)
        return ReportWindow(name, start, at, _next_month(start, 3))
    raise UnknownWindowError(f"unknown window {name!r}: use one of {', '.join(WINDOWS)}")
