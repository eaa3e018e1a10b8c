"""YARN: lost and unhealthy NodeManagers, failing applications, throughput drops, saturated queues."""

from __future__ import annotations

from catalog.model.yarn import YarnSource
from exporters import names as m
from rules.components.common import (
    NUM,
    PCT,
    Draft,
    Scenario,
    Series,
    above,
    below,
    fraction_above,
    fraction_below,
    gauge_above,
    share,
    up_drafts,
)
from rules.ownership import Claimable, Part, owned
from rules.promql import matchers, number


def yarn_drafts(src: YarnSource) -> list[Draft | Claimable]:
    """The component alerts of a YARN cluster."""
    sel = {m.SOURCE_LABEL: src.name}
    s = matchers(sel)
    out = dict(sel)
    failed, completed, killed = (
        f"{n}_total" for n in (m.YARN_APPS_FAILED, m.YARN_APPS_COMPLETED, m.YARN_APPS_KILLED)
    )

    def inc(metric: str) -> str:
        return f"sum by (source) (increase({metric}{s}[30m]))"

    def apps(fail_per_min: int, ok_per_min: int) -> list[Series]:
        return [
            Series(failed, sel, f"0+{fail_per_min}x60"),
            Series(completed, sel, f"0+{ok_per_min}x60"),
            Series(killed, sel, "0x60"),
        ]

    def queues(used: float, queue: dict[str, str]) -> list[Series]:
        return [
            Series(m.YARN_QUEUE_USED_CAPACITY, queue, f"{number(used)}x40"),
            Series(m.YARN_QUEUE_MAX_CAPACITY, queue, "0.5x40"),
            Series(m.YARN_QUEUE_PENDING_CONTAINERS, queue, "4x40"),
        ]

    def saturated(part: Part) -> Draft:  # claimable: one alert per owner of the queues (rules/ownership.py)
        q = part.select(sel)
        queue = {**sel, "queue": part.example, "scheduler": "capacity"}
        return Draft(
            "queue_saturated",
            "WatchkeeperYarnQueueSaturated",
            lambda t: (
                f"max by (source, queue) ({m.YARN_QUEUE_USED_CAPACITY}{q} / {m.YARN_QUEUE_MAX_CAPACITY}{q})\n"
                f">= {number(t or 0)}\nand on(source, queue)\n"
                f"max by (source, queue) ({m.YARN_QUEUE_PENDING_CONTAINERS}{q}) > 0"
            ),
            f"A YARN {src.name} queue is at its maximum capacity",
            f"Queue {{{{ $labels.queue }}}} of YARN {src.name} uses {PCT} of its maximum capacity and has "
            "containers waiting.",
            lambda t: Scenario(  # max capacity 0.5: used is half the ratio
                queues(min(1.0, fraction_above(t, 0.98) or 1.0) / 2, queue),
                queues(fraction_below(t, 0.5) / 2, queue),
                {**sel, "queue": part.example},
                min(1.0, fraction_above(t, 0.98) or 1.0),
            ),
        )

    def queue_failed(part: Part) -> Draft:  # claimable: a queue's failed applications go to its owner
        ended = {**sel, "queue": part.example, "state": "failed"}
        return Draft(
            "queue_failed_apps",
            "WatchkeeperYarnQueueAppsFailed",
            lambda t: (
                f"max by (source, queue) ({m.YARN_QUEUE_APPS_ENDED}{part.select({**sel, 'state': 'failed'})})"
                f" > {number(t or 0)}"
            ),
            f"Applications failed in a YARN {src.name} queue",
            f"{NUM} applications of queue {{{{ $labels.queue }}}} on YARN {src.name} failed in the last "
            f"{src.applications_window}.",
            lambda t: Scenario(
                [Series(m.YARN_QUEUE_APPS_ENDED, ended, f"{number(above(t, 2))}x40")],
                [Series(m.YARN_QUEUE_APPS_ENDED, ended, f"{number(below(t, 0))}x40")],
                {**sel, "queue": part.example},
                above(t, 2),
            ),
        )

    completed_rate = f"sum by (source) (rate({completed}{s}[30m]"
    return [
        *up_drafts(m.YARN_PREFIX, "yarn", src.name),
        gauge_above(
            "lost_nodes",
            "WatchkeeperYarnLostNodes",
            m.YARN_NODES,
            {**sel, "state": "lost"},
            ("source",),
            f"YARN {src.name} lost NodeManagers",
            f"{NUM} NodeManagers of YARN {src.name} stopped heartbeating; their containers were lost.",
            2,
            0,
        ),
        gauge_above(
            "unhealthy_nodes",
            "WatchkeeperYarnUnhealthyNodes",
            m.YARN_NODES,
            {**sel, "state": "unhealthy"},
            ("source",),
            f"YARN {src.name} has unhealthy NodeManagers",
            f"{NUM} NodeManagers of YARN {src.name} fail their health check (often full local disks).",
            1,
            0,
        ),
        Draft(
            "failed_apps",
            "WatchkeeperYarnFailedApps",
            lambda t: (
                f"{inc(failed)}\n/\n({inc(failed)} + {inc(completed)} + {inc(killed)})\n> {number(t or 0)}"
            ),
            f"Jobs are failing on YARN {src.name}",
            f"{PCT} of the applications that finished on YARN {src.name} in the last 30 minutes failed.",
            lambda t: Scenario(
                apps(*share(fraction_above(t, 0.2) or 1.0)),
                apps(*share(fraction_below(t, 0.01))),
                out,
                fraction_above(t, 0.2) or 1.0,
                settle="30m",
            ),
        ),
        Draft(
            "throughput_drop",
            "WatchkeeperYarnThroughputDrop",
            lambda t: (
                f"{completed_rate}))\n< {number(t or 0)} * {completed_rate} offset 1h))\n"
                f"and\nsum by (source) (delta({m.YARN_APPS_PENDING}{s}[30m])) > 0"
            ),
            f"YARN {src.name} completes fewer applications while more wait",
            f"Applications complete on YARN {src.name} much more slowly than an hour ago while the pending "
            "queue grows: the scheduler or the cluster is stuck.",
            lambda _t: Scenario(
                [
                    Series(completed, sel, "0+10x90 900+2x60"),
                    Series(m.YARN_APPS_PENDING, sel, "0+1x150"),
                ],
                [
                    Series(completed, sel, "0+10x150"),
                    Series(m.YARN_APPS_PENDING, sel, "0+1x150"),
                ],
                out,
                settle="125m",
            ),
        ),
        owned("yarn_queue", saturated),
        owned("yarn_queue", queue_failed),
    ]
