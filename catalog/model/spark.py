"""Spark sources: a driver or history server's REST API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from catalog.addresses import HttpUrl
from catalog.durations import Duration
from catalog.fields import Lookback
from catalog.model.source_base import ScrapedSource, count_within


class SparkSource(ScrapedSource):
    alert_kind = "spark"
    url: HttpUrl
    max_applications: Annotated[
        int, Field(strict=True), count_within(1, 1000, "max_applications", "about 20 series each")
    ] = 50
    lookback: Lookback = Duration.parse("1d")
    granularity: Literal["application", "executor"] = "executor"
    max_executors: Annotated[
        int,
        Field(strict=True),
        count_within(1, 1000, "max_executors", "eight series each, per application"),
    ] = Field(default=50, description="executors (the driver first) given their own series per application")
