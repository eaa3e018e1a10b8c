"""HDFS: capacity, blocks, DataNodes and NameNode HA of the chosen sources."""

from __future__ import annotations

from catalog.model import Catalog
from dashboards.components.common import component_board, health_row, selected, source_variable
from dashboards.panels import Grid, Query, stat, table, timeseries
from dashboards.render import Board
from exporters import names as m


def hdfs_board(catalog: Catalog) -> Board:
    sel = selected("hdfs")
    active = f"* on(source, namenode) group_left() ({m.HDFS_HA_ACTIVE}{{{sel}}} == 1)"
    grid = Grid()
    health_row(grid, "hdfs")
    grid.row("Capacity")
    grid.add(
        stat(
            "Capacity used",
            Query(
                f"max(({m.HDFS_CAPACITY_USED_BYTES}{{{sel}}} / {m.HDFS_CAPACITY_TOTAL_BYTES}{{{sel}}}) {active})",
                instant=True,
            ),
            "percentunit",
            steps=[(0.75, "orange"), (0.9, "red")],
        ),
        6,
        7,
    )
    grid.add(
        timeseries(
            "Capacity",
            [
                Query(
                    f"max by (source) ({m.HDFS_CAPACITY_TOTAL_BYTES}{{{sel}}} {active})", "{{source}} total"
                ),
                Query(f"max by (source) ({m.HDFS_CAPACITY_USED_BYTES}{{{sel}}} {active})", "{{source}} used"),
                Query(
                    f"max by (source) ({m.HDFS_CAPACITY_REMAINING_BYTES}{{{sel}}} {active})",
                    "{{source}} remaining",
                ),
            ],
            "bytes",
        ),
        18,
        7,
    )
    grid.row("Blocks")
    grid.add(
        timeseries(
            "Block health",
            [
                Query(f"max by (source) ({m.HDFS_MISSING_BLOCKS}{{{sel}}} {active})", "{{source}} missing"),
                Query(f"max by (source) ({m.HDFS_CORRUPT_BLOCKS}{{{sel}}} {active})", "{{source}} corrupt"),
                Query(
                    f"max by (source) ({m.HDFS_UNDER_REPLICATED_BLOCKS}{{{sel}}} {active})",
                    "{{source}} under-replicated",
                ),
            ],
        ),
        12,
        7,
    )
    grid.add(
        timeseries(
            "Blocks and files",
            [
                Query(f"max by (source) ({m.HDFS_BLOCKS_TOTAL}{{{sel}}} {active})", "{{source}} blocks"),
                Query(f"max by (source) ({m.HDFS_FILES_TOTAL}{{{sel}}} {active})", "{{source}} files"),
            ],
        ),
        12,
        7,
    )
    grid.row("DataNodes")
    grid.add(
        timeseries(
            "DataNodes",
            [
                Query(f"max by (source) ({m.HDFS_LIVE_DATANODES}{{{sel}}} {active})", "{{source}} live"),
                Query(f"max by (source) ({m.HDFS_DEAD_DATANODES}{{{sel}}} {active})", "{{source}} dead"),
                Query(f"max by (source) ({m.HDFS_STALE_DATANODES}{{{sel}}} {active})", "{{source}} stale"),
            ],
        ),
        12,
        7,
    )
    grid.add(
        table(
            "DataNode usage",
            [
                Query(
                    f"{m.HDFS_DATANODE_USED_BYTES}{{{sel}}} / {m.HDFS_DATANODE_CAPACITY_BYTES}{{{sel}}}",
                    instant=True,
                )
            ],
            "percentunit",
        ),
        12,
        7,
    )
    grid.row("NameNode HA")
    grid.add(
        table(
            "NameNode HA state",
            [Query(f"{m.HDFS_HA_STATE}{{{sel}}} == 1", instant=True)],
            hidden=("Time", "Value", "__name__"),
        ),
        12,
        6,
    )
    grid.add(
        timeseries(
            "Checkpoint age", [Query(f"{m.HDFS_CHECKPOINT_AGE_SECONDS}{{{sel}}}", "{{namenode}}")], "s"
        ),
        12,
        6,
    )
    return component_board("hdfs", catalog, grid, [source_variable("hdfs")])
