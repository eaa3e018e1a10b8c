"""Kafka sources: a cluster's consumer groups and topics, polled for lag; which groups and topics a
source selects."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from catalog.addresses import EnvName, Username
from catalog.durations import Duration
from catalog.fields import Name, PollInterval
from catalog.model.alerts import HasAlerts
from catalog.model.source_base import Timeout, count_within

GroupPattern = str  # a group name, or "re:<regex>"


class KafkaSource(HasAlerts):
    alert_kind = "kafka"
    name: Name
    service: Name
    bootstrap: str = Field(
        pattern=r"^[^\s,]+:\d+(,[^\s,]+:\d+)*$", description="host:port, comma-separated or as a list"
    )
    groups: list[GroupPattern] = ["re:.*"]
    exclude_groups: list[GroupPattern] = []
    topics: list[GroupPattern] = ["re:.*"]
    exclude_topics: list[GroupPattern] = []
    poll_interval: PollInterval = Duration.parse("30s")
    timeout: Timeout = Duration.parse("10s")
    granularity: Literal["partition", "topic"] = "partition"
    max_points: Annotated[
        int,
        Field(strict=True),
        count_within(2, 1000, "max_points", "each partition keeps a lookup table of this many points"),
    ] = Field(default=60, description="lookup-table points kept per partition")
    status_window: int = Field(
        default=10, ge=2, description="polls Burrow's status evaluation looks back over"
    )
    sasl_username: Username | None = None
    sasl_password_env: EnvName | None = None

    @field_validator("bootstrap", mode="before")
    @classmethod
    def _bootstrap(cls, value: Any) -> Any:
        """Accept a list of host:port as well as the comma-separated string Kafka clients take."""
        if isinstance(value, str):
            hosts = value.split(",")
        elif isinstance(value, list) and all(isinstance(h, str) for h in value):
            hosts = value
        else:
            return value  # not text: pydantic's type error
        if not hosts or hosts == [""]:
            raise PydanticCustomError("bootstrap", "bootstrap is empty; give host:port, e.g. kafka1:9092")
        for host in hosts:
            if not re.fullmatch(r"[^\s,]+:\d+", host.strip()):
                raise PydanticCustomError(
                    "bootstrap",
                    "{host} has no port; bootstrap takes host:port, comma-separated or as a list "
                    "(bootstrap: [kafka1:9092, kafka2:9092])",
                    {"host": repr(host.strip())},
                )
        return ",".join(h.strip() for h in hosts)

    @field_validator("groups", "exclude_groups", "topics", "exclude_topics")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if pattern.startswith("re:"):
                try:
                    re.compile(pattern[3:])
                except re.error as exc:
                    raise ValueError(f"{pattern!r} is not a valid regex: {exc}") from None
        return value


def matches(patterns: list[str], value: str) -> bool:
    """True if value equals a plain pattern or fully matches a `re:` pattern."""
    return any(
        re.fullmatch(p[3:], value) is not None if p.startswith("re:") else p == value for p in patterns
    )


def group_selected(source: KafkaSource, group: str) -> bool:
    return matches(source.groups, group) and not matches(source.exclude_groups, group)


def topic_selected(source: KafkaSource, topic: str) -> bool:
    return matches(source.topics, topic) and not matches(source.exclude_topics, topic)
