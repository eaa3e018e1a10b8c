"""Report windows, pure: rolling (7d, 28d, 30d, 90d) and calendar, for each period of the catalog's closed
list (week, month, quarter: UTC, ISO weeks from Monday) to date and the previous (closed) one, as a start,
an end (the report time, or the period's end) and a full length."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sla.report_math import Span

ROLLING = {"7d": 7, "28d": 28, "30d": 30, "90d": 90}
"""The catalog's rolling SLO windows (catalog.durations.ROLLING_WINDOWS), and 90 days for reports."""
PERIODS = ("week", "month", "quarter")
"""The catalog's calendar periods (catalog.durations.CALENDAR_WINDOWS; api/report_models.py checks they
agree, here they are typed out so `watchkeeper --help` does not import pydantic): `week` (to date),
`month`, `quarter`; `previous-<period>` is the last closed one."""
CALENDAR = (*PERIODS, *(f"previous-{p}" for p in PERIODS))
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
    def closed(self) -> bool:
        """A previous period: nothing more can happen in it."""
        return self.name.startswith("previous-")

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


def period_bounds(period: str, at: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the calendar `period` (week, month, quarter) containing `at` (UTC)."""
    at = at.astimezone(UTC)
    if period == "week":
        start = datetime(at.year, at.month, at.day, tzinfo=UTC) - timedelta(days=at.weekday())
        return start, start + timedelta(days=7)
    if period == "month":
        start = _month_start(at)
        return start, _next_month(start)
    if period == "quarter":
        start = _month_start(at, (at.month - 1) % 3)
        return start, _next_month(start, 3)
    raise UnknownWindowError(f"unknown period {period!r}: use one of {', '.join(PERIODS)}")


def month_window(month_start: datetime) -> ReportWindow:
    """The closed calendar month starting at `month_start` (a snapshot's window)."""
    start, end = period_bounds("month", month_start)
    return ReportWindow("previous-month", start, end, end)


def report_window(name: str, at: datetime) -> ReportWindow:
    """The window `name` as seen at `at` (aware; converted to UTC)."""
    at = at.astimezone(UTC)
    if name in ROLLING:
        return ReportWindow(name, at - timedelta(days=ROLLING[name]), at, at)
    if name in PERIODS:
        start, end = period_bounds(name, at)
        return ReportWindow(name, start, at, end)
    period = name.removeprefix("previous-")
    if name.startswith("previous-") and period in PERIODS:
        current, _ = period_bounds(period, at)
        start, end = period_bounds(period, current - timedelta(seconds=1))
        return ReportWindow(name, start, end, end)
    raise UnknownWindowError(f"unknown window {name!r}: use one of {', '.join(WINDOWS)}")
