"""`POST /api/v1/corrections` (token), `GET /api/v1/corrections` (paginated) and
`DELETE /api/v1/corrections/{id}` (token): planned maintenance windows left
out of SLO budgets (docs/sla.md#corrections). A correction names exactly one SLO, service or team of the
catalog; the stored row is committed before the answer, and cached team reports are dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Self

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.deps import State, Store, require_read, require_token
from api.report_cache import team_cache
from api.report_models import CorrectionOut, IsoTime, correction_out
from api.webhook_models import CleanStr
from catalog.errors import did_you_mean
from sla.corrections import Correction, Scope
from sla.store.corrections import (
    MAX_PER_SCOPE,
    MAX_TOTAL,
    BadCursorError,
    CorrectionLimitError,
    add_correction,
    delete_correction,
    page_corrections,
)

CORRECTIONS_PATH = "/api/v1/corrections"
MAX_LENGTH = timedelta(days=366)
router = APIRouter(tags=["corrections"])


class CorrectionIn(BaseModel):
    """Exactly one of `slo`, `service`, `team`; [start, end) at most a year long."""

    model_config = ConfigDict(extra="forbid")

    slo: CleanStr | None = Field(default=None, max_length=200)
    service: CleanStr | None = Field(default=None, max_length=200)
    team: CleanStr | None = Field(default=None, max_length=200)
    start: IsoTime
    end: IsoTime
    reason: CleanStr = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        given = [s for s in ("slo", "service", "team") if getattr(self, s) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of slo, service and team (got {', '.join(given) or 'none'})")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.end - self.start > MAX_LENGTH:
            raise ValueError("a correction lasts at most 366 days")
        return self

    @property
    def scope(self) -> tuple[Scope, str]:
        for scope in ("slo", "service", "team"):
            value = getattr(self, scope)
            if value is not None:
                return scope, value
        raise AssertionError("validated: exactly one scope")


class CorrectionList(BaseModel):
    items: list[CorrectionOut]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


DEFAULT_PAGE = 500
MAX_PAGE = 1_000


def _drop_cached_reports(request: Request) -> None:
    team_cache(request).clear()  # reports cached before this change would not show it


@router.post(
    CORRECTIONS_PATH,
    response_model=CorrectionOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_token)],
    responses={
        200: {"model": CorrectionOut, "description": "The same correction was already stored"},
        401: {"description": "No or wrong bearer token"},
        409: {
            "description": f"At most {MAX_PER_SCOPE} corrections per SLO, service or team, {MAX_TOTAL} in all"
        },
        422: {"description": "Invalid correction, or a name the catalog does not have"},
        503: {"description": "The service was started without a catalog"},
    },
)
def post_correction(
    body: CorrectionIn, engine: Store, state: State, request: Request, response: Response
) -> CorrectionOut:
    """Store a correction (idempotent on scope, name, start and end); reports leave its time out."""
    if state.catalog is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the service was started without a catalog")
    scope, name = body.scope
    known = {
        "slo": [s.name for s in state.catalog.slos],
        "service": [s.name for s in state.catalog.services],
        "team": [t.name for t in state.catalog.teams],
    }[scope]
    if name not in known:
        raise HTTPException(
            422,
            f"unknown {'SLO' if scope == 'slo' else scope} {name!r}{did_you_mean(name, known)}",
        )
    try:
        stored, created = add_correction(
            engine,
            Correction(scope, name, body.start.astimezone(UTC), body.end.astimezone(UTC), body.reason, "api"),
            datetime.now(UTC),
        )
    except CorrectionLimitError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"{exc}; nothing stored") from None
    _drop_cached_reports(request)
    if not created:
        response.status_code = status.HTTP_200_OK
    return correction_out(stored)


@router.get(
    CORRECTIONS_PATH,
    response_model=CorrectionList,
    dependencies=[Depends(require_read)],
    responses={
        401: {"description": "No or wrong bearer token (unless --public-read)"},
        422: {"description": "A bad time, limit or cursor"},
    },
)
def get_corrections(
    engine: Store,
    since: Annotated[IsoTime | None, Query(description="Only corrections ending after this.")] = None,
    until: Annotated[IsoTime | None, Query(description="Only corrections starting before this.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Corrections per page.")] = DEFAULT_PAGE,
    cursor: Annotated[
        str | None, Query(max_length=200, description="The `next_cursor` of the previous page.")
    ] = None,
) -> CorrectionList:
    """The corrections posted to the API (the catalog's are in the catalog), oldest first, a page at
    a time: follow `next_cursor` until it is null."""
    try:
        items, next_cursor = page_corrections(engine, since, until, limit, cursor)
    except BadCursorError as exc:
        raise HTTPException(422, str(exc)) from None
    return CorrectionList(items=[correction_out(c) for c in items], next_cursor=next_cursor)


@router.delete(
    CORRECTIONS_PATH + "/{correction_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require_token)],
    responses={401: {"description": "No or wrong bearer token"}, 404: {"description": "No such correction"}},
)
def remove_correction(
    correction_id: Annotated[int, Path(ge=1, le=2**31 - 1)], engine: Store, request: Request
) -> Response:
    """Delete a posted correction (a mistake): reports count its time again."""
    if delete_correction(engine, correction_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no correction {correction_id}")
    _drop_cached_reports(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
