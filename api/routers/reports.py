"""`GET /api/v1/reports/{slo,service,team,platform}`: SLA reports (sla/report_run.py) as JSON, or CSV
through `Accept: text/csv` or `?format=csv`. Prometheus and the catalog are dependencies; team reports
are cached (api/report_cache.py)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import StringConstraints
from sqlalchemy.exc import SQLAlchemyError

from api.deps import State, Store, require_read, service_state
from api.report_cache import Entry, derived, team_cache
from api.report_models import (
    CSV_COLUMNS,
    DEFAULT_WINDOW,
    IsoTime,
    ReportOut,
    SnapshotList,
    UnknownNameError,
    WindowName,
    check_name,
    report_out,
    snapshot_out,
    to_csv,
)
from catalog.model import Catalog
from sla.queries import Client, QueryError, connect
from sla.report import Level
from sla.report_run import make_report, report_slos

REPORTS_PATH = "/api/v1/reports"
REAL_MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
"""YYYY-MM with a month 01 to 12 (`2026-13` is a 422, not an empty list)."""
PROMETHEUS_TIMEOUT_S = 10.0
CSV_MEDIA = "text/csv"
HTML_MEDIA = "text/html"


def catalog_dep(state: State) -> Catalog:
    """The catalog the service was started with."""
    if state.catalog is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the service was started without a catalog")
    return state.catalog


_client_lock = threading.Lock()


def prometheus_dep(request: Request, state: State) -> Client:
    """The Prometheus client (one per application); 503 if the service has no --prometheus."""
    url = state.settings.prometheus_url
    if not url:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "reports need Prometheus: start the service with --prometheus URL",
        )
    with _client_lock:
        client: Client | None = getattr(request.app.state, "prometheus_client", None)
        if client is None:
            client = connect(url, PROMETHEUS_TIMEOUT_S)
            request.app.state.prometheus_client = client
    return client


CatalogDep = Annotated[Catalog, Depends(catalog_dep)]
PrometheusDep = Annotated[Client, Depends(prometheus_dep)]
WindowQuery = Annotated[WindowName, Query(description="The report window (UTC).")]
AtQuery = Annotated[
    IsoTime | None, Query(description="Report time (ISO 8601 with a zone); default now. Not cached.")
]
FormatQuery = Annotated[
    Literal["json", "csv", "html"] | None,
    Query(description="json, csv or html (a printable page); default: by Accept, else json."),
]
CSV_DOC = f"One line per row, with a header; columns in this order: {', '.join(CSV_COLUMNS)}."
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            CSV_MEDIA: {"schema": {"type": "string"}, "example": ",".join(CSV_COLUMNS)},
            HTML_MEDIA: {"schema": {"type": "string"}},
        }
    },
    401: {"description": "No or wrong bearer token (unless --public-read)"},
    404: {"description": "Unknown team, service or SLO (with the closest name)"},
    422: {"description": "Unknown window or format, or a time without a zone"},
    503: {"description": "Prometheus is unreachable or not configured"},
}
router = APIRouter(prefix=REPORTS_PATH, tags=["reports"])
READ = [Depends(require_read)]


def _compute(
    catalog: Catalog,
    client: Client,
    engine: Any,
    level: Level,
    name: str | None,
    window: str,
    at: datetime | None,
    request: Request | None = None,
) -> ReportOut:
    when = (at or datetime.now(UTC)).astimezone(UTC)
    if at is None and request is not None:
        snapshot_due(request, catalog, client, engine)
    try:
        report = make_report(catalog, client, window, when, engine, report_slos(catalog, level, name))
        return report_out(report, catalog, level, name, when)
    except UnknownNameError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except QueryError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"cannot compute the report: {exc}"
        ) from None


_snapshot_lock = threading.Lock()
log = logging.getLogger("watchkeeper.sla")


def snapshot_due(request: Request, catalog: Catalog, client: Client, engine: Any) -> None:
    """Once per process and month: store the last closed month's snapshots if some are missing. A
    failure (Prometheus down) is logged and retried on a later report; the report itself goes on."""
    from sla.snapshot_run import missing, previous_month, snapshot_month

    now = datetime.now(UTC)
    month = previous_month(now)
    if getattr(request.app.state, "snapshot_month", None) == month:
        return
    with _snapshot_lock:
        if getattr(request.app.state, "snapshot_month", None) == month:
            return
        try:
            if missing(catalog, engine, [month]):
                written, without = snapshot_month(catalog, client, engine, month, now)
                log.info(
                    "monthly snapshot %s: %d written, %d SLOs without data",
                    f"{month:%Y-%m}",
                    written,
                    without,
                )
            request.app.state.snapshot_month = month
        except (QueryError, SQLAlchemyError) as exc:
            log.warning("monthly snapshot %s not written yet: %s", f"{month:%Y-%m}", exc)


def _format(request: Request, fmt: str | None) -> str:
    """json, csv or html: `?format=` wins, else Accept (a browser's text/html first, or text/csv)."""
    if fmt is not None:
        return fmt
    accept = request.headers.get("accept", "")
    if accept.startswith(HTML_MEDIA):
        return "html"
    return "csv" if CSV_MEDIA in accept else "json"


Burndown = tuple[list[Any] | None, str]
"""The HTML page's burn-down points, or None and why there are none (the page is served anyway)."""
HTML_THREADS = 4
"""Threads the team pages' burn-downs may hold at once waiting on Prometheus, so the rest of the shared
pool (40) stays free for writes (a correction) and JSON reports."""


def _burn_points(client: Client, report: ReportOut) -> list[Any]:
    """The report's burn-down (sla/burndown.py: two to four range queries); QueryError if none."""
    from sla import burndown

    top = report.rows[0]
    slo_rows = [r for r in report.rows if r.level == "slo"]
    corrected = {r.name: [(c.start.timestamp(), c.end.timestamp()) for c in r.corrections] for r in slo_rows}
    w = report.window
    return burndown.fetch(
        client,
        [r.name for r in slo_rows],
        w.start,
        w.end,
        top.budget_consumed_minutes,
        top.budget_total_minutes,
        corrected,
    )


def _burndown(client: Client | None, report: ReportOut) -> Burndown:
    """The HTML page's burn-down, or why there is none."""
    if client is None:
        return None, "Prometheus is not configured"
    try:
        return _burn_points(client, report), ""
    except QueryError as exc:
        return None, str(exc)


async def _team_burndown(
    request: Request, client: Client, report: ReportOut, entry: Entry | None
) -> Burndown:
    """A team page's burn-down: at most `HTML_THREADS` threads wait on Prometheus for team pages, and a
    cached report's burn-down is computed once and kept with it (api/report_cache.py)."""
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "html_limiter", None)
    if limiter is None:  # created on the event loop, which runs one coroutine at a time
        limiter = request.app.state.html_limiter = anyio.CapacityLimiter(HTML_THREADS)

    def start() -> Awaitable[list[Any]]:
        return anyio.to_thread.run_sync(_burn_points, client, report, limiter=limiter)

    try:
        return await (derived(entry, "burndown", start) if entry is not None else start()), ""
    except QueryError as exc:
        return None, str(exc)


