"""Freshness: stale datasets, row-volume drops, failed Airflow runs and failed Great Expectations validations.

A dataset's age is read the same way wherever it comes from: the exporter's age gauge, or `time()` minus
the timestamp a batch job pushed to a Pushgateway (`watchkeeper push freshness`). Both are aggregated
`by (dataset)`, so the Pushgateway's `job`/`instance` labels (kept with `honor_labels: true`, renamed
`exported_*` without it) never split an alert.
"""

from __future__ import annotations

from catalog.model import Catalog
from catalog.model.freshness import FreshnessSource
from exporters import names as m
from rules.components.common import DUR, NUM, Draft, Scenario, Series, up_drafts
from rules.groups import Rule, RuleGroup
from rules.names import ROWS_WEEK_AGO
from rules.promql import matchers, number


def freshness_age(dataset: str) -> str:
    """The age of a dataset's newest data in seconds, scraped (the exporter's gauge) or pushed (`time()`
    minus the pushed timestamp), one series per source of it: aggregate it `by (dataset)`."""
    ds = matchers({"dataset": dataset})
    return f"{m.FRESHNESS_AGE_SECONDS}{ds} or (time() - {m.FRESHNESS_TIMESTAMP_SECONDS}{ds})"


def has_volume(src: FreshnessSource) -> bool:
    """The dataset reports a row count (a count query, or a push that may carry `--rows`) and its
    volume-drop alert is not disabled."""
    counted = (src.sql is not None and src.sql.count_query is not None) or src.push is not None
    override = src.alerts.get("volume_drop")
    return counted and (override is None or override.enabled)


def volume_recordings(catalog: Catalog, team: str) -> RuleGroup | None:
    """The team's week-ago row counts (`offset 1w`), recorded before its component alerts read them."""
    rules = [
        Rule(
            record=ROWS_WEEK_AGO,
            expr=f"max by (dataset) ({m.FRESHNESS_ROWS}{matchers({'dataset': s.dataset})} offset 1w)",
            labels={"dataset": s.dataset},
        )
        for s in catalog.sources.freshness
        if has_volume(s) and catalog.team_of(s.service).name == team
    ]
    return RuleGroup(f"watchkeeper-freshness-volume-{team}", rules) if rules else None


def _volume_drop(src: FreshnessSource) -> Draft:
    ds = {"dataset": src.dataset}
    rows = f"{m.FRESHNESS_ROWS}{matchers(ds)}"

    def scenario(t: float | None) -> Scenario:
        # The recorded week-ago count is fed as it is: a week of 1m evaluations per test would cost
        # minutes. tests/test_freshness_rules.py proves the `offset 1w` recording over a real week.
        share = t if t is not None else 0.5
        base = 1000.0
        dropped = base * share / 2  # under the share of last week's 1000 rows, whatever the share
        risen = base * max(1.0, share) * 2  # over it, even for a share above 1
        week_ago = Series(ROWS_WEEK_AGO, ds, f"{number(base)}x60")
        return Scenario(
            [Series(m.FRESHNESS_ROWS, ds, f"{number(dropped)}x60"), week_ago],
            [Series(m.FRESHNESS_ROWS, ds, f"{number(risen)}x60"), week_ago],
            ds,
            dropped,
        )

    return Draft(
        "volume_drop",
        "WatchkeeperDatasetVolumeDrop",
        lambda t: (
            f"max by (dataset) ({rows})\n< {number(t if t is not None else 0.5)} * "
            f"{ROWS_WEEK_AGO}{matchers(ds)}"
        ),
        f"Dataset {src.dataset} loaded far fewer rows than a week ago",
        f"{src.dataset} reports {NUM} rows, under the alert's share of the rows it had at the same hour "
        "one week earlier.",
        scenario,
    )


def _run_failed(src: FreshnessSource) -> Draft:
    assert src.airflow is not None
    ds = {"dataset": src.dataset}
    series = {**ds, "dag_id": src.airflow.dag_id}
    return Draft(
        "run_failed",
        "WatchkeeperAirflowRunFailed",
        lambda _t: f"max by (dataset) ({m.AIRFLOW_LAST_RUN_FAILED}{matchers(ds)}) == 1",
        f"The latest run of the Airflow DAG behind {src.dataset} failed",
        f"The latest finished run of DAG {src.airflow.dag_id} failed; {src.dataset} is not being refreshed.",
        lambda _t: Scenario(
            [Series(m.AIRFLOW_LAST_RUN_FAILED, series, "1x10")],
            [Series(m.AIRFLOW_LAST_RUN_FAILED, series, "0x10")],
            ds,
        ),
    )


def freshness_drafts(src: FreshnessSource) -> list[Draft]:
    """The component alerts of a dataset."""
    ds = {"dataset": src.dataset}
    drafts = [
        *up_drafts(m.FRESHNESS_PREFIX, "freshness", src.dataset),
        Draft(
            "stale",
            "WatchkeeperDatasetStale",
            lambda t: (
                f"max by (dataset) ({freshness_age(src.dataset)})\n> {number(t or src.max_age.seconds)}"
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
    if has_volume(src):
        drafts.append(_volume_drop(src))
    if src.airflow is not None:
        drafts.append(_run_failed(src))
    if src.great_expectations is not None:
        drafts.append(
            Draft(
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
