"""What the service's routers are given (through FastAPI dependencies): the store and the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr
from sqlalchemy import Engine

from api.service_metrics import ServiceMetrics
from catalog.model import Catalog


@dataclass(frozen=True)
class ServiceSettings:
    """How the service was started. The token is a SecretStr: its repr never shows the value."""

    token: SecretStr
    public_read: bool = False
    prometheus_url: str | None = None
    report_cache_seconds: float = 30.0
    """How long a team report (without an explicit `at`) is served from memory."""


@dataclass
class ServiceState:
    """Everything a request may need, attached to `app.state.service`."""

    engine: Engine
    settings: ServiceSettings
    teams_by_service: dict[str, str] = field(default_factory=dict)
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)
    catalog: Catalog | None = None
    """The catalog reports are computed for (None: reports answer 503)."""
