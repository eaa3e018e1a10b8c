"""Panels for the parts a team or service owns, each with its health.

Parts of shared sources (consumer groups, topics, YARN queues, Spark applications) are joined with the
recorded `watchkeeper_part_ownership_info` (rules/ownership.py: the most specific claim wins), selected by
its `team` or `service` label. Whole sources, datasets, model endpoints and drift monitors belong to their
catalog service; Prometheus has no series for that, so their panels list the owner's names from the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from grafanalib import core as g

from dashboards.panels import Query, table
from dashboards.parts import PREFIX, Part
from drift import names as d
from exporters import names as m
from rules import names as r
from rules.promql import quote

UP_MAPPINGS = ((0, "Down", "red"), (1, "Up", "green"))
OWNER = "service"
"""The ownership label a part's row shows (its team is the variable's)."""


def any_of(names: Sequence[str]) -> str:
    """A quoted PromQL regex matching exactly these names."""
    return quote("|".join(re.escape(n) for n in sorted(set(names))))


def owner_of_team(team: str) -> str:
    """Owner matchers for the parts one team owns."""
    return f"team={quote(team)}"


def owner_of_service(service: str) -> str:
    """Owner matchers for the parts one service owns."""
    return f"service={quote(service)}"


def owned_by(kind: str, owner: str, labels: str, show: str = OWNER) -> str:
    """The join that keeps the parts of `kind` whose owner matches `owner` (PromQL matchers), adding
    their owning service."""
    return f"* on({labels}) group_left({show}) {r.PART_OWNERSHIP_INFO}{{kind={quote(kind)}, {owner}}}"


def _names(owned: Sequence[Part], kind: str) -> list[str]:
    return [p.name for p in owned if p.kind == kind]


def source_health(title: str, owned: Sequence[Part]) -> g.Panel:
    """`up` of each owned source, labelled with its kind."""
    return table(title, [Query(_health(owned), instant=True, column="Up", mappings=UP_MAPPINGS)])


def _health(owned: Sequence[Part]) -> str:
    queries = []
    for kind, prefix in PREFIX.items():
        names = [p.name for p in owned if p.kind == kind]
        if names:
            up = f"max by (source) ({m.up(prefix)}{{source=~{any_of(names)}}})"
            queries.append(f'label_replace({up}, "kind", "{kind}", "", "")')
    return " or ".join(queries)


def group_panels(owner: str) -> list[g.Panel]:
    """The owner's consumer groups (the chosen team's by default): lag in seconds and offsets, status."""
    join = owned_by("kafka_group", owner, f"{m.KAFKA_CLUSTER_LABEL}, group")
    key = f"{m.KAFKA_CLUSTER_LABEL}, group"
    lag = table(
        "Consumer groups: lag",
        [
            Query(
                f"max by ({key}) ({m.KAFKA_GROUP_MAX_LAG_SECONDS}) {join}",
                instant=True,
                column="Lag (seconds)",
                unit="s",
            ),
            Query(
                f"max by ({key}) ({m.KAFKA_GROUP_SUM_LAG_OFFSETS}) {join}",
                instant=True,
                column="Lag (offsets)",
                unit="short",
            ),
        ],
    )
    bad = "|".join(m.KAFKA_BAD_STATUSES)
    status = table(
        "Consumer groups: status",
        [Query(f"max by ({key}, status) ({m.KAFKA_GROUP_STATUS} == 1) {join}", instant=True)],
        description=f"Each group's status (Burrow's rules): {bad} need attention",
        hidden=("Time", "Value"),
    )
    return [lag, status]


def topics_panel(owner: str) -> g.Panel:
    """The chosen team's topics: their log-end offsets summed over partitions."""
    key = f"{m.KAFKA_CLUSTER_LABEL}, topic"
    join = owned_by("kafka_topic", owner, key)
    return table(
        "Topics: log-end offset",
        [
            Query(
                f"sum by ({key}) ({m.KAFKA_PARTITION_LATEST_OFFSET}) {join}",
                instant=True,
                column="Log-end offset",
            )
        ],
    )


def queues_panel(owner: str) -> g.Panel:
    """The chosen team's YARN queues: used capacity and failed applications."""
    key = f"{m.SOURCE_LABEL}, queue"
    join = owned_by("yarn_queue", owner, key)
    failed = f'sum by ({key}) ({m.YARN_QUEUE_APPS_ENDED}{{state="failed"}})'
    return table(
        "YARN queues: used capacity, failed applications",
        [
            Query(
                f"max by ({key}) ({m.YARN_QUEUE_USED_CAPACITY}) {join}",
                instant=True,
                column="Used capacity",
                unit="percentunit",
            ),
            Query(
                f"({failed} or 0 * max by ({key}) ({m.YARN_QUEUE_USED_CAPACITY})) {join}",
                instant=True,
                column="Failed applications",
                unit="short",
            ),
        ],
    )


def spark_panel(owner: str) -> g.Panel:
    """The chosen team's Spark applications: running, and failed jobs."""
    key = f"{m.SOURCE_LABEL}, app_name"
    join = owned_by("spark_app", owner, key)
    app = f"{key}, app_id"
    return table(
        "Spark applications: running, failed jobs",
        [
            Query(
                f"max by ({app}) ({m.SPARK_APP_RUNNING}) {join}",
                instant=True,
                column="Running",
                mappings=((0, "No", "text"), (1, "Yes", "green")),
            ),
            Query(
                f'max by ({app}) ({m.SPARK_APP_JOBS}{{status="failed"}}) {join}',
                instant=True,
                column="Failed jobs",
                unit="short",
            ),
        ],
    )


def datasets_panel(owned: Sequence[Part]) -> g.Panel | None:
    """Age of the newest data of the owner's datasets."""
    names = _names(owned, "freshness")
    if not names:
        return None
    expr = f"max by (dataset) ({m.FRESHNESS_AGE_SECONDS}{{dataset=~{any_of(names)}}})"
    return table("Datasets: age of the newest data", [Query(expr, instant=True, column="Age", unit="s")])


def models_panel(owned: Sequence[Part]) -> g.Panel | None:
    """Whether the last probe of each of the owner's model endpoints succeeded."""
    names = _names(owned, "inference")
    if not names:
        return None
    expr = f"max by (source) ({m.INFERENCE_PROBE_SUCCESS}{{source=~{any_of(names)}}})"
    mappings = ((0, "Failing", "red"), (1, "OK", "green"))
    return table(
        "Model endpoints: last probe", [Query(expr, instant=True, column="Last probe", mappings=mappings)]
    )


def drift_panel(owned: Sequence[Part]) -> g.Panel | None:
    """The drifted share of columns in the last run of each of the owner's drift monitors."""
    names = _names(owned, "drift")
    if not names:
        return None
    expr = f"max by (monitor) ({d.DRIFT_SHARE}{{monitor=~{any_of(names)}}})"
    return table(
        "Drift monitors: drifted share",
        [Query(expr, instant=True, column="Drifted share", unit="percentunit")],
    )
