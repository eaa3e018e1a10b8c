"""Drift: the drifted share of columns, each column's score and the age of the last run, per monitor."""

from __future__ import annotations

from catalog.model import Catalog
from dashboards.components.common import component_board
from dashboards.panels import Grid, Query, table, timeseries
from dashboards.render import Board, Variable
from drift import names as d


def drift_board(catalog: Catalog) -> Board:
    chosen = 'monitor=~"$monitor"'
    grid = Grid()
    grid.row("Drift")
    grid.add(
        timeseries(
            "Drifted share of columns", [Query(f"{d.DRIFT_SHARE}{{{chosen}}}", "{{monitor}}")], "percentunit"
        ),
        12,
        8,
    )
    grid.add(
        table(
            "Dataset drift detected",
            [Query(f"{d.DRIFT_DETECTED}{{{chosen}}}", instant=True)],
            mappings=((0, "no drift", "green"), (1, "drift", "red")),
        ),
        12,
        8,
    )
    grid.add(
        timeseries("Column scores", [Query(f"{d.DRIFT_COLUMN_SCORE}{{{chosen}}}", "{{monitor}} {{column}}")]),
        12,
        8,
    )
    grid.add(
        timeseries(
            "Seconds since the last run",
            [Query(f"time() - {d.DRIFT_LAST_RUN_TIMESTAMP}{{{chosen}}}", "{{monitor}}")],
            "s",
        ),
        12,
        8,
    )
    grid.add(
        table(
            "Drifted columns (last run)",
            [Query(f"{d.DRIFT_COLUMN_DRIFTED}{{{chosen}}} == 1", instant=True)],
            hidden=("Time", "Value", "__name__"),
        ),
        12,
        8,
    )
    grid.add(
        table(
            "Runs without a verdict (bad input)",
            [Query(f"{d.DRIFT_RUN_FAILED}{{{chosen}}}", instant=True)],
            mappings=((0, "ok", "green"), (1, "failed", "red")),
        ),
        12,
        8,
    )
    names = [mon.name for mon in catalog.drift]
    monitor = Variable("monitor", "Monitor", "custom", ",".join(names), include_all=True, multi=True)
    return component_board("drift", catalog, grid, [monitor])
