"""Component alerts for every source kind, each with the synthetic series that prove it fires and stays silent.

Defaults come from `catalog.alert_defaults`; a source's `alerts:` block overrides them. Every alert
carries `team`, `service`, `tier`, `component` and `source`, so Alertmanager routes it to the owner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from catalog.alert_defaults import COMPONENT_ALERTS
from catalog.durations import Duration
from catalog.model import (
    AlertOverride,
    Catalog,
    DriftMonitor,
    FreshnessSource,
    HasAlerts,
    HdfsSource,
    InferenceSource,
    KafkaSource,
    SparkSource,
    Tier,
    YarnSource,
)
from drift import names as drift_names
from exporters import names as m
from rules.groups import Rule, RuleGroup
from rules.promql import matchers, number

PCT = "{{ $value | humanizePercentage }}"
NUM = "{{ $value | humanize }}"
DUR = "{{ $value | humanizeDuration }}"


@dataclass(frozen=True)
class Series:
    """One synthetic input series in promtool's notation (`values: 1+2x30`)."""

    metric: str
    labels: dict[str, str]
    values: str

    def text(self) -> str:
        return self.metric + matchers(self.labels)


@dataclass(frozen=True)
class Scenario:
    """Inputs under which an alert must fire, and inputs under which it must stay silent."""

    firing: list[Series]
    silent: list[Series]
    out_labels: dict[str, str]
    """The labels the alert expression itself yields while firing."""
    value: float | None = None
    """The alert's value while firing, when an annotation shows it."""
    settle: str = "5m"
    """How long after `for` elapses to check, so range functions have their samples."""


@dataclass(frozen=True)
class ComponentAlert:
    key: str
    rule: Rule
    scenario: Scenario
    eval_time: Duration


@dataclass(frozen=True)
class _Draft:
    """An alert before the catalog's overrides and the owner's labels are applied."""

    key: str
    name: str
    expr: Callable[[float | None], str]
    summary: str
    description: str
    scenario: Callable[[float | None], Scenario]
    by: dict[str, str] = field(default_factory=dict)


def _up_drafts(prefix: str, kind: str, source: str) -> list[_Draft]:
    sel = matchers({m.SOURCE_LABEL: source})
    labels = {m.SOURCE_LABEL: source}
    return [
        _Draft(
            "source_down",
            "WatchkeeperSourceDown",
            lambda _t: f"{m.up(prefix)}{sel} == 0",
            f"The {kind} source {source} cannot be scraped",
            f"The exporter has failed to collect {kind} source {source} for 5 minutes; its other alerts are "
            "blind. See the exporter's scrape_errors_total by kind.",
            lambda _t: Scenario(
                [Series(m.up(prefix), labels, "0x20")], [Series(m.up(prefix), labels, "1x20")], labels
            ),
        ),
        _Draft(
            "source_absent",
            "WatchkeeperSourceAbsent",
            lambda _t: f"absent({m.up(prefix)}{sel})",
            f"No exporter reports the {kind} source {source}",
            f"{m.up(prefix)} for {source} is missing: the exporter is down, not scraped, or not "
            "configured with this source.",
            lambda _t: Scenario([], [Series(m.up(prefix), labels, "1x20")], labels),
        ),
    ]


def _gauge_above(
    key: str,
    name: str,
    metric: str,
    sel: dict[str, str],
    by: tuple[str, ...],
    summary: str,
    description: str,
    fire: float,
    calm: float,
    extra: dict[str, str] | None = None,
) -> _Draft:
    """`max by (...) (metric) > threshold`, the commonest component alert."""
    series_labels = {**sel, **(extra or {})}
    out = {k: series_labels[k] for k in by}
    return _Draft(
        key,
        name,
        lambda t: f"max by ({', '.join(by)}) ({metric}{matchers(sel)}) > {number(t or 0)}",
        summary,
        description,
        lambda t: Scenario(
            [Series(metric, series_labels, f"{number(fire)}x40")],
            [Series(metric, series_labels, f"{number(calm)}x40")],
            out,
            fire,
        ),
    )


