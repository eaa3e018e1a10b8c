"""The Spark engine's histogram path on real Spark (local mode) against the pandas fast engine.

`exact_max_rows=0` sends every numeric column with more than 1,000 reference values to the histogram job,
so moderate frames exercise the path the 10M-row benchmark takes. Expected scores come from the pandas
engine (scipy's exact Wasserstein distance); the bounds come from Spark's own histogram job.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from drift import engine_spark, spark_jobs
from drift import spark_histograms as sh
from drift.engine_spark import compute_drift_spark
from drift.engines import compute_drift
from drift.result import DriftResult
from drift.spark_jobs import frame_stats, valid, value_count_frame
from tests.test_drift_engine_spark import local_spark

SPARK_REL_TOL = 1e-9  # exact paths: as in test_drift_engine_spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    yield from local_spark("watchkeeper-drift-histograms-test")


def histogram_path(spark: Any, reference: pd.DataFrame, current: pd.DataFrame, **kw: Any) -> DriftResult:
    return compute_drift_spark(
        spark.createDataFrame(reference),
        spark.createDataFrame(current),
        list(reference.columns),
        exact_max_rows=0,
        **kw,
    )


def spark_bounds(
    spark: Any, reference: pd.DataFrame, current: pd.DataFrame
) -> dict[str, tuple[float, float]]:
    """Each numeric column's normed Wasserstein interval from Spark's histogram job (as the engine bins)."""
    ref, cur = spark.createDataFrame(reference), spark.createDataFrame(current)
    names = [c for c in reference.columns if pd.api.types.is_numeric_dtype(reference[c])]
    _, rs = frame_stats(ref, names)
    _, cs = frame_stats(cur, names)
    norms = {n: max(float(rs[n]["sd"] or 0.0), 0.001) for n in names}
    specs = {
        n: sh.binning(min(rs[n]["lo"], cs[n]["lo"]), max(rs[n]["hi"], cs[n]["hi"]), rs[n]["mean"], norms[n])
        for n in names
    }
    hists = sh.histograms(ref, cur, names, specs, valid)
    out = {}
    for n in names:
        lower, upper = sh.wasserstein_interval(hists[n])
        out[n] = (lower / norms[n], upper / norms[n])
    return out


def assert_verdicts_and_bounds(spark: Any, reference: pd.DataFrame, current: pd.DataFrame) -> DriftResult:
    """Same stattest, threshold, verdict and problem as pandas; Wasserstein scores inside Spark's bounds,
    other scores equal; returns the Spark result."""
    columns = list(reference.columns)
    result = histogram_path(spark, reference, current)
    expected = compute_drift(reference, current, columns)
    bounds = spark_bounds(spark, reference, current)
    for s, p in zip(result.columns, expected.columns, strict=True):
        where = f"column {s.column!r}"
        assert (s.column, s.stattest, s.threshold, s.drift, s.kind) == (
            p.column,
            p.stattest,
            p.threshold,
            p.drift,
            p.kind,
        ), where
        assert (s.problem is None) == (p.problem is None), (where, s.problem, p.problem)
        if p.score is None:
            continue
        assert s.score is not None, where
        if s.stattest == "wasserstein":
            lower, upper = bounds[s.column]
            slack = 1e-9 * max(p.score, 1e-300)
            assert lower - slack <= p.score <= upper + slack, (where, lower, p.score, upper)
            # the midpoint of the bounds, or the exact score after a fallback: within half the width
            assert abs(s.score - p.score) <= (upper - lower) / 2 + slack, (where, s.score, p.score)
        else:
            assert math.isclose(s.score, p.score, rel_tol=SPARK_REL_TOL, abs_tol=1e-300), (
                where,
                s.score,
                p.score,
            )
    assert result.dataset_drift == expected.dataset_drift
    return result


def awkward_frames(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Columns above the 1,000-row switch that strain a histogram: a plain shift, one outlier 10^6 sd
    away, Cauchy tails, a constant column, a constant reference against a varying current, floats with
    4 values (Jensen-Shannon on counts), ints with 10 values (categorical) and with 40 (numeric, every
    bin one value), NaN and +-inf mixed in."""
    rng = np.random.default_rng(seed)

    def sample(shift: float) -> dict[str, Any]:
        outlier = rng.normal(shift, 1, n)
        outlier[0] = 1e6
        noisy = rng.normal(shift, 1, n)
        noisy[rng.random(n) < 0.1] = np.nan
        noisy[::97] = np.inf
        noisy[1::89] = -np.inf
        return {
            "shift": rng.normal(shift, 1, n),
            "outlier": outlier,
            "cauchy": rng.standard_cauchy(n) + shift,
            "constant": np.full(n, 2.5),
            "steady_ref": np.full(n, 1.0) if shift == 0 else rng.normal(1, 0.01, n),
            "four_values": rng.choice(
                [0.0, 1.0, 2.0, 3.5], n, p=[0.4, 0.3, 0.2, 0.1] if shift == 0 else [0.1, 0.2, 0.3, 0.4]
            ),
            "ten_ints": rng.integers(0, 10, n),
            "forty_ints": rng.integers(0, 40, n) + (3 if shift else 0),
            "nan_inf": noisy,
        }

    return pd.DataFrame(sample(0.0)), pd.DataFrame(sample(0.3))


