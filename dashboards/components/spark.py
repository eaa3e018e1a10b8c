"""Spark: applications, failed jobs and stages, executor memory and GC of the chosen sources."""

from __future__ import annotations

from catalog.model import Catalog
from dashboards.components.common import component_board, health_row, selected, source_variable
from dashboards.panels import Grid, Query, table, timeseries
from dashboards.render import Board, Variable
from exporters import names as m
from rules import names as r

RUNNING_MAPPINGS = ((0, "No", "text"), (1, "Yes", "green"))


def spark_board(catalog: Catalog) -> Board:
    sel = selected("spark")
    apps = f'{sel}, app_name=~"$application"'
    grid = Grid()
    health_row(grid, "spark")
    grid.row("Applications")
    grid.add(
        table(
            "Applications: running and duration",
            [
                Query(
                    f"max by (source, app_name, app_id) ({m.SPARK_APP_RUNNING}{{{apps}}})",
                    instant=True,
                    column="Running",
                    mappings=RUNNING_MAPPINGS,
                ),
                Query(
                    f"max by (source, app_name, app_id) ({m.SPARK_APP_DURATION_SECONDS}{{{apps}}})",
                    instant=True,
                    column="Duration",
                    unit="s",
                ),
            ],
        ),
        12,
        8,
    )
    grid.add(
        timeseries(
            "Active executors", [Query(f"{m.SPARK_APP_EXECUTORS}{{{apps}}}", "{{app_name}} {{app_id}}")]
        ),
        12,
        8,
    )
    grid.row("Failures")
    grid.add(
        timeseries(
            "Failed jobs",
            [Query(f'{m.SPARK_APP_JOBS}{{{apps}, status="failed"}}', "{{app_name}} {{app_id}}")],
        ),
        12,
        7,
    )
    grid.add(
        timeseries(
            "Failed stages",
            [Query(f'{m.SPARK_APP_STAGES}{{{apps}, status="failed"}}', "{{app_name}} {{app_id}}")],
        ),
        12,
        7,
    )
    grid.row("Memory and GC")
    grid.add(
        timeseries(
            "Storage memory used",
            [
                Query(
                    f"{m.SPARK_APP_MEMORY_USED_BYTES}{{{apps}}} / {m.SPARK_APP_MEMORY_MAX_BYTES}{{{apps}}}",
                    "{{app_name}} {{app_id}}",
                )
            ],
            "percentunit",
        ),
        12,
        7,
    )
    grid.add(
        timeseries(
            "GC time over executors",
            [Query(f"{m.SPARK_APP_GC_SECONDS}{{{apps}}}", "{{app_name}} {{app_id}}")],
            "s",
        ),
        12,
        7,
    )
    grid.row("Executors and the driver")
    executor = "{{app_name}} {{executor_id}}"
    grid.add(
        timeseries(
            "Storage memory used by executor",
            [
                Query(
                    f"{m.SPARK_EXECUTOR_MEMORY_USED_BYTES}{{{apps}}} / {m.SPARK_EXECUTOR_MEMORY_MAX_BYTES}{{{apps}}}",
                    executor,
                )
            ],
            "percentunit",
        ),
        12,
        7,
    )
    grid.add(
        timeseries("GC time by executor", [Query(f"{m.SPARK_EXECUTOR_GC_SECONDS}{{{apps}}}", executor)], "s"),
        12,
        7,
    )
    grid.add(
        table(
            "Tasks by executor and status",
            [Query(f"{m.SPARK_EXECUTOR_TASKS}{{{apps}}}", instant=True)],
            hidden=("Time", "__name__"),
        ),
        24,
        7,
    )
    grid.row("Applications by owner")
    key = f"{m.SOURCE_LABEL}, app_name"
    join = f'* on({key}) group_left(team, service) {r.PART_OWNERSHIP_INFO}{{kind="spark_app"}}'
    grid.add(
        table(
            "Applications by owner: running",
            [Query(f"max by ({key}, app_id) ({m.SPARK_APP_RUNNING}{{{apps}}}) {join}", instant=True)],
        ),
        24,
        7,
    )
    application = Variable(
        "application",
        "Application",
        "query",
        f"label_values({m.SPARK_APP_RUNNING}{{{sel}}}, app_name)",
        include_all=True,
        multi=True,
    )
    return component_board("spark", catalog, grid, [source_variable("spark"), application])
