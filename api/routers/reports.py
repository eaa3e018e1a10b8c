"""`GET /api/v1/reports/{slo,service,team,platform}`: SLA reports (sla/report_run.py) as JSON, or CSV
through `Accept: text/csv` or `?format=csv`. Prometheus and the catalog are dependencies; team reports
are kept in memory for `report_cache_seconds`."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from api.deps import State, Store, require_read
from api.report_models import (
    CSV_COLUMNS,
    DEFAULT_WINDOW,
    ReportOut,
    UnknownNameError,
    WindowName,
    report_out,
    to_csv,
)
from catalog.model import Catalog
from sla.queries import Client, QueryError, connect
from sla.report import Level
from sla.report_run import make_report

REPORTS_PATH = "/api/v1/reports"
PROMETHEUS_TIMEOUT_S = 10.0
CSV_MEDIA = "text/csv"


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


class TeamReportCache:
    """Team reports by (team, window), each kept `ttl` seconds (reports with an explicit `at` are not)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], tuple[float, ReportOut]] = {}

    def get(self, key: tuple[str, str]) -> ReportOut | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] < time.monotonic():
                self._items.pop(key, None)
                return None
            return hit[1]

    def put(self, key: tuple[str, str], report: ReportOut, ttl: float) -> None:
        if ttl > 0:
            with self._lock:
                self._items[key] = (time.monotonic() + ttl, report)


def team_cache(request: Request) -> TeamReportCache:
    """The application's team report cache."""
    with _client_lock:
        cache: TeamReportCache | None = getattr(request.app.state, "team_report_cache", None)
        if cache is None:
            cache = request.app.state.team_report_cache = TeamReportCache()
    return cache


CatalogDep = Annotated[Catalog, Depends(catalog_dep)]
PrometheusDep = Annotated[Client, Depends(prometheus_dep)]
CacheDep = Annotated[TeamReportCache, Depends(team_cache)]
WindowQuery = Annotated[WindowName, Query(description="The report window (UTC).")]
AtQuery = Annotated[
    AwareDatetime | None, Query(description="Report time (ISO 8601 with a zone); default now. Not cached.")
]
FormatQuery = Annotated[
    Literal["json", "csv"] | None, Query(description="json or csv; default: by Accept, else json.")
]
CSV_DOC = f"One line per row, with a header; columns in this order: {', '.join(CSV_COLUMNS)}."
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV_MEDIA: {"schema": {"type": "string"}, "example": ",".join(CSV_COLUMNS)}}},
    401: {"description": "No or wrong bearer token (unless --public-read)"},
    404: {"description": "Unknown team, service or SLO (with the closest name)"},
    422: {"description": "Unknown window or format, or a time without a zone"},
    503: {"description": "Prometheus is unreachable or not configured"},
}
router = APIRouter(prefix=REPORTS_PATH, tags=["reports"], dependencies=[Depends(require_read)])


def _compute(
    catalog: Catalog,
    client: Client,
    engine: Any,
    level: Level,
    name: str | None,
    window: str,
    at: datetime | None,
) -> ReportOut:
    when = (at or datetime.now(UTC)).astimezone(UTC)
    try:
        report = make_report(catalog, client, window, when, engine)
        return report_out(report, catalog, level, name, when)
    except UnknownNameError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except QueryError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"cannot compute the report: {exc}"
        ) from None


def _render(request: Request, report: ReportOut, fmt: str | None) -> Response:
    wants_csv = fmt == "csv" or (fmt is None and CSV_MEDIA in request.headers.get("accept", ""))
    if wants_csv:
        filename = f"{report.level}-{report.name}-{report.window.name}.csv".replace('"', "")
        return Response(
            to_csv(report),
            media_type=f"{CSV_MEDIA}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return JSONResponse(report.model_dump(mode="json"))


def _unknown_first(catalog: Catalog, level: Level, name: str) -> None:
    """404 before any query when the name is not in the catalog at all (cheap, and Prometheus may be down)."""
    known = {
        "slo": [s.name for s in catalog.slos],
        "service": [s.name for s in catalog.services],
        "team": [t.name for t in catalog.teams],
    }.get(level, [])
    if name not in known:
        from catalog.errors import did_you_mean

        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"unknown {'SLO' if level == 'slo' else level} {name!r}{did_you_mean(name, known)}",
        )


@router.get("/slo/{slo}", response_model=ReportOut, responses=RESPONSES, description=CSV_DOC)
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
    return _render(request, _compute(catalog, client, engine, "slo", slo, window, at), format)


@router.get("/service/{service}", response_model=ReportOut, responses=RESPONSES, description=CSV_DOC)
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
    return _render(request, _compute(catalog, client, engine, "service", service, window, at), format)


@router.get("/team/{team}", response_model=ReportOut, responses=RESPONSES, description=CSV_DOC)
def team_report(
    request: Request,
    team: Annotated[str, Path(description="The team's name.")],
    catalog: CatalogDep,
    client: PrometheusDep,
    engine: Store,
    cache: CacheDep,
    state: State,
    window: WindowQuery = DEFAULT_WINDOW,
    at: AtQuery = None,
    format: FormatQuery = None,
) -> Response:
    """A team's rollup, its services, then its SLOs (served from memory for a short while)."""
    _unknown_first(catalog, "team", team)
    report = cache.get((team, window)) if at is None else None
    if report is None:
        report = _compute(catalog, client, engine, "team", team, window, at)
        if at is None:
            cache.put((team, window), report, state.settings.report_cache_seconds)
    return _render(request, report, format)


@router.get("/platform", response_model=ReportOut, responses=RESPONSES, description=CSV_DOC)
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
    return _render(request, _compute(catalog, client, engine, "platform", None, window, at), format)
