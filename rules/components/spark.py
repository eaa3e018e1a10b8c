"""Spark: newly failed jobs and stages per application."""

from __future__ import annotations

from collections.abc import Callable

from catalog.model import SparkSource
from exporters import names as m
from rules.components.common import NUM, Draft, Scenario, Series, up_drafts
from rules.promql import matchers, number


def spark_drafts(src: SparkSource) -> list[Draft]:
    """The component alerts of a Spark driver or history server."""
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
        *up_drafts(m.SPARK_PREFIX, "spark", src.name),
        Draft(
            "failed_jobs",
            "WatchkeeperSparkJobsFailed",
            new_failures(m.SPARK_APP_JOBS),
            f"Spark jobs failed on {src.name}",
            f"{NUM} jobs of application {{{{ $labels.app_name }}}} failed in the last 15 minutes on {src.name}.",
            scenario(m.SPARK_APP_JOBS),
        ),
        Draft(
            "failed_stages",
            "WatchkeeperSparkStagesFailed",
            new_failures(m.SPARK_APP_STAGES),
            f"Spark stages failed on {src.name}",
            f"{NUM} stages of application {{{{ $labels.app_name }}}} failed in the last 15 minutes on {src.name}.",
            scenario(m.SPARK_APP_STAGES),
        ),
    ]
