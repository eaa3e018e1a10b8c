"""What sources share: timeouts, reuse and series bounds, and the HTTP and scraped source bases."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from catalog.addresses import TlsVerify
from catalog.durations import Duration
from catalog.fields import Name
from catalog.model.alerts import HasAlerts
from catalog.model.connections import HttpAuth

DEFAULT_TIMEOUT = Duration.parse("5s")
MAX_TIMEOUT = Duration.parse("30s")
"""A source's timeout must stay below Prometheus' scrape_timeout for the exporter (which cannot exceed
the scrape interval): a longer one only makes Prometheus give up first, on every scrape."""
MAX_MIN_INTERVAL = Duration.parse("5m")
"""Past Prometheus' 5m staleness a reused result would be older than any sample Prometheus keeps."""
DEFAULT_MAX_SERIES = 50_000
MAX_MAX_SERIES = 10_000_000


def _at_most(bound: Duration, field: str, why: str) -> AfterValidator:
    def check(value: Duration) -> Duration:
        if value > bound:
            raise PydanticCustomError(
                "duration_bound",
                "{field} {value} is too long: at most {bound} ({why})",
                {"field": field, "value": str(value), "bound": str(bound), "why": why},
            )
        return value

    return AfterValidator(check)


Timeout = Annotated[
    Duration,
    _at_most(
        MAX_TIMEOUT,
        "timeout",
        "keep it below the scrape_timeout Prometheus uses for the exporter; docs/exporters.md",
    ),
]
MinInterval = Annotated[
    Duration, _at_most(MAX_MIN_INTERVAL, "min_interval", "a result is reused at most this long")
]
MaxSeries = Annotated[int, Field(strict=True, ge=1, le=MAX_MAX_SERIES)]


def count_within(low: int, high: int, field: str, why: str) -> AfterValidator:
    """An integer field's bounds, with a message naming the field, the bounds and what it costs."""

    def check(value: int) -> int:
        if value < low:
            raise PydanticCustomError(
                "count_range",
                "{value} is below {low}: {field} is at least {low}; write a number from {low} to {high}",
                {"value": value, "low": low, "high": high, "field": field},
            )
        if value > high:
            raise PydanticCustomError(
                "count_range",
                "{value} is above {high}: {field} is at most {high} ({why}); write {high} or less",
                {"value": value, "high": high, "field": field, "why": why},
            )
        return value

    return AfterValidator(check)


class HttpSource(HasAlerts):
    """Fields shared by sources scraped over HTTP."""

    name: Name
    service: Name
    timeout: Timeout = DEFAULT_TIMEOUT
    auth: HttpAuth | None = None
    tls_verify: TlsVerify = True


class ScrapedSource(HttpSource):
    """HTTP sources the exporter collects when scraped (hdfs, yarn, spark)."""

    min_interval: MinInterval = Field(
        default=Duration.parse("1s"),
        description="concurrent scrapes share one collection; a result younger than this is reused",
    )
    max_series: MaxSeries = Field(
        default=DEFAULT_MAX_SERIES, description="series kept per collection; the rest are dropped and counted"
    )
