"""`/healthz` (the process answers), `/readyz` (the database, and Prometheus if configured, answer)
and the service's own `/metrics`."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import State
from sla.store.engine import safe_url

PROMETHEUS_TIMEOUT_S = 2.0
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


def _database(state: State) -> str:
    try:
        with state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return (
            f"unreachable: {safe_url(state.engine.url)}: {type(getattr(exc, 'orig', None) or exc).__name__}"
        )
    return "ok"


def _prometheus(url: str) -> str:
    try:
        response = httpx.get(f"{url.rstrip('/')}/-/ready", timeout=PROMETHEUS_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok" if response.status_code == 200 else f"not ready: HTTP {response.status_code}"


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
def readyz(state: State) -> JSONResponse:
    """Ready when the database answers, and Prometheus too when the service was given one."""
    checks = {"database": _database(state)}
    if state.settings.prometheus_url:
        checks["prometheus"] = _prometheus(state.settings.prometheus_url)
    ready = all(value == "ok" for value in checks.values())
    body = Readiness(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
def metrics(state: State) -> Response:
    """The service's own metrics, in the Prometheus text format."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