def hdfs_drafts(src: HdfsSource) -> list[_Draft]:
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

    def capacity_draft(key: str, name: str, summary: str, description: str) -> _Draft:
        """Used share above the threshold; fires at halfway between it and 1, silent at half of it."""
        return _Draft(
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
        *_up_drafts(m.HDFS_PREFIX, "hdfs", src.name),
        _gauge_above(
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
        _gauge_above(
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
        _Draft(
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
        _Draft(
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
        _gauge_above(
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
        _Draft(
            "safemode",
            "WatchkeeperHdfsSafemode",
            lambda _t: f"max by (source) ({m.HDFS_SAFEMODE}{s}) == 1",
            f"HDFS {src.name} is in safemode",
            f"The NameNode of HDFS {src.name} is in safemode: the filesystem is read-only.",
            lambda _t: Scenario(
                [Series(m.HDFS_SAFEMODE, nn, "1x20")], [Series(m.HDFS_SAFEMODE, nn, "0x20")], out
            ),
        ),
        _Draft(
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
        _Draft(
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


def yarn_drafts(src: YarnSource) -> list[_Draft]:
    sel = {m.SOURCE_LABEL: src.name}
    s = matchers(sel)
    out = dict(sel)
    failed, completed, killed = (
        f"{n}_total" for n in (m.YARN_APPS_FAILED, m.YARN_APPS_COMPLETED, m.YARN_APPS_KILLED)
    )
    queue = {**sel, "queue": "root.etl", "scheduler": "capacity"}

    def inc(metric: str) -> str:
        return f"sum by (source) (increase({metric}{s}[30m]))"

    def apps(fail_per_min: int, ok_per_min: int) -> list[Series]:
        return [
            Series(failed, sel, f"0+{fail_per_min}x60"),
            Series(completed, sel, f"0+{ok_per_min}x60"),
            Series(killed, sel, "0x60"),
        ]

    def queues(used: float) -> list[Series]:
        return [
            Series(m.YARN_QUEUE_USED_CAPACITY, queue, f"{number(used)}x40"),
            Series(m.YARN_QUEUE_MAX_CAPACITY, queue, "0.5x40"),
            Series(m.YARN_QUEUE_PENDING_CONTAINERS, queue, "4x40"),
        ]

    completed_rate = f"sum by (source) (rate({completed}{s}[30m]"
    return [
        *_up_drafts(m.YARN_PREFIX, "yarn", src.name),
        _gauge_above(
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
        _gauge_above(
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
        _Draft(
            "failed_apps",
            "WatchkeeperYarnFailedApps",
            lambda t: (
                f"{inc(failed)}\n/\n({inc(failed)} + {inc(completed)} + {inc(killed)})\n> {number(t or 0)}"
            ),
            f"Jobs are failing on YARN {src.name}",
            f"{PCT} of the applications that finished on YARN {src.name} in the last 30 minutes failed.",
            lambda _t: Scenario(apps(1, 4), apps(1, 99), out, 0.2, settle="30m"),
        ),
        _Draft(
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
        _Draft(
            "queue_saturated",
            "WatchkeeperYarnQueueSaturated",
            lambda t: (
                f"max by (source, queue) ({m.YARN_QUEUE_USED_CAPACITY}{s} / {m.YARN_QUEUE_MAX_CAPACITY}{s})\n"
                f">= {number(t or 0)}\nand on(source, queue)\n"
                f"max by (source, queue) ({m.YARN_QUEUE_PENDING_CONTAINERS}{s}) > 0"
            ),
            f"A YARN {src.name} queue is at its maximum capacity",
            f"Queue {{{{ $labels.queue }}}} of YARN {src.name} uses {PCT} of its maximum capacity and has "
            "containers waiting.",
            lambda _t: Scenario(queues(0.49), queues(0.25), {**sel, "queue": "root.etl"}, 0.98),
        ),
    ]


def spark_drafts(src: SparkSource) -> list[_Draft]:
    sel = {m.SOURCE_LABEL: src.name}
    app = {**sel, "app_name": "nightly-etl", "app_id": "app-20261122-0001"}
    out = {**sel, "app_name": "nightly-etl"}

    def new_failures(metric: str) -> Callable[[float | None], str]:
        failed = f"{metric}{matchers({**sel, 'status': 'failed'})}"
        return lambda t: (
            f"sum by (source, app_name) (\n  ({failed} - {failed} offset 15m)\n  or\n  {failed}\n) > {number(t or 0)}"
        )

    def scenario(metric: str) -> Callable[[float | None], Scenario]:
        labels = {**app, "status": "failed"}
        return lambda _t: Scenario(
            [Series(metric, labels, "0x20 1x20")], [Series(metric, labels, "1x40")], out, 1, settle="25m"
        )

    return [
        *_up_drafts(m.SPARK_PREFIX, "spark", src.name),
        _Draft(
            "failed_jobs",
            "WatchkeeperSparkJobsFailed",
            new_failures(m.SPARK_APP_JOBS),
            f"Spark jobs failed on {src.name}",
            f"{NUM} jobs of application {{{{ $labels.app_name }}}} failed in the last 15 minutes on {src.name}.",
            scenario(m.SPARK_APP_JOBS),
        ),
        _Draft(
            "failed_stages",
            "WatchkeeperSparkStagesFailed",
            new_failures(m.SPARK_APP_STAGES),
            f"Spark stages failed on {src.name}",
            f"{NUM} stages of application {{{{ $labels.app_name }}}} failed in the last 15 minutes on {src.name}.",
            scenario(m.SPARK_APP_STAGES),
        ),
    ]


def kafka_drafts(src: KafkaSource) -> list[_Draft]:
    cluster = {m.KAFKA_CLUSTER_LABEL: src.name}
    group = {**cluster, "group": "orders-etl"}
    sel = {m.SOURCE_LABEL: src.name}
    interval = src.poll_interval.seconds
    return [
        *_up_drafts(m.KAFKA_PREFIX, "kafka", src.name),
        _Draft(
            "lag_seconds",
            "WatchkeeperKafkaConsumerLagging",
            lambda t: (
                f"max by (cluster, group) ({m.KAFKA_GROUP_MAX_LAG_SECONDS}{matchers(cluster)}) > {number(t or 0)}"
            ),
            f"A consumer group on Kafka {src.name} is lagging",
            f"Consumer group {{{{ $labels.group }}}} on Kafka {src.name} is {DUR} behind.",
            lambda t: Scenario(
                [Series(m.KAFKA_GROUP_MAX_LAG_SECONDS, group, f"{number((t or 0) * 2)}x40")],
                [Series(m.KAFKA_GROUP_MAX_LAG_SECONDS, group, f"{number((t or 0) / 2)}x40")],
                group,
                (t or 0) * 2,
            ),
        ),
        _Draft(
            "partition_status",
            "WatchkeeperKafkaConsumerStatus",
            lambda _t: (
                f"max by (cluster, group, status) ({m.KAFKA_GROUP_STATUS}"
                f'{matchers(cluster)[:-1]}, status=~"{"|".join(m.KAFKA_BAD_STATUSES)}"}}) == 1'
            ),
            f"A consumer group on Kafka {src.name} is stalled, stopped or rewound",
            f"Consumer group {{{{ $labels.group }}}} on Kafka {src.name} is {{{{ $labels.status }}}} "
            "(Burrow's evaluation of its last commits).",
            lambda _t: Scenario(
                [Series(m.KAFKA_GROUP_STATUS, {**group, "status": "STALL"}, "1x20")],
                [Series(m.KAFKA_GROUP_STATUS, {**group, "status": "OK"}, "1x20")],
                {**group, "status": "STALL"},
            ),
        ),
        _Draft(
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


def freshness_drafts(src: FreshnessSource) -> list[_Draft]:
    ds = {"dataset": src.dataset}
    drafts = [
        *_up_drafts(m.FRESHNESS_PREFIX, "freshness", src.dataset),
        _Draft(
            "stale",
            "WatchkeeperDatasetStale",
            lambda t: (
                f"max by (dataset) ({m.FRESHNESS_AGE_SECONDS}{matchers(ds)}) > {number(t or src.max_age.seconds)}"
            ),
            f"Dataset {src.dataset} is stale",
            f"The newest data in {src.dataset} is {DUR} old (limit {src.max_age}).",
            lambda t: Scenario(
                [Series(m.FRESHNESS_AGE_SECONDS, ds, f"{number((t or src.max_age.seconds) * 2)}x20")],
                [Series(m.FRESHNESS_AGE_SECONDS, ds, f"{number((t or src.max_age.seconds) / 2)}x20")],
                ds,
                (t or src.max_age.seconds) * 2,
            ),
        ),
    ]
    if src.great_expectations is not None:
        drafts.append(
            _Draft(
                "expectations_failed",
                "WatchkeeperDataQualityFailed",
                lambda _t: f"min by (dataset) ({m.GE_VALIDATION_SUCCESS}{matchers(ds)}) == 0",
                f"Great Expectations validation failed for {src.dataset}",
                f"The latest Great Expectations validation of {src.dataset} failed.",
                lambda _t: Scenario(
                    [Series(m.GE_VALIDATION_SUCCESS, ds, "0x10")],
                    [Series(m.GE_VALIDATION_SUCCESS, ds, "1x10")],
                    ds,
                ),
            )
        )
    return drafts


def inference_drafts(src: InferenceSource) -> list[_Draft]:
    sel = {m.SOURCE_LABEL: src.name}
    s = matchers(sel)
    bucket = f"{m.INFERENCE_PROBE_DURATION_SECONDS}_bucket"
    drafts = [
        *_up_drafts(m.INFERENCE_PREFIX, "inference", src.name),
        _Draft(
            "error_ratio",
            "WatchkeeperInferenceErrors",
            lambda t: (
                f"sum by (source) (rate({m.INFERENCE_PROBE_ERRORS}_total{s}[5m]))\n/\n"
                f"sum by (source) (rate({m.INFERENCE_PROBES}_total{s}[5m]))\n> {number(t or 0)}"
            ),
            f"Probes of {src.name} are failing",
            f"{PCT} of the probes of {src.name} failed over the last 5 minutes.",
            lambda _t: Scenario(
                [
                    Series(f"{m.INFERENCE_PROBE_ERRORS}_total", {**sel, "kind": "timeout"}, "0+1x30"),
                    Series(f"{m.INFERENCE_PROBES}_total", sel, "0+4x30"),
                ],
                [
                    Series(f"{m.INFERENCE_PROBE_ERRORS}_total", {**sel, "kind": "timeout"}, "0x30"),
                    Series(f"{m.INFERENCE_PROBES}_total", sel, "0+4x30"),
                ],
                sel,
                0.25,
            ),
        ),
        _Draft(
            "probe_failing",
            "WatchkeeperInferenceProbeFailing",
            lambda _t: f"{m.INFERENCE_PROBE_SUCCESS}{s} == 0",
            f"{src.name} does not answer its probe",
            f"The last probes of {src.name} ({src.url}) failed for 5 minutes.",
            lambda _t: Scenario(
                [Series(m.INFERENCE_PROBE_SUCCESS, sel, "0x20")],
                [Series(m.INFERENCE_PROBE_SUCCESS, sel, "1x20")],
                sel,
            ),
        ),
    ]
    target = src.alerts.get("latency_p99", AlertOverride()).threshold or (
        src.latency_target.seconds if src.latency_target else None
    )
    if target is not None:

        def buckets(slow: bool) -> list[Series]:
            bounds = [target / 2, target * 2, target * 4]
            slot = 2 if slow else 0
            series = [
                Series(bucket, {**sel, "le": number(b)}, "0+1x30" if i >= slot else "0x30")
                for i, b in enumerate(bounds)
            ]
            return [*series, Series(bucket, {**sel, "le": "+Inf"}, "0+1x30")]

        drafts.append(
            _Draft(
                "latency_p99",
                "WatchkeeperInferenceSlow",
                lambda t: (
                    f"histogram_quantile(0.99, sum by (source, le) (rate({bucket}{s}[5m])))\n"
                    f"> {number(t or target)}"
                ),
                f"{src.name} answers slowly",
                f"The p99 latency of {src.name}'s probes is above {number(target)}s.",
                lambda _t: Scenario(buckets(True), buckets(False), sel),
            )
        )
    return drafts


def drift_drafts(mon: DriftMonitor) -> list[_Draft]:
    sel = {"monitor": mon.name}
    s = matchers(sel)
    schedule = mon.schedule.seconds
    last_run = drift_names.DRIFT_LAST_RUN_TIMESTAMP
    return [
        _Draft(
            "drift_detected",
            "WatchkeeperDataDrift",
            lambda _t: f"max by (monitor) ({drift_names.DRIFT_DETECTED}{s}) == 1",
            f"Data drift detected by {mon.name}",
            f"{mon.name} found drift in its current data against the reference; retraining is "
            f"{'triggered (cooldown ' + str(mon.retrain.cooldown) + ')' if mon.retrain else 'not configured'}.",
            lambda _t: Scenario(
                [Series(drift_names.DRIFT_DETECTED, sel, "1x10")],
                [Series(drift_names.DRIFT_DETECTED, sel, "0x10")],
                sel,
            ),
        ),
        _Draft(
            "drift_stale",
            "WatchkeeperDriftJobStale",
            lambda t: f"time() - max by (monitor) ({last_run}{s}) > {number((t or 0) * schedule)}",
            f"The drift job {mon.name} has not run",
            f"The drift job {mon.name} has not run for longer than the alert's limit (schedule {mon.schedule}).",
            lambda t: Scenario(
                [Series(last_run, sel, f"0x{int((t or 0) * schedule / 60) + 30}")],
                [Series(last_run, sel, f"0+60x{int((t or 0) * schedule / 60) + 30}")],
                sel,
                None,
                settle=f"{int((t or 0) * schedule / 60) + 1}m",
            ),
        ),
    ]


def _finish(
    draft: _Draft,
    entry: HasAlerts,
    kind: str,
    name: str,
    service: str,
    catalog: Catalog,
    runbook: str,
    dashboard: str,
) -> ComponentAlert | None:
    default = COMPONENT_ALERTS[kind][draft.key]
    override = entry.alerts.get(draft.key, AlertOverride())
    if not override.enabled:
        return None
    svc = catalog.service(service)
    severity = override.severity or default.severity
    if severity == "critical" and svc.tier is Tier.low:
        severity = "warning"  # low-tier services never page
    threshold = override.threshold if override.threshold is not None else default.threshold
    for_ = override.for_ or (Duration.parse(default.for_) if default.for_ else None)
    scenario = draft.scenario(threshold)
    rule = Rule(
        alert=draft.name,
        expr=draft.expr(threshold),
        for_=str(for_) if for_ else None,
        labels={
            **override.labels,
            "severity": severity,
            "team": svc.team,
            "service": service,
            "tier": svc.tier.value,
            "component": kind,
            m.SOURCE_LABEL: name,
        },
        annotations={
            "summary": draft.summary,
            "description": draft.description,
            "runbook_url": runbook,
            "dashboard_url": dashboard,
        },
    )
    eval_time = Duration((for_.ms if for_ else 0) + Duration.parse(scenario.settle).ms)
    return ComponentAlert(draft.key, rule, scenario, eval_time)


def component_alerts(
    catalog: Catalog, grafana_url: str, dashboard_uid: Callable[[str], str]
) -> dict[str, list[ComponentAlert]]:
    """Component alerts per team, in catalog order."""
    entries: list[tuple[HasAlerts, str, str, str, list[_Draft]]] = []
    src = catalog.sources
    entries += [(s, "hdfs", s.name, s.service, hdfs_drafts(s)) for s in src.hdfs]
    entries += [(s, "yarn", s.name, s.service, yarn_drafts(s)) for s in src.yarn]
    entries += [(s, "spark", s.name, s.service, spark_drafts(s)) for s in src.spark]
    entries += [(s, "kafka", s.name, s.service, kafka_drafts(s)) for s in src.kafka]
    entries += [(s, "freshness", s.dataset, s.service, freshness_drafts(s)) for s in src.freshness]
    entries += [(s, "inference", s.name, s.service, inference_drafts(s)) for s in src.inference]
    entries += [(d, "drift", d.name, d.service, drift_drafts(d)) for d in catalog.drift]
    base = grafana_url.rstrip("/")
    out: dict[str, list[ComponentAlert]] = {}
    for entry, kind, name, service, drafts in entries:
        svc = catalog.service(service)
        dashboard = f"{base}/d/{dashboard_uid(service)}"
        runbook = svc.runbook or dashboard
        for draft in drafts:
            done = _finish(draft, entry, kind, name, service, catalog, runbook, dashboard)
            if done is not None:
                out.setdefault(svc.team, []).append(done)
    return out


def component_group(team: str, alerts: list[ComponentAlert]) -> RuleGroup:
    return RuleGroup(f"watchkeeper-components-{team}", [a.rule for a in alerts])