def test_awkward_columns_match_pandas_within_the_bounds(spark: Any) -> None:
    reference, current = awkward_frames(4000, seed=1)
    result = assert_verdicts_and_bounds(spark, reference, current)
    tests = {c.column: c.stattest for c in result.columns}
    assert tests["four_values"] == "jensenshannon" and tests["ten_ints"] == "jensenshannon"
    assert tests["forty_ints"] == tests["outlier"] == tests["cauchy"] == "wasserstein"
    assert result.columns[0].kind == "num" and result.columns[6].kind == "cat"


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=hs.integers(1001, 6000),
    seed=hs.integers(0, 2**32 - 1),
    shift=hs.sampled_from([0.0, 0.05, 0.1, 0.3]),
    scale=hs.sampled_from([1e-6, 1.0, 1e9]),
    offset=hs.sampled_from([0.0, 1e6, -3e12]),
    decimals=hs.sampled_from([None, 0, 2]),
    tail=hs.sampled_from([None, 1e3, 1e12]),
)
def test_drawn_columns_match_pandas_within_the_bounds(
    spark: Any,
    n: int,
    seed: int,
    shift: float,
    scale: float,
    offset: float,
    decimals: int | None,
    tail: float | None,
) -> None:
    rng = np.random.default_rng(seed)

    def column(delta: float) -> np.ndarray:
        raw = rng.normal(delta, 1, n)
        if decimals is not None:
            raw = np.round(raw, decimals)
        values = offset + scale * raw
        if tail is not None:
            values[rng.random(n) < 0.01] = offset + scale * tail * rng.standard_cauchy()
        values[rng.random(n) < 0.05] = rng.choice([np.nan, np.inf, -np.inf])
        return values

    reference = pd.DataFrame({"a": column(0.0), "b": column(0.0)})
    current = pd.DataFrame({"a": column(shift), "b": column(0.0)})
    assert_verdicts_and_bounds(spark, reference, current)


