"""Kafka consumer lag: per group in seconds and offsets, and status, for the chosen cluster and groups."""

from __future__ import annotations

from catalog.model import Catalog
from dashboards.components.common import component_board, health_row, source_variable
from dashboards.panels import Grid, Query, table, timeseries
from dashboards.render import Board, Variable
from exporters import names as m
from rules import names as r

STATUS_MAPPINGS = ((1, "bad", "red"),)


def kafka_board(catalog: Catalog) -> Board:
    groups = f'{m.KAFKA_CLUSTER_LABEL}=~"$cluster", group=~"$group"'
    grid = Grid()
    health_row(grid, "kafka")
    grid.row("Consumer groups")
    grid.add(
        timeseries(
            "Lag in seconds (largest partition)",
            [Query(f"{m.KAFKA_GROUP_MAX_LAG_SECONDS}{{{groups}}}", "{{cluster}} {{group}}")],
            "s",
        ),
        12,
        8,
    )
    grid.add(
        timeseries(
            "Lag in offsets (sum)",
            [Query(f"{m.KAFKA_GROUP_SUM_LAG_OFFSETS}{{{groups}}}", "{{cluster}} {{group}}")],
        ),
        12,
        8,
    )
    grid.add(
        table(
            "Group status",
            [Query(f"{m.KAFKA_GROUP_STATUS}{{{groups}}} == 1", instant=True)],
            hidden=("Time", "Value", "__name__"),
        ),
        12,
        8,
    )
    grid.add(
        timeseries(
            "Lag in seconds by topic",
            [Query(f"{m.KAFKA_TOPIC_MAX_LAG_SECONDS}{{{groups}}}", "{{group}} {{topic}}")],
            "s",
        ),
        12,
        8,
    )
    grid.row("Owners")
    key = f"{m.KAFKA_CLUSTER_LABEL}, group"
    join = f'* on({key}) group_left(team, service) {r.PART_OWNERSHIP_INFO}{{kind="kafka_group"}}'
    grid.add(
        table(
            "Groups by owner: lag in seconds",
            [Query(f"max by ({key}) ({m.KAFKA_GROUP_MAX_LAG_SECONDS}{{{groups}}}) {join}", instant=True)],
            "s",
        ),
        12,
        8,
    )
    grid.add(
        timeseries(
            "Lag in offsets by owning team",
            [Query(f"sum by (team) ({m.KAFKA_GROUP_SUM_LAG_OFFSETS}{{{groups}}} {join})", "{{team}}")],
        ),
        12,
        8,
    )
    grid.row("Poller")
    grid.add(
        timeseries(
            "Seconds since the last successful poll",
            [Query(f'{m.KAFKA_POLL_AGE_SECONDS}{{source=~"$cluster"}}', "{{source}}")],
            "s",
        ),
        24,
        6,
    )
    group = Variable(
        "group",
        "Consumer group",
        "query",
        f'label_values({m.KAFKA_GROUP_STATUS}{{{m.KAFKA_CLUSTER_LABEL}=~"$cluster"}}, group)',
        include_all=True,
        multi=True,
    )
    return component_board("kafka", catalog, grid, [source_variable("kafka", "Cluster"), group])
