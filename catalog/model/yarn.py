"""YARN sources: ResourceManagers scraped over their REST API."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from catalog.addresses import HttpUrl
from catalog.durations import Duration
from catalog.fields import bounded
from catalog.model.source_base import ScrapedSource, count_within

AppsWindow = Annotated[Duration, bounded("1m", "7d", "applications_window")]


class YarnSource(ScrapedSource):
    alert_kind = "yarn"
    resourcemanagers: list[HttpUrl] = Field(min_length=1)
    applications_window: AppsWindow = Field(
        default=Duration.parse("1h"), description="failed and killed applications are counted over this"
    )
    max_running_applications: Annotated[
        int, Field(strict=True), count_within(0, 100, "max_running_applications", "one series each")
    ] = Field(default=10, description="longest-running applications given their own series")
    max_queues: Annotated[int, Field(strict=True), count_within(1, 2000, "max_queues", "two series each")] = (
        Field(default=200, description="queues with ended applications given their own series")
    )
