"""`POST /api/v1/alerts`: Alertmanager's webhook, written to the breach ledger before the 200."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException

from api.breach_models import StoredResponse
from api.deps import State, Store, require_token
from api.report_models import EARLIEST, LATEST
from api.webhook_models import WebhookAlert, WebhookPayload
from rules.alertmanager import LEDGER_PATH
from sla.fingerprint import label_fingerprint
from sla.store.ledger import Transition, record

router = APIRouter(tags=["ledger"])


def _transition(alert: WebhookAlert, teams_by_service: dict[str, str]) -> Transition:
    service = alert.labels.get("service")
    team = alert.labels.get("team") or (teams_by_service.get(service) if service else None)
    return Transition(
        fingerprint=(alert.fingerprint or label_fingerprint(alert.labels)).lower(),
        status=alert.status or "firing",
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        labels=alert.labels,
        annotations=alert.annotations,
        generator_url=alert.generator_url or None,
        team=team,
    )


@router.post(
    LEDGER_PATH,
    response_model=StoredResponse,
    dependencies=[Depends(require_token)],
    responses={401: {"description": "No or wrong bearer token"}, 422: {"description": "Malformed payload"}},
)
def post_alerts(payload: WebhookPayload, engine: Store, state: State) -> StoredResponse:
    """Record every alert's transition (firing or resolved); idempotent, committed before answering."""
    for index, alert in enumerate(payload.alerts):
        for field, value in (("startsAt", alert.starts_at), ("endsAt", alert.ends_at)):
            if value is not None and not EARLIEST <= value <= LATEST:
                raise HTTPException(
                    422,
                    f"alerts[{index}].{field}: times must lie between 1970-01-01 and 2200-01-01; "
                    "nothing stored",
                )
    transitions = [_transition(alert, state.teams_by_service) for alert in payload.alerts]
    record(engine, transitions, datetime.now(UTC))
    for transition in transitions:
        state.metrics.ledger_writes.labels(transition.status).inc()
    return StoredResponse(stored=len(transitions))
