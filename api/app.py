"""The SLA service's FastAPI application: routers, the state they are given, request metrics and
validation errors that say what is wrong (without echoing the request back)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.body_guard import BodyGuard
from api.routers import alerts, breaches, health, reports, watchdog
from api.service_state import ServiceState
from rules.alertmanager import LEDGER_PATH, WATCHDOG_PATH


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "body"


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    state: ServiceState = request.app.state.service
    if request.url.path == LEDGER_PATH:
        state.metrics.ledger_rejected.inc()
    problems = [{"loc": _where(tuple(e.get("loc", ()))), "msg": str(e.get("msg", ""))} for e in exc.errors()]
    detail = "; ".join(f"{p['loc']}: {p['msg']}" for p in problems[:20])
    stored = " nothing stored:" if request.url.path in {LEDGER_PATH, WATCHDOG_PATH} else ""
    return JSONResponse(
        {"detail": f"invalid request,{stored} {detail}", "problems": problems[:100]},
        status_code=422,
    )


def create_app(state: ServiceState) -> FastAPI:
    """The application around `state` (the store, settings and metrics it injects into routers)."""
    app = FastAPI(
        title="Watchkeeper SLA service",
        summary="The breach ledger Alertmanager writes to, and the SLA reads.",
        version="1",
    )
    app.state.service = state
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_middleware(BodyGuard, state=state)
    for router in (health.router, alerts.router, breaches.router, reports.router, watchdog.router):
        app.include_router(router)

    @app.middleware("http")
    async def _time(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        state.metrics.request_duration.labels(request.method, template, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    return app
