"""Kafka: consumer-group lag in seconds, Burrow-style partition status, stale lag collection."""

from __future__ import annotations

from catalog.model.kafka import KafkaSource
from exporters import names as m
from rules.components.common import DUR, Draft, Scenario, Series, up_drafts
from rules.ownership import Claimable, Part, owned
from rules.promql import matchers, number


def kafka_drafts(src: KafkaSource) -> list[Draft | Claimable]:
    """The component alerts of a Kafka cluster."""
    cluster = {m.KAFKA_CLUSTER_LABEL: src.name}
    sel = {m.SOURCE_LABEL: src.name}
    interval = src.poll_interval.seconds

    def lag(part: Part) -> Draft:  # claimable: one alert per owner of the groups (rules/ownership.py)
        group = {**cluster, "group": part.example}
        return Draft(
            "lag_seconds",
            "WatchkeeperKafkaConsumerLagging",
            lambda t: (
                f"max by (cluster, group) ({m.KAFKA_GROUP_MAX_LAG_SECONDS}{part.select(cluster)}) > {number(t or 0)}"
            ),
            f"A consumer group on Kafka {src.name} is lagging",
            f"Consumer group {{{{ $labels.group }}}} on Kafka {src.name} is {DUR} behind.",
            lambda t: Scenario(
                [Series(m.KAFKA_GROUP_MAX_LAG_SECONDS, group, f"{number((t or 0) * 2)}x40")],
                [Series(m.KAFKA_GROUP_MAX_LAG_SECONDS, group, f"{number((t or 0) / 2)}x40")],
                group,
                (t or 0) * 2,
            ),
        )

    def status(part: Part) -> Draft:
        group = {**cluster, "group": part.example}
        return Draft(
            "partition_status",
            "WatchkeeperKafkaConsumerStatus",
            lambda _t: (
                f"max by (cluster, group, status) ({m.KAFKA_GROUP_STATUS}"
                f'{part.select(cluster)[:-1]}, status=~"{"|".join(m.KAFKA_BAD_STATUSES)}"}}) == 1'
            ),
            f"A consumer group on Kafka {src.name} is stalled, stopped or rewound",
            f"Consumer group {{{{ $labels.group }}}} on Kafka {src.name} is {{{{ $labels.status }}}} "
            "(Burrow's evaluation of its last commits).",
            lambda _t: Scenario(
                [Series(m.KAFKA_GROUP_STATUS, {**group, "status": "STALL"}, "1x20")],
                [Series(m.KAFKA_GROUP_STATUS, {**group, "status": "OK"}, "1x20")],
                {**group, "status": "STALL"},
            ),
        )

    return [
        *up_drafts(m.KAFKA_PREFIX, "kafka", src.name),
        owned("kafka_group", lag),
        owned("kafka_group", status),
        Draft(
            "stale_collection",
            "WatchkeeperKafkaLagCollectionStale",
            lambda t: f"{m.KAFKA_POLL_AGE_SECONDS}{matchers(sel)} > {number((t or 0) * interval)}",
            f"Kafka lag for {src.name} is not being collected",
            f"The last successful lag poll of Kafka {src.name} was {DUR} ago; lag figures are stale.",
            lambda t: Scenario(
                [Series(m.KAFKA_POLL_AGE_SECONDS, sel, f"{number((t or 0) * interval * 2)}x20")],
                [Series(m.KAFKA_POLL_AGE_SECONDS, sel, f"{number(interval)}x20")],
                sel,
                (t or 0) * interval * 2,
            ),
        ),
    ]
