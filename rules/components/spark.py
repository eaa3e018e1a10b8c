"""Spark: newly failed jobs and stages per application; executors spending their time in GC, and a driver
whose storage memory is nearly full, while the application runs (granularity executor)."""

from __future__ import annotations

from collections.abc import Callable

from catalog.model.spark import SparkSource
from exporters import names as m
from rules.components.common import (
    NUM,
    PCT,
    Draft,
    Scenario,
    Series,
    fraction_above,
    fraction_below,
    up_drafts,
)
from rules.ownership import Claimable, Part, owned
from rules.promql import number


def spark_drafts(src: SparkSource) -> list[Draft | Claimable]:
    """The component alerts of a Spark driver or history server."""
    sel = {m.SOURCE_LABEL: src.name}

    def new_failures(metric: str, part: Part) -> Callable[[float | None], str]:
        failed = f"{metric}{part.select({**sel, 'status': 'failed'})}"
        return lambda t: (
            f"sum by (source, app_name) (\n  ({failed} - {failed} offset 15m)\n  or\n  {failed}\n) > {number(t or 0)}"
        )

    def scenario(metric: str, part: Part) -> Callable[[float | None], Scenario]:
        labels = {**sel, "app_name": part.example, "app_id": "app-20261122-0001", "status": "failed"}
        out = {**sel, "app_name": part.example}
        return lambda _t: Scenario(
            [Series(metric, labels, "0x20 1x20")], [Series(metric, labels, "1x40")], out, 1, settle="25m"
        )

    def while_running(ratio: str, part: Part, by: str) -> Callable[[float | None], str]:
        running = f"{m.SPARK_APP_RUNNING}{part.select(sel)}"
        return lambda t: (
            f"max by ({by}) (\n  ({ratio})\n  and on (source, app_id)\n  ({running} == 1)\n) > {number(t or 0)}"
        )

    def executor_scenario(
        part: Part, used: str, total: str, executor: str, out: tuple[str, ...], hot: float, cold: float
    ) -> Callable[[float | None], Scenario]:
        app = {**sel, "app_name": part.example, "app_id": "app-20261122-0001"}
        at = {**app, "executor_id": executor}

        def series(ratio: float) -> list[Series]:
            return [
                Series(used, at, f"{number(ratio * 1000)}x40"),
                Series(total, at, "1000x40"),
                Series(m.SPARK_APP_RUNNING, app, "1x40"),
            ]

        def scenario(t: float | None) -> Scenario:
            fire = fraction_above(t, hot) or 2.0  # past 1 (a threshold of 1) only a synthetic series goes
            return Scenario(series(fire), series(fraction_below(t, cold)), {k: at[k] for k in out}, fire)

        return scenario

    def gc_share(part: Part) -> Draft:  # Spark's UI marks an executor red past 10% (executorspage.js)
        gc = f"{m.SPARK_EXECUTOR_GC_SECONDS}{part.select(sel)}"
        run = f"{m.SPARK_EXECUTOR_RUN_SECONDS}{part.select(sel)}"
        return Draft(
            "executor_gc_share",
            "WatchkeeperSparkExecutorGcHigh",
            while_running(f"{gc}\n  /\n  ({run} > 60)", part, "source, app_name, executor_id"),
            f"A Spark executor on {src.name} spends its time in GC",
            f"Executor {{{{ $labels.executor_id }}}} of application {{{{ $labels.app_name }}}} on {src.name} "
            f"spent {PCT} of its task time in JVM garbage collection.",
            executor_scenario(
                part,
                m.SPARK_EXECUTOR_GC_SECONDS,
                m.SPARK_EXECUTOR_RUN_SECONDS,
                "7",
                ("source", "app_name", "executor_id"),
                0.3,
                0.02,
            ),
        )

    def driver_memory(part: Part) -> Draft:
        driver = {**sel, "executor_id": m.SPARK_DRIVER_ID}
        used = f"{m.SPARK_EXECUTOR_MEMORY_USED_BYTES}{part.select(driver)}"
        total = f"{m.SPARK_EXECUTOR_MEMORY_MAX_BYTES}{part.select(driver)}"
        return Draft(
            "driver_memory_high",
            "WatchkeeperSparkDriverMemoryHigh",
            while_running(f"{used}\n  /\n  ({total} > 0)", part, "source, app_name"),
            f"A Spark driver on {src.name} is close to its memory limit",
            f"The driver of application {{{{ $labels.app_name }}}} on {src.name} uses {PCT} of its storage "
            "memory (broadcasts and collected blocks).",
            executor_scenario(
                part,
                m.SPARK_EXECUTOR_MEMORY_USED_BYTES,
                m.SPARK_EXECUTOR_MEMORY_MAX_BYTES,
                m.SPARK_DRIVER_ID,
                ("source", "app_name"),
                0.95,
                0.5,
            ),
        )

    return [
        *up_drafts(m.SPARK_PREFIX, "spark", src.name),
        owned(  # claimable: one alert per owner of the applications (rules/ownership.py)
            "spark_app",
            lambda part: Draft(
                "failed_jobs",
                "WatchkeeperSparkJobsFailed",
                new_failures(m.SPARK_APP_JOBS, part),
                f"Spark jobs failed on {src.name}",
                f"{NUM} jobs of application {{{{ $labels.app_name }}}} failed in the last 15 minutes on {src.name}.",
                scenario(m.SPARK_APP_JOBS, part),
            ),
        ),
        owned(
            "spark_app",
            lambda part: Draft(
                "failed_stages",
                "WatchkeeperSparkStagesFailed",
                new_failures(m.SPARK_APP_STAGES, part),
                f"Spark stages failed on {src.name}",
                f"{NUM} stages of application {{{{ $labels.app_name }}}} failed in the last 15 minutes on {src.name}.",
                scenario(m.SPARK_APP_STAGES, part),
            ),
        ),
        # Per-executor series exist only with granularity executor; without them these could never fire.
        *(
            [owned("spark_app", gc_share), owned("spark_app", driver_memory)]
            if src.granularity == "executor"
            else []
        ),
    ]
