"""What a report looks like outside: the rows one report request selects (an SLO, a service, a team or
the platform, with the rows beneath it), their typed pydantic models (the API's JSON and OpenAPI) and
their CSV, shared by `GET /api/v1/reports/...` and `watchkeeper report` so both say the same thing."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, Field

from catalog.durations import CALENDAR_WINDOWS, ROLLING_WINDOWS
from catalog.errors import did_you_mean
from catalog.model import Catalog
from sla.corrections import Correction
from sla.report import Level, Report, Row
from sla.report_math import Status
from sla.report_windows import PERIODS, ROLLING, WINDOWS
from sla.snapshots import Snapshot

WindowName = Literal[
    "7d",
    "28d",
    "30d",
    "90d",
    "week",
    "month",
    "quarter",
    "previous-week",
    "previous-month",
    "previous-quarter",
]
if get_args(WindowName) != WINDOWS:  # pragma: no cover - a contract with sla/report_windows.py
    raise ImportError(f"WindowName {get_args(WindowName)} differs from sla.report_windows.WINDOWS {WINDOWS}")
if PERIODS != CALENDAR_WINDOWS or not set(ROLLING_WINDOWS) <= set(ROLLING):  # pragma: no cover
    raise ImportError("sla.report_windows' periods differ from catalog.durations' closed window list")
DEFAULT_WINDOW: WindowName = "30d"


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_time(value: object) -> object:
    """Only ISO 8601 text (or a datetime): pydantic would also read a number as Unix seconds."""
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_TIME.match(value)):
        return value
    raise ValueError("write an ISO 8601 time with a zone, such as 2026-11-22T12:00:00Z")


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise ValueError("times must lie between 1970-01-01 and 2200-01-01")
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_time), AfterValidator(_in_range)]
"""A time with a zone, as ISO 8601 text, between 1970 and 2200 (no Unix seconds, no overflow)."""
MONTH_PATTERN = r"^[0-9]{4}-[0-9]{2}$"


class UnknownNameError(LookupError):
    """A team, service or SLO the catalog does not have (or that has no SLO to report on)."""


class ReportWindowOut(BaseModel):
    name: WindowName
    start: datetime
    end: datetime = Field(description="The report time, or the end of a closed period.")
    period_end: datetime = Field(description="Where a calendar period ends (the end for rolling windows).")


class ReportBreach(BaseModel):
    alertname: str
    service: str | None
    slo: str | None
    team: str | None
    severity: str | None
    starts_at: datetime
    ends_at: datetime | None = Field(description="None while the alert is still firing.")
    duration_seconds: float | None


class CorrectionOut(BaseModel):
    """A correction (planned maintenance): [start, end) left out of the budgets of its scope's SLOs."""

    id: int | None = Field(description="The stored correction's id (None: declared in the catalog).")
    scope: Literal["slo", "service", "team"]
    name: str
    start: datetime
    end: datetime
    reason: str
    source: Literal["catalog", "api"]


class ReportRow(BaseModel):
    """One SLO, or a rollup of several (service, team, platform): formulas in docs/sla.md."""

    level: Level
    name: str
    service: str | None
    team: str | None
    objective: float = Field(description="Target ratio (0.999); a rollup's is time-weighted.")
    attainment: float | None = Field(description="1 - error ratio over the window; None: no data.")
    budget_total_minutes: float
    budget_consumed_minutes: float
    budget_remaining_minutes: float = Field(description="Negative once overspent.")
    budget_consumed_ratio: float
    budget_remaining_ratio: float
    burn_rate_1h: float | None
    burn_rate_6h: float | None
    period_burn_rate: float | None
    minutes_to_exhaustion: float | None
    covered_minutes: float = Field(description="Minutes of the window with data (5-minute steps).")
    status: Status
    members: list[str] = Field(description="The SLOs of a rollup (empty for an SLO).")
    breach_count: int
    breaches: list[ReportBreach]
    excluded_minutes: float = Field(description="Minutes of the period excluded by corrections.")
    corrections: list[CorrectionOut] = Field(description="The corrections applied to this row's SLOs.")


class ReportOut(BaseModel):
    """A report: the selected row first, then the rows beneath it (teams, services, SLOs)."""

    level: Level
    name: str
    window: ReportWindowOut
    generated_at: datetime
    rows: list[ReportRow]


CSV_COLUMNS = (
    "level",
    "name",
    "service",
    "team",
    "window",
    "window_start",
    "window_end",
    "objective",
    "attainment",
    "budget_total_minutes",
    "budget_consumed_minutes",
    "budget_remaining_minutes",
    "budget_consumed_ratio",
    "budget_remaining_ratio",
    "burn_rate_1h",
    "burn_rate_6h",
    "period_burn_rate",
    "minutes_to_exhaustion",
    "covered_minutes",
    "status",
    "breach_count",
    "excluded_minutes",
)
"""The CSV's columns, in this order (a contract: append, never reorder). Empty cell: None."""


def _unknown(kind: str, name: str, known: list[str], owned: set[str]) -> UnknownNameError:
    if name in known and name not in owned:
        return UnknownNameError(f"{kind} {name!r} has no SLO to report on")
    listed = ", ".join(sorted(owned)[:20]) or "none"
    return UnknownNameError(f"unknown {kind} {name!r}{did_you_mean(name, owned)} (known: {listed})")