def spy_on_ecdf(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the columns of every exact ECDF job the engine runs (the real job still runs)."""
    calls: list[list[str]] = []
    real = spark_jobs.ecdf_stats

    def spy(reference: Any, current: Any, names: Any) -> Any:
        calls.append(list(names))
        return real(reference, current, names)

    monkeypatch.setattr(engine_spark, "ecdf_stats", spy)
    return calls


def test_a_threshold_inside_the_bounds_falls_back_to_the_exact_ecdf(
    spark: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rng = np.random.default_rng(2)
    n = 30_000  # ~5 values per bin in the bulk, so spans have width and the interval too
    reference = pd.DataFrame({"above": rng.normal(0, 1, n)})
    reference["below"] = reference["above"]
    current = pd.DataFrame({"above": rng.normal(0.08, 1, n)})
    current["below"] = current["above"]
    lower, upper = spark_bounds(spark, reference, current)["above"]
    exact = compute_drift(reference, current, ["above"]).columns[0].score
    assert exact is not None and lower < exact < upper and (upper - lower) > 1e-6
    # thresholds just below and just above the exact score, both inside the bounds: only the exact ECDF
    # can tell the verdicts apart
    gap = min(exact - lower, upper - exact) / 2
    thresholds = {"above": exact - gap, "below": exact + gap}
    calls = spy_on_ecdf(monkeypatch)
    with caplog.at_level(logging.INFO, logger="drift.engine_spark"):
        result = histogram_path(spark, reference, current, thresholds=thresholds)
    expected = compute_drift(reference, current, ["above", "below"], thresholds=thresholds)
    assert calls == [[], ["above", "below"]]  # no exact columns first, then the two fallbacks
    assert "around threshold" in caplog.text
    assert [c.drift for c in result.columns] == [c.drift for c in expected.columns] == [True, False]
    for s, p in zip(result.columns, expected.columns, strict=True):
        assert s.score is not None and p.score is not None
        assert math.isclose(s.score, p.score, rel_tol=SPARK_REL_TOL), (s.score, p.score)


def test_far_from_the_threshold_no_exact_job_runs(spark: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 3000), "y": rng.normal(0, 1, 3000)})
    current = pd.DataFrame({"x": rng.normal(1, 1, 3000), "y": rng.normal(0, 1, 3000)})
    calls = spy_on_ecdf(monkeypatch)
    result = histogram_path(spark, reference, current)
    assert calls == [[], []] and [c.drift for c in result.columns] == [True, False]


def test_count_and_histogram_jobs_combine_map_side(spark: Any) -> None:
    reference, current = awkward_frames(50, seed=3)
    ref, cur = spark.createDataFrame(reference), spark.createDataFrame(current)
    counts = value_count_frame(ref, cur, ["ten_ints", "four_values"])
    spec = sh.binning(-1.0, 1.0, 0.0, 1.0)
    hist = sh.histogram_frame(ref, cur, ["shift", "outlier"], {"shift": spec, "outlier": spec}, valid)
    for frame, partial in ((counts, "partial_count"), (hist, "partial_min")):
        plan = frame._jdf.queryExecution().executedPlan().toString()
        # a partial aggregate before the shuffle: rows are combined per task, only distinct keys move
        assert plan.index(partial) > plan.index("Exchange"), plan


def test_text_is_told_from_categorical_at_exactly_half(spark: Any) -> None:
    # Evidently: text when more than half the non-null current values are distinct (Spark drops a text
    # column's counts in Spark, so they never reach the driver)
    n = 1200
    half = [f"v{i % 600}" for i in range(n)]  # 600 distinct of 1,200: categorical
    more = [f"v{i % 601}" for i in range(n)]  # 601 distinct: text
    rng = np.random.default_rng(8)
    reference = pd.DataFrame({"half": half, "more": more, "flag": rng.random(n) < 0.5})
    current = pd.DataFrame({"half": half[::-1], "more": more, "flag": rng.random(n) < 0.8})
    result = histogram_path(spark, reference, current)
    expected = compute_drift(reference, current, ["half", "flag"])
    half_s, more_s, flag_s = result.columns
    for s, p in zip((half_s, flag_s), expected.columns, strict=True):
        assert (s.kind, s.stattest, s.drift) == (p.kind, p.stattest, p.drift)
        assert s.stattest == "jensenshannon"
        assert s.score is not None and p.score is not None and math.isclose(s.score, p.score, rel_tol=1e-9)
    assert (half_s.drift, flag_s.drift) == (False, True)
    assert more_s.problem == "column 'more' has type text (string): drift is not tested by the Spark engine"


def test_an_overflowing_sd_scores_zero_as_numpy_does(spark: Any) -> None:
    # np.std of values near 1e200 overflows to inf, so pandas (and Evidently) score W / inf = 0
    rng = np.random.default_rng(9)
    reference = pd.DataFrame({"huge": rng.normal(0, 1, 3000) * 1e200})
    current = pd.DataFrame({"huge": rng.normal(5, 1, 3000) * 1e200})
    expected = compute_drift(reference, current, ["huge"]).columns[0]
    for exact_max_rows in (0, 10**6):  # the histogram and the exact ECDF path
        result = compute_drift_spark(
            spark.createDataFrame(reference),
            spark.createDataFrame(current),
            ["huge"],
            exact_max_rows=exact_max_rows,
        ).columns[0]
        assert (result.stattest, result.score, result.drift) == (
            expected.stattest,
            expected.score,
            expected.drift,
        )
        assert result.score == 0.0 and not result.drift
