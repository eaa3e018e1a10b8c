"""The Spark engine's histogram bounds, on the driver alone: the exact Wasserstein distance (scipy's, the
pandas engine's) always lies inside the interval, and the interval is narrow where it should be.

The bins are made here with numpy, as Spark makes them (`bin_expr`), including deliberately wrong bin
assignments: the bounds rely only on each bin's true min and max, so rounding in the binning cannot
break them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs
from scipy.stats import wasserstein_distance

from drift import spark_histograms as sh


def histogram(ref: np.ndarray, cur: np.ndarray, bins: np.ndarray | None = None) -> sh.Histogram:
    """Group both samples by bin (the signed-log binning unless `bins` gives every value's bin)."""
    both = np.concatenate((ref, cur))
    side = np.concatenate((np.zeros(ref.size), np.ones(cur.size)))
    if bins is None:
        norm = max(float(np.std(ref)), 0.001)
        spec = sh.binning(float(both.min()), float(both.max()), float(np.mean(ref)), norm)
        raw = np.floor((spec.t(both) - spec.t_low) / spec.step)
        bins = np.clip(raw, 0, sh.BINS - 1).astype(np.int64)
    ids, where = np.unique(bins, return_inverse=True)
    k = ids.size
    ref_counts = np.bincount(where, weights=1.0 - side, minlength=k).astype(float)
    cur_counts = np.bincount(where, weights=side, minlength=k).astype(float)
    low, high = np.full(k, np.inf), np.full(k, -np.inf)
    np.minimum.at(low, where, both)
    np.maximum.at(high, where, both)
    spans = []
    for part, values, counts in (
        (slice(None, ref.size), ref, ref_counts),
        (slice(ref.size, None), cur, cur_counts),
    ):
        side_low, side_high = np.full(k, np.inf), np.full(k, -np.inf)
        np.minimum.at(side_low, where[part], values)
        np.maximum.at(side_high, where[part], values)
        side_low[counts == 0] = side_high[counts == 0] = np.nan
        spans += [side_low, side_high]
    return sh.Histogram(ref_counts, cur_counts, low, high, *spans)


def assert_inside(ref: np.ndarray, cur: np.ndarray, bins: np.ndarray | None = None) -> tuple[float, float]:
    lower, upper = sh.wasserstein_interval(histogram(ref, cur, bins))
    exact = wasserstein_distance(ref, cur)
    slack = 1e-9 * max(abs(exact), 1e-300) + 1e-12 * (np.max(np.abs(np.concatenate((ref, cur)))))
    assert lower - slack <= exact <= upper + slack, (lower, exact, upper)
    return lower, upper


finite = hs.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
samples = hs.lists(finite, min_size=1, max_size=300).map(np.array)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ref=samples, cur=samples)
def test_the_exact_distance_is_inside_the_bounds(ref: np.ndarray, cur: np.ndarray) -> None:
    assert_inside(ref, cur)


@settings(max_examples=100, deadline=None)
@given(ref=samples, cur=samples, data=hs.data())
def test_bounds_hold_for_any_grouping_of_values(
    ref: np.ndarray, cur: np.ndarray, data: hs.DataObject
) -> None:
    # bins assigned at random (overlapping spans, non-monotone order): merging keeps the bounds valid
    n = ref.size + cur.size
    bins = np.array(data.draw(hs.lists(hs.integers(0, 7), min_size=n, max_size=n)))
    assert_inside(ref, cur, bins)


def test_few_distinct_values_give_the_exact_distance() -> None:
    rng = np.random.default_rng(3)
    ref, cur = rng.integers(0, 7, 50_000).astype(float), rng.integers(1, 9, 40_000).astype(float)
    lower, upper = assert_inside(ref, cur)
    assert (
        lower == pytest.approx(upper, rel=1e-12) == pytest.approx(wasserstein_distance(ref, cur), rel=1e-12)
    )


@pytest.mark.parametrize(
    ("outlier", "widest"),
    [(None, 0.01), (1e6, 0.01), (1e300, 0.2)],
)
def test_outliers_keep_the_bounds_narrow(outlier: float | None, widest: float) -> None:
    # one current value far out: equal-width bins over [min, max] would each be wider than the whole bulk
    # (1e6 / 2^14 = 61 sd); signed-log bins lose resolution only with log(range / sd)
    rng = np.random.default_rng(11)
    ref, cur = rng.normal(0, 1, 200_000), rng.normal(0.05, 1, 200_000)
    if outlier is not None:
        cur[0] = outlier
    lower, upper = assert_inside(ref, cur)
    assert (upper - lower) / max(float(np.std(ref)), 0.001) < widest


def test_heavy_tailed_samples() -> None:
    rng = np.random.default_rng(5)
    ref, cur = rng.standard_cauchy(100_000), rng.standard_cauchy(100_000) * 1.2
    lower, upper = assert_inside(ref, cur)
    assert (upper - lower) / max(float(np.std(ref)), 0.001) < 0.01


def test_constant_columns() -> None:
    ref, cur = np.full(5000, 3.5), np.full(4000, 3.5)
    assert sh.wasserstein_interval(histogram(ref, cur)) == (0.0, 0.0)
    lower, upper = assert_inside(ref, np.full(10, 4.0))
    assert lower == upper == pytest.approx(0.5)


def test_distinct_bounds() -> None:
    low = np.array([1.0, 2.0, 3.0, 7.0])
    assert sh.distinct_bounds(low, low.copy()) == (4, True)
    assert sh.distinct_bounds(low, np.array([1.0, 2.5, 3.0, 7.0])) == (5, False)
    # overlapping spans are merged before counting: [1, 2.5] and [2, 3] hold at least 2 values together
    assert sh.distinct_bounds(np.array([1.0, 2.0, np.nan]), np.array([2.5, 3.0, np.nan])) == (2, False)


def test_certain_verdicts_only_away_from_the_threshold() -> None:
    assert sh.certain("wasserstein", 0.2, 0.3, 0.1) is True
    assert sh.certain("wasserstein", 0.01, 0.05, 0.1) is False
    assert sh.certain("wasserstein", 0.09, 0.11, 0.1) is None
    # within the relative margin of the threshold: not certain, the exact ECDF decides
    assert sh.certain("wasserstein", 0.1, 0.1, 0.1) is None
    assert sh.certain("wasserstein", 0.0, 0.0, 0.0) is True  # a zero threshold: every score drifts
