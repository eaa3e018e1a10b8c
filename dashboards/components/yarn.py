"""YARN: cluster resources and nodes, queues and failed applications of the chosen sources."""

from __future__ import annotations

from catalog.model import Catalog
from dashboards.components.common import component_board, health_row, selected, source_variable
from dashboards.panels import Grid, Query, table, timeseries
from dashboards.render import Board, Variable
from exporters import names as m
from rules import names as r

RATE = "15m"
"""Window of the application rates (a few scrapes at any sensible interval)."""


def yarn_board(catalog: Catalog) -> Board:
    sel = selected("yarn")
    queues = f'{sel}, queue=~"$queue"'
    grid = Grid()
    health_row(grid, "yarn")
    grid.row("Cluster")
    grid.add(
        timeseries("Memory", [Query(f"{m.YARN_MEMORY_BYTES}{{{sel}}}", "{{source}} {{state}}")], "bytes"),
        12,
        7,
    )
    grid.add(timeseries("Vcores", [Query(f"{m.YARN_VCORES}{{{sel}}}", "{{source}} {{state}}")]), 12, 7)
    grid.add(timeseries("NodeManagers", [Query(f"{m.YARN_NODES}{{{sel}}}", "{{source}} {{state}}")]), 12, 7)
    grid.add(
        timeseries(
            "Applications",
            [
                Query(f"{m.YARN_APPS_RUNNING}{{{sel}}}", "{{source}} running"),
                Query(f"{m.YARN_APPS_PENDING}{{{sel}}}", "{{source}} pending"),
            ],
        ),
        12,
        7,
    )
    grid.row("Failed applications")
    grid.add(
        timeseries(
            f"Applications failed and killed (per second, {RATE})",
            [
                Query(f"rate({m.YARN_APPS_FAILED}_total{{{sel}}}[{RATE}])", "{{source}} failed"),
                Query(f"rate({m.YARN_APPS_KILLED}_total{{{sel}}}[{RATE}])", "{{source}} killed"),
            ],
            "ops",
        ),
        24,
        7,
    )
    grid.row("Queues")
    grid.add(
        timeseries(
            "Used capacity by queue",
            [Query(f"{m.YARN_QUEUE_USED_CAPACITY}{{{queues}}}", "{{source}} {{queue}}")],
            "percentunit",
        ),
        12,
        8,
    )
    grid.add(
        table(
            "Queues: guaranteed, maximum and used share",
            [
                Query(f"{m.YARN_QUEUE_CAPACITY}{{{queues}}}", instant=True, column="Guaranteed"),
                Query(f"{m.YARN_QUEUE_MAX_CAPACITY}{{{queues}}}", instant=True, column="Maximum"),
                Query(f"{m.YARN_QUEUE_USED_CAPACITY}{{{queues}}}", instant=True, column="Used"),
            ],
            "percentunit",
            hidden=("Time", "__name__"),
        ),
        12,
        8,
    )
    grid.add(
        timeseries(
            "Pending containers by queue",
            [Query(f"{m.YARN_QUEUE_PENDING_CONTAINERS}{{{queues}}}", "{{source}} {{queue}}")],
        ),
        12,
        7,
    )
    grid.add(
        timeseries(
            "Applications by queue",
            [Query(f"{m.YARN_QUEUE_APPS}{{{queues}}}", "{{queue}} {{state}}")],
        ),
        12,
        7,
    )
    grid.row("Queues by owner")
    key = f"{m.SOURCE_LABEL}, queue"
    join = f'* on({key}) group_left(team, service) {r.PART_OWNERSHIP_INFO}{{kind="yarn_queue"}}'
    grid.add(
        table(
            "Queues by owner: used capacity",
            [Query(f"max by ({key}) ({m.YARN_QUEUE_USED_CAPACITY}{{{queues}}}) {join}", instant=True)],
            "percentunit",
        ),
        12,
        8,
    )
    grid.add(
        timeseries(
            "Failed and killed applications by queue (within applications_window)",
            [Query(f"{m.YARN_QUEUE_APPS_ENDED}{{{queues}}}", "{{queue}} {{state}}")],
        ),
        12,
        8,
    )
    grid.add(
        table(
            "Longest-running applications",
            [Query(f"{m.YARN_APP_RUNNING_SECONDS}{{{queues}}}", instant=True)],
            "s",
            hidden=("Time", "__name__"),
        ),
        24,
        8,
    )
    queue = Variable(
        "queue",
        "Queue",
        "query",
        f"label_values({m.YARN_QUEUE_USED_CAPACITY}{{{sel}}}, queue)",
        include_all=True,
        multi=True,
    )
    return component_board("yarn", catalog, grid, [source_variable("yarn"), queue])
