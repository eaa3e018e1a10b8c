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


def token_ok(authorization: str, state: ServiceState) -> bool:
    """Whether an `Authorization` header value carries the service's bearer token."""
    scheme, _, credentials = authorization.partition(" ")
    presented = credentials.strip() if scheme.lower() == "bearer" else ""
    expected = state.settings.token.get_secret_value()
    # compare_digest takes the same time whatever prefix matches; the presented token is never echoed.
    return bool(presented) and hmac.compare_digest(presented.encode(), expected.encode())


def _check(request: Request, state: ServiceState) -> None:
    if not token_ok(request.headers.get("authorization", ""), state):
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
