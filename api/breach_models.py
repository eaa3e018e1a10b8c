"""Typed responses of the ledger endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class StoredResponse(BaseModel):
    """The answer to a webhook delivery: every alert in it is committed."""

    stored: int = Field(description="Alert transitions written (duplicates count; they change nothing).")


class BreachOut(BaseModel):
    """One alert instance from the ledger."""

    fingerprint: str
    alertname: str
    team: str | None
    service: str | None
    slo: str | None
    severity: str | None
    starts_at: datetime
    ends_at: datetime | None = Field(description="When it resolved; null while it is still firing.")
    duration_seconds: float | None = Field(description="ends_at - starts_at; null while firing.")
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str]
    generator_url: str | None


class BreachPage(BaseModel):
    """A page of breaches, newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[BreachOut]
    next_cursor: str | None = Field(description="null on the last page.")