def _render(
    request: Request,
    report: ReportOut,
    fmt: str | None,
    client: Client | None = None,
    burn: Burndown | None = None,
) -> Response:
    """The response in the chosen format; HTML with `burn` if given, else its burn-down fetched here."""
    chosen = _format(request, fmt)
    if chosen == "html":
        from api.report_html import render

        points, why = burn if burn is not None else _burndown(client, report)
        return HTMLResponse(render(report, points, why))
    if chosen == "csv":
        filename = f"{report.level}-{report.name}-{report.window.name}.csv".replace('"', "")
        return Response(
            to_csv(report),
            media_type=f"{CSV_MEDIA}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return JSONResponse(report.model_dump(mode="json"))


def _unknown_first(catalog: Catalog, level: Level, name: str) -> None:
    """404 before any query when the name is not in the catalog at all (cheap, and Prometheus may be down)."""
    try:
        check_name(catalog, level, name)
    except UnknownNameError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@router.get(
    "/slo/{slo}", response_model=ReportOut, responses=RESPONSES, description=CSV_DOC, dependencies=READ
)
def slo_report(
    request: Request,
    slo: Annotated[str, Path(description="The SLO's name (unique in the catalog).")],
    catalog: CatalogDep,
    client: PrometheusDep,
    engine: Store,
    window: WindowQuery = DEFAULT_WINDOW,
    at: AtQuery = None,
    format: FormatQuery = None,
) -> Response:
    """One SLO over the window."""
    _unknown_first(catalog, "slo", slo)
    return _render(
        request, _compute(catalog, client, engine, "slo", slo, window, at, request), format, client
    )


@router.get(
    "/service/{service}",
    response_model=ReportOut,
    responses=RESPONSES,
    description=CSV_DOC,
    dependencies=READ,
)
def service_report(
    request: Request,
    service: Annotated[str, Path(description="The service's name.")],
    catalog: CatalogDep,
    client: PrometheusDep,
    engine: Store,
    window: WindowQuery = DEFAULT_WINDOW,
    at: AtQuery = None,
    format: FormatQuery = None,
) -> Response:
    """A service's rollup, then each of its SLOs."""
    _unknown_first(catalog, "service", service)
    return _render(
        request, _compute(catalog, client, engine, "service", service, window, at, request), format, client
    )


@router.get("/team/{team}", response_model=ReportOut, responses=RESPONSES, description=CSV_DOC)
async def team_report(
    request: Request,
    team: Annotated[str, Path(description="The team's name.")],
    window: WindowQuery = DEFAULT_WINDOW,
    at: AtQuery = None,
    format: FormatQuery = None,
) -> Response:
    """A team's rollup, its services, then its SLOs (cached: api/report_cache.py).

    Asynchronous with no synchronous dependency, so a cached answer costs no thread hand-off (the token
    is checked inline, as `require_read` does); computing one runs in the thread pool, once at a time."""
    state = service_state(request)
    require_read(request, state)
    catalog = catalog_dep(state)
    _unknown_first(catalog, "team", team)
    client = prometheus_dep(request, state)
    entry: Entry | None = None
    if at is not None:
        report = await run_in_threadpool(
            _compute, catalog, client, state.engine, "team", team, window, at, request
        )
    else:
        entry = await team_cache(request).fetch(
            (team, window),
            lambda: _compute(catalog, client, state.engine, "team", team, window, None, request),
            state.settings.report_cache_seconds,
        )
        if _format(request, format) == "json":
            return Response(entry.rendered, media_type="application/json")
        report = entry.report
    chosen = _format(request, format)
    if chosen == "json":
        return _render(request, report, format, client)
    burn = await _team_burndown(request, client, report, entry) if chosen == "html" else None
    return await run_in_threadpool(_render, request, report, format, client, burn)


@router.get(
    "/platform", response_model=ReportOut, responses=RESPONSES, description=CSV_DOC, dependencies=READ
)
def platform_report(
    request: Request,
    catalog: CatalogDep,
    client: PrometheusDep,
    engine: Store,
    window: WindowQuery = DEFAULT_WINDOW,
    at: AtQuery = None,
    format: FormatQuery = None,
) -> Response:
    """The platform, then every team, service and SLO."""
    return _render(
        request, _compute(catalog, client, engine, "platform", None, window, at, request), format, client
    )


@router.get("/history", response_model=SnapshotList, responses={401: RESPONSES[401]}, dependencies=READ)
def history(
    engine: Store,
    team: Annotated[str | None, Query(description="Only this team's SLOs.", max_length=200)] = None,
    service: Annotated[str | None, Query(description="Only this service's SLOs.", max_length=200)] = None,
    slo: Annotated[str | None, Query(description="Only this SLO.", max_length=200)] = None,
    month: Annotated[
        list[Annotated[str, StringConstraints(pattern=REAL_MONTH)]] | None,
        Query(description="Only these months (YYYY-MM); repeat for several."),
    ] = None,
) -> SnapshotList:
    """The stored monthly snapshots (contractual SLA history), oldest month first."""
    from sla.store.snapshots import read_snapshots

    items = read_snapshots(engine, team, service, slo, month)
    return SnapshotList(items=[snapshot_out(s.snapshot, s.computed_at) for s in items])
