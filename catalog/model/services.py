"""Services: each owned by a team, with a tier that drives severity and routing, and its claims."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from catalog.addresses import HttpUrl
from catalog.claims import Claims
from catalog.fields import LabelMap, Name
from catalog.model.corrections import Correction
from catalog.model.strict import Strict


class Tier(StrEnum):
    """Service tier: drives severity and routing (critical pages, low never does)."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


class Service(Strict):
    name: Name
    team: Name
    tier: Tier = Field(default=Tier.medium, strict=False)  # an enum: its YAML text is the value
    runbook: HttpUrl | None = None
    description: str = ""
    labels: LabelMap = {}
    corrections: list[Correction] = []
    claims: Claims = Field(default=Claims(), description="parts of shared sources this service owns")
