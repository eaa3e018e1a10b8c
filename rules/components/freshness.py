"""Freshness: stale datasets and failed Great Expectations validations."""

from __future__ import annotations

from catalog.model import FreshnessSource
from exporters import names as m
from rules.components.common import DUR, Draft, Scenario, Series, up_drafts
from rules.promql import matchers, number


def freshness_drafts(src: FreshnessSource) -> list[Draft]:
    """The component alerts of a dataset."""
    ds = {"dataset": src.dataset}
    drafts = [
        *up_drafts(m.FRESHNESS_PREFIX, "freshness", src.dataset),
        Draft(
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
