"""HDFS: missing, corrupt and under-replicated blocks, capacity, DataNodes, safemode and NameNode HA."""

from __future__ import annotations

from catalog.model.hdfs import HdfsSource
from exporters import names as m
from rules.components.common import NUM, PCT, Draft, Scenario, Series, gauge_above, up_drafts
from rules.promql import matchers, number


def hdfs_drafts(src: HdfsSource) -> list[Draft]:
    """The component alerts of an HDFS cluster."""
    sel = {m.SOURCE_LABEL: src.name}
    nn = {**sel, "namenode": "nn1:9870"}
    nn2 = {**sel, "namenode": "nn2:9870"}
    out = dict(sel)
    s = matchers(sel)
    ratio = f"{m.HDFS_CAPACITY_USED_BYTES}{s} / {m.HDFS_CAPACITY_TOTAL_BYTES}{s}"

    def capacity(used: float) -> list[Series]:
        return [
            Series(m.HDFS_CAPACITY_USED_BYTES, nn, f"{number(used)}x40"),
            Series(m.HDFS_CAPACITY_TOTAL_BYTES, nn, "100x40"),
        ]

    def capacity_draft(key: str, name: str, summary: str, description: str) -> Draft:
        """Used share above the threshold; fires at halfway between it and 1, silent at half of it."""
        return Draft(
            key,
            name,
            lambda t: f"max by (source) ({ratio}) > {number(t or 0)}",
            f"HDFS {src.name} {summary}",
            f"HDFS {src.name} is {PCT} {description}",
            lambda t: Scenario(
                capacity(round(((t or 0) + 1) / 2 * 100, 6)),
                capacity(round((t or 0) * 50, 6)),
                out,
                round(((t or 0) + 1) / 2, 6),
            ),
        )

    return [
        *up_drafts(m.HDFS_PREFIX, "hdfs", src.name),
        gauge_above(
            "missing_blocks",
            "WatchkeeperHdfsMissingBlocks",
            m.HDFS_MISSING_BLOCKS,
            sel,
            ("source",),
            f"HDFS {src.name} has missing blocks",
            f"{NUM} blocks of HDFS {src.name} have no replica left: the files holding them cannot be read.",
            3,
            0,
            {"namenode": "nn1:9870"},
        ),
        gauge_above(
            "corrupt_blocks",
            "WatchkeeperHdfsCorruptBlocks",
            m.HDFS_CORRUPT_BLOCKS,
            sel,
            ("source",),
            f"HDFS {src.name} has corrupt blocks",
            f"{NUM} blocks of HDFS {src.name} are corrupt. Run `hdfs fsck / -list-corruptfileblocks`.",
            2,
            0,
            {"namenode": "nn1:9870"},
        ),
        Draft(
            "under_replicated_rising",
            "WatchkeeperHdfsUnderReplicatedBlocksRising",
            lambda t: (
                f"max by (source) (delta({m.HDFS_UNDER_REPLICATED_BLOCKS}{s}[1h])) > {number(t or 0)}\n"
                f"and\nmax by (source) ({m.HDFS_UNDER_REPLICATED_BLOCKS}{s}) > 0"
            ),
            f"Under-replicated blocks keep rising in HDFS {src.name}",
            f"HDFS {src.name} has more under-replicated blocks than an hour ago: DataNodes or disks are "
            "failing faster than re-replication catches up.",
            lambda _t: Scenario(
                [Series(m.HDFS_UNDER_REPLICATED_BLOCKS, nn, "100+10x120")],
                [Series(m.HDFS_UNDER_REPLICATED_BLOCKS, nn, "100x120")],
                out,
                settle="60m",
            ),
        ),
        capacity_draft("capacity_warning", "WatchkeeperHdfsCapacityHigh", "is filling up", "full."),
        capacity_draft(
            "capacity_critical",
            "WatchkeeperHdfsCapacityCritical",
            "is nearly full",
            "full: writes will soon fail.",
        ),
        Draft(
            "capacity_full_soon",
            "WatchkeeperHdfsFullSoon",
            lambda t: (
                f"min by (source) (predict_linear({m.HDFS_CAPACITY_REMAINING_BYTES}{s}[6h], "
                f"{number(t or 0)})) < 0"
            ),
            f"HDFS {src.name} will be full soon",
            f"At the rate of the last 6 hours, HDFS {src.name} runs out of space within the alert's horizon.",
            lambda t: Scenario(
                # 1000 bytes left, falling by 2000 bytes per horizon: empty well within it.
                [
                    Series(
                        m.HDFS_CAPACITY_REMAINING_BYTES, nn, f"1000-{number(2000 * 60 / max(t or 0, 60))}x120"
                    )
                ],
                [Series(m.HDFS_CAPACITY_REMAINING_BYTES, nn, "1000x120")],
                out,
                settle="10m",
            ),
        ),
        gauge_above(
            "dead_datanodes",
            "WatchkeeperHdfsDeadDataNodes",
            m.HDFS_DEAD_DATANODES,
            sel,
            ("source",),
            f"HDFS {src.name} has dead DataNodes",
            f"{NUM} DataNodes of HDFS {src.name} are dead; their blocks are being re-replicated.",
            2,
            0,
            {"namenode": "nn1:9870"},
        ),
        Draft(
            "safemode",
            "WatchkeeperHdfsSafemode",
            lambda _t: f"max by (source) ({m.HDFS_SAFEMODE}{s}) == 1",
            f"HDFS {src.name} is in safemode",
            f"The NameNode of HDFS {src.name} is in safemode: the filesystem is read-only.",
            lambda _t: Scenario(
                [Series(m.HDFS_SAFEMODE, nn, "1x20")], [Series(m.HDFS_SAFEMODE, nn, "0x20")], out
            ),
        ),
        Draft(
            "no_active_namenode",
            "WatchkeeperHdfsNoActiveNameNode",
            lambda _t: f"sum by (source) ({m.HDFS_HA_ACTIVE}{s}) < 1",
            f"HDFS {src.name} has no active NameNode",
            f"No NameNode of HDFS {src.name} reports itself active: clients cannot read or write.",
            lambda _t: Scenario(
                [Series(m.HDFS_HA_ACTIVE, nn, "0x20"), Series(m.HDFS_HA_ACTIVE, nn2, "0x20")],
                [Series(m.HDFS_HA_ACTIVE, nn, "1x20"), Series(m.HDFS_HA_ACTIVE, nn2, "0x20")],
                out,
            ),
        ),
        Draft(
            "multiple_active_namenodes",
            "WatchkeeperHdfsSplitBrain",
            lambda _t: f"sum by (source) ({m.HDFS_HA_ACTIVE}{s}) > 1",
            f"HDFS {src.name} has more than one active NameNode",
            f"{NUM} NameNodes of HDFS {src.name} report themselves active (split brain): fence one now.",
            lambda _t: Scenario(
                [Series(m.HDFS_HA_ACTIVE, nn, "1x20"), Series(m.HDFS_HA_ACTIVE, nn2, "1x20")],
                [Series(m.HDFS_HA_ACTIVE, nn, "1x20"), Series(m.HDFS_HA_ACTIVE, nn2, "0x20")],
                out,
                2,
            ),
        ),
    ]
