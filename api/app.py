"""The SLA service's FastAPI application: routers, the state they are given, request metrics and
validation errors that say what is wrong (without echoing the request back)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from api.body_guard import BodyGuard, HeadAsGet, RequestTimer
from api.routers import alerts, breaches, corrections, health, reports, watchdog
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


VALIDATION_ERROR_SCHEMA = {
    "title": "HTTPValidationError",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "title": "Detail"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"loc": {"type": "string"}, "msg": {"type": "string"}},
                "required": ["loc", "msg"],
            },
        },
    },
    "required": ["detail"],
}
"""What `_invalid` (and a 422 HTTPException) really answers, in place of FastAPI's default schema."""


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            spec.setdefault("components", {}).setdefault("schemas", {})["HTTPValidationError"] = (
                VALIDATION_ERROR_SCHEMA
            )
            spec["components"]["schemas"].pop("ValidationError", None)
            for operations in spec.get("paths", {}).values():
                for operation in operations.values():
                    if "requestBody" in operation:  # FastAPI answers 400 to a body it cannot decode
                        operation["responses"].setdefault("400", {"description": "The body is not JSON"})
            app.openapi_schema = spec
        return app.openapi_schema

    return schema


def _allowed_methods(app: Any) -> list[tuple[Any, set[str]]]:
    """(path regex, methods) of every documented path, built once from the OpenAPI schema (FastAPI's
    included routers are not `APIRoute`s in `app.routes`); HEAD wherever GET is (`HeadAsGet`)."""
    table: list[tuple[Any, set[str]]] | None = getattr(app.state, "allowed_methods", None)
    if table is None:
        from starlette.routing import compile_path

        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            methods = {m.upper() for m in operations}
            if "GET" in methods:
                methods.add("HEAD")
            table.append((compile_path(template)[0], methods))
        app.state.allowed_methods = table
    return table


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 with every method the path has (Starlette lists only the first matching route's)."""
    path = request.url.path
    methods = sorted({m for regex, ms in _allowed_methods(request.app) if regex.match(path) for m in ms})
    return JSONResponse(
        {"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": ", ".join(methods)}
    )


def create_app(state: ServiceState) -> FastAPI:
    """The application around `state` (the store, settings and metrics it injects into routers)."""
    app = FastAPI(
        title="Watchkeeper SLA service",
        summary="The breach ledger Alertmanager writes to, and the SLA reads.",
        version="1",
    )
    app.state.service = state
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(405, _method_not_allowed)
    app.add_middleware(BodyGuard, state=state)
    app.add_middleware(HeadAsGet)  # HEAD is a GET to everything inside
    app.add_middleware(RequestTimer, state=state)  # outermost: times HEAD as HEAD
    routers = (
        health.router,
        alerts.router,
        breaches.router,
        corrections.router,
        reports.router,
        watchdog.router,
    )
    for router in routers:
        app.include_router(router)

    return app
