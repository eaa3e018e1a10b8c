"""`POST /api/v1/watchdog`: Alertmanager's dead-man's-switch heartbeat, exposed as a last-seen gauge."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import State, require_token
from api.webhook_models import WebhookPayload
from rules.alertmanager import WATCHDOG_PATH

router = APIRouter(tags=["watchdog"])


class HeartbeatResponse(BaseModel):
    """The answer to a Watchdog delivery."""

    received: int = Field(description="Alerts in the delivery (the Watchdog alert, normally one).")
    last_seen: float = Field(description="Unix time at which this heartbeat was recorded.")


@router.post(
    WATCHDOG_PATH,
    response_model=HeartbeatResponse,
    dependencies=[Depends(require_token)],
    responses={401: {"description": "No or wrong bearer token"}, 422: {"description": "Malformed payload"}},
)
def post_watchdog(payload: WebhookPayload, state: State) -> HeartbeatResponse:
    """Record that the alerting pipeline is alive; nothing goes to the breach ledger."""
    now = time.time()
    state.metrics.watchdog_last_seen.set(now)
    return HeartbeatResponse(received=len(payload.alerts), last_seen=now)
