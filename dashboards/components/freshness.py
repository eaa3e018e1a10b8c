"""Freshness and volume: age of each dataset's newest data, row counts against a week ago, quality checks."""

from __future__ import annotations

from catalog.model import Catalog
from dashboards.components.common import component_board, health_row, source_variable
from dashboards.panels import Grid, Query, table, timeseries
from dashboards.render import Board
from exporters import names as m
from rules import names as r


def freshness_board(catalog: Catalog) -> Board:
    chosen = 'dataset=~"$dataset"'
    grid = Grid()
    health_row(grid, "freshness")
    grid.row("Freshness")
    grid.add(
        timeseries(
            "Age of the newest data",
            [Query(f"max by (dataset) ({m.FRESHNESS_AGE_SECONDS}{{{chosen}}})", "{{dataset}}")],
            "s",
        ),
        12,
        8,
    )
    grid.add(
        table(
            "Datasets: age",
            [Query(f"max by (dataset) ({m.FRESHNESS_AGE_SECONDS}{{{chosen}}})", instant=True)],
            "s",
        ),
        12,
        8,
    )
    grid.row("Volume")
    grid.add(
        timeseries(
            "Rows against a week ago",
            [
                Query(f"max by (dataset) ({m.FRESHNESS_ROWS}{{{chosen}}})", "{{dataset}} now"),
                Query(f"{r.ROWS_WEEK_AGO}{{{chosen}}}", "{{dataset}} a week ago"),
            ],
        ),
        24,
        7,
    )
    grid.row("Pipelines and quality")
    grid.add(
        table(
            "Airflow: last run failed, failed runs",
            [
                Query(
                    f"{m.AIRFLOW_LAST_RUN_FAILED}{{{chosen}}}",
                    instant=True,
                    column="Last run",
                    mappings=((0, "Succeeded", "green"), (1, "Failed", "red")),
                ),
                Query(
                    f"{m.AIRFLOW_FAILED_RUNS}{{{chosen}}}", instant=True, column="Failed runs", unit="short"
                ),
            ],
            hidden=("Time", "__name__"),
        ),
        12,
        7,
    )
    grid.add(
        table(
            "Great Expectations: latest validation",
            [
                Query(
                    f"{m.GE_VALIDATION_SUCCESS}{{{chosen}}}",
                    instant=True,
                    column="Validation",
                    mappings=((0, "Failed", "red"), (1, "Passed", "green")),
                ),
                Query(
                    f"{m.GE_FAILED_EXPECTATIONS}{{{chosen}}}",
                    instant=True,
                    column="Failed expectations",
                    unit="short",
                ),
            ],
            hidden=("Time", "__name__"),
        ),
        12,
        7,
    )
    return component_board("freshness", catalog, grid, [source_variable("freshness", "Dataset")])
