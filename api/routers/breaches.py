"""`GET /api/v1/breaches`: the ledger, filtered and paginated (keyset, newest first)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from api.breach_models import BreachOut, BreachPage
from api.deps import Store, require_read
from api.report_models import IsoTime
from sla.store.ledger import BreachFilter, list_breaches
from sla.store.models import Breach

BREACHES_PATH = "/api/v1/breaches"
MAX_LIMIT = 1000
router = APIRouter(tags=["ledger"])


def encode_cursor(breach: Breach) -> str:
    """An opaque position after `breach`."""
    text = f"{breach.starts_at.isoformat()}|{breach.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (starts_at, id) in a cursor; 400 if this service did not issue it."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        starts_at, _, row_id = text.partition("|")
        when = datetime.fromisoformat(starts_at)
        if when.tzinfo is None:
            raise ValueError(starts_at)
        return when.astimezone(UTC), int(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "cursor is not one this service issued: pass next_cursor unchanged"
        ) from None


def _out(breach: Breach) -> BreachOut:
    duration = (breach.ends_at - breach.starts_at).total_seconds() if breach.ends_at else None
    return BreachOut(
        fingerprint=breach.fingerprint,
        alertname=breach.alertname,
        team=breach.team,
        service=breach.service,
        slo=breach.slo,
        severity=breach.severity,
        starts_at=breach.starts_at,
        ends_at=breach.ends_at,
        duration_seconds=duration,
        status="resolved" if breach.ends_at else "firing",
        labels=breach.labels,
        annotations=breach.annotations,
        generator_url=breach.generator_url,
    )


@router.get(
    BREACHES_PATH,
    response_model=BreachPage,
    dependencies=[Depends(require_read)],
    responses={
        400: {"description": "since is not before until, or a cursor this service did not issue"},
        401: {"description": "No or wrong bearer token (unless --public-read)"},
    },
)
def get_breaches(
    engine: Store,
    team: str | None = None,
    service: str | None = None,
    slo: str | None = None,
    severity: str | None = None,
    since: Annotated[IsoTime | None, Query(description="Breaches still open at or after this.")] = None,
    until: Annotated[IsoTime | None, Query(description="Breaches that started before this.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> BreachPage:
    """Breaches overlapping [since, until), matching every given label filter, newest first."""
    if since is not None and until is not None and since >= until:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "since must be before until")
    where = BreachFilter(
        team=team,
        service=service,
        slo=slo,
        severity=severity,
        since=since,
        until=until,
        after=decode_cursor(cursor) if cursor else None,
    )
    rows = list_breaches(engine, where, limit + 1)
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]) if len(rows) > limit else None
    return BreachPage(items=[_out(b) for b in page], next_cursor=next_cursor)
