"""FastAPI dependencies: the store, the settings and the bearer-token check, from `app.state`."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine

from api.service_state import ServiceState

UNAUTHORIZED = "missing or wrong bearer token: send `Authorization: Bearer <token>`"


def service_state(request: Request) -> ServiceState:
    """The running service's state."""
    state: ServiceState = request.app.state.service
    return state


State = Annotated[ServiceState, Depends(service_state)]


def store(state: State) -> Engine:
    """The ledger database."""
    return state.engine


def _presented_token(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _check(request: Request, state: ServiceState) -> None:
    presented = _presented_token(request)
    expected = state.settings.token.get_secret_value()
    # compare_digest takes the same time whatever prefix matches; the presented token is never echoed.
    if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"}
        )


def require_token(request: Request, state: State) -> None:
    """Every mutating endpoint: a valid bearer token or 401."""
    _check(request, state)


def require_read(request: Request, state: State) -> None:
    """Reads: a valid bearer token unless the service runs with --public-read."""
    if not state.settings.public_read:
        _check(request, state)


Store = Annotated[Engine, Depends(store)]
