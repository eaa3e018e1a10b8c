"""Corrections: planned maintenance windows excluded from SLO budgets (docs/sla.md#corrections)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, model_validator

from catalog.model.strict import Strict


def _aware_time(value: Any) -> Any:
    """A time with a zone: a YAML timestamp or ISO 8601 text such as 2026-11-03T02:00:00Z."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not a time: write it like 2026-11-03T02:00:00Z") from None
    if not isinstance(value, datetime):
        raise ValueError("write a time with a zone, like 2026-11-03T02:00:00Z (a date alone is not enough)")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no zone: add Z (UTC) or an offset such as +01:00")
    return value


AwareTime = Annotated[datetime, BeforeValidator(_aware_time)]


class Correction(Strict):
    """A planned maintenance window: [start, end) is excluded from the budget of the SLOs it covers."""

    start: AwareTime
    end: AwareTime
    reason: str = Field(min_length=1, max_length=1000, description="why this time does not count")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"a correction must end after it starts ({self.start} to {self.end}): swap them")
        return self