def check_name(catalog: Catalog, level: Level, name: str | None) -> None:
    """UnknownNameError (with the closest name) for a team, service or SLO the catalog does not have:
    checked before any query, so a typo is reported even when Prometheus is down."""
    if level == "platform":
        return
    names: Iterable[str] = (
        (s.name for s in catalog.slos)
        if level == "slo"
        else (s.name for s in catalog.services)
        if level == "service"
        else (t.name for t in catalog.teams)
    )
    known = list(names)
    if (name or "") not in known:
        kind = "SLO" if level == "slo" else level
        raise UnknownNameError(f"unknown {kind} {name!r}{did_you_mean(name or '', known)}")


def select(report: Report, catalog: Catalog, level: Level, name: str | None) -> tuple[str, list[Row]]:
    """(the selected name, its row then the rows beneath it); UnknownNameError for a name not in the report."""
    rows = report.rows
    if level == "platform":
        return "platform", [*rows["platform"], *rows["team"], *rows["service"], *rows["slo"]]
    name = name or ""
    found = [r for r in rows[level] if r.name == name]
    if not found:
        known = {
            "slo": [s.name for s in catalog.slos],
            "service": [s.name for s in catalog.services],
            "team": [t.name for t in catalog.teams],
        }[level]
        raise _unknown(level.upper() if level == "slo" else level, name, known, {r.name for r in rows[level]})
    if level == "slo":
        return name, found
    if level == "service":
        return name, [*found, *(r for r in rows["slo"] if r.service == name)]
    services = [r for r in rows["service"] if r.team == name]
    return name, [*found, *services, *(r for r in rows["slo"] if r.team == name)]


def _row(row: Row) -> ReportRow:
    f = row.figures
    return ReportRow(
        level=row.level,
        name=row.name,
        service=row.service,
        team=row.team,
        objective=f.objective,
        attainment=f.attainment,
        budget_total_minutes=f.budget_total_minutes,
        budget_consumed_minutes=f.budget_consumed_minutes,
        budget_remaining_minutes=f.budget_remaining_minutes,
        budget_consumed_ratio=f.budget_consumed_ratio,
        budget_remaining_ratio=f.budget_remaining_ratio,
        burn_rate_1h=f.burn_rate_1h,
        burn_rate_6h=f.burn_rate_6h,
        period_burn_rate=f.period_burn_rate,
        minutes_to_exhaustion=f.minutes_to_exhaustion,
        covered_minutes=f.covered_minutes,
        status=f.status,
        members=list(row.members),
        breach_count=len(row.breaches),
        breaches=[
            ReportBreach(
                alertname=b.alertname,
                service=b.service,
                slo=b.slo,
                team=b.team,
                severity=b.severity,
                starts_at=b.start,
                ends_at=b.end,
                duration_seconds=b.duration_seconds,
            )
            for b in row.breaches
        ],
        excluded_minutes=f.excluded_minutes,
        corrections=[correction_out(c) for c in row.corrections],
    )


def correction_out(c: Correction) -> CorrectionOut:
    return CorrectionOut(
        id=c.id, scope=c.scope, name=c.name, start=c.start, end=c.end, reason=c.reason, source=c.source
    )


def report_out(
    report: Report, catalog: Catalog, level: Level, name: str | None, generated_at: datetime
) -> ReportOut:
    """The model of one report request; UnknownNameError for an unknown name."""
    selected, rows = select(report, catalog, level, name)
    w = report.window
    return ReportOut(
        level=level,
        name=selected,
        window=ReportWindowOut(name=w.name, start=w.start, end=w.end, period_end=w.period_end),
        generated_at=generated_at,
        rows=[_row(r) for r in rows],
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # round-trips exactly
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def to_csv(report: ReportOut) -> str:
    """One line per row, the columns of CSV_COLUMNS, with a header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    extra = {
        "window": report.window.name,
        "window_start": report.window.start,
        "window_end": report.window.end,
    }
    for row in report.rows:
        values = {**row.model_dump(), **extra, "status": row.status.value}
        writer.writerow([_cell(values[c]) for c in CSV_COLUMNS])
    return out.getvalue()


class SnapshotOut(BaseModel):
    """One SLO's stored month (immutable once written): its final figures."""

    team: str
    service: str
    slo: str
    month: str = Field(description="YYYY-MM (UTC).")
    objective: float
    attainment: float | None
    budget_total_minutes: float
    budget_consumed_minutes: float
    budget_remaining_minutes: float
    budget_remaining_ratio: float
    covered_minutes: float
    excluded_minutes: float
    status: Status
    corrections: int
    breaches: int
    computed_at: datetime


class SnapshotList(BaseModel):
    items: list[SnapshotOut]


def snapshot_out(s: Snapshot, computed_at: datetime) -> SnapshotOut:
    f = s.figures
    return SnapshotOut(
        team=s.team,
        service=s.service,
        slo=s.slo,
        month=s.month,
        objective=f.objective,
        attainment=f.attainment,
        budget_total_minutes=f.budget_total_minutes,
        budget_consumed_minutes=f.budget_consumed_minutes,
        budget_remaining_minutes=f.budget_remaining_minutes,
        budget_remaining_ratio=f.budget_remaining_ratio,
        covered_minutes=f.covered_minutes,
        excluded_minutes=f.excluded_minutes,
        status=f.status,
        corrections=s.corrections,
        breaches=s.breaches,
        computed_at=computed_at,
    )
