"""The drift engines on synthetic data with known shifts, hand-computed scores, and bad inputs.

Expected scores are computed by hand in the comments (or with the closed form of the distribution),
and every case is also checked against Evidently's preset (the reference implementation).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from drift.engines import compute_drift
from drift.errors import DriftInputError
from tests.drift_parity_helpers import assert_parity, both

ENGINES = ["fast", "evidently"]


def frames(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current with known shifts: `mean` +1 sd, `spread` sd x2, `new_cat` a new category,
    `nan` 30% NaN injected, `same`/`cat_same` unchanged."""
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame(
        {
            "mean": rng.normal(0, 1, n),
            "spread": rng.normal(0, 1, n),
            "same": rng.normal(0, 1, n),
            "nan": rng.normal(0, 1, n),
            "new_cat": rng.choice(["a", "b", "c"], n),
            "cat_same": rng.choice(["x", "y", "z"], n),
        }
    )
    nan = rng.permutation(reference["nan"].to_numpy())  # the same values, 30% replaced by NaN
    nan[rng.random(n) < 0.3] = np.nan
    current = pd.DataFrame(
        {
            "mean": rng.normal(1, 1, n),
            "spread": rng.normal(0, 2, n),
            "same": rng.permutation(reference["same"].to_numpy()),  # same values, new order: no drift
            "nan": nan,
            "new_cat": rng.choice(["a", "b", "c", "d"], n),
            "cat_same": rng.permutation(reference["cat_same"].to_numpy()),
        }
    )
    return reference, current


@pytest.mark.parametrize(
    ("n", "num_test", "cat_test"),
    [
        (600, "ks", "chisquare"),
        (1000, "ks", "chisquare"),
        (1001, "wasserstein", "jensenshannon"),
        (20000, "wasserstein", "jensenshannon"),
    ],
)
def test_known_shifts_below_and_above_the_1000_row_switch(n: int, num_test: str, cat_test: str) -> None:
    reference, current = frames(n)
    fast, evidently = both(reference, current, list(reference.columns))
    assert_parity(fast, evidently)
    verdict = {c.column: c.drift for c in fast.columns}
    assert verdict == {
        "mean": True,
        "spread": True,
        "same": False,
        "nan": False,
        "new_cat": True,
        "cat_same": False,
    }
    tests = {c.column: c.stattest for c in fast.columns}
    assert tests["mean"] == num_test and tests["new_cat"] == cat_test
    assert fast.drift_share == 0.5 and fast.dataset_drift  # 3 of 6 >= 0.5


def test_chisquare_by_hand() -> None:
    # a:50 b:30 c:20 vs a:30 b:30 c:40 (100 rows each): chi2 = 20^2/50 + 0 + 20^2/20 = 8 + 20 = 28, df = 2,
    # p = exp(-28/2) (the chi2 survival function with 2 degrees of freedom)
    reference = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 30 + ["c"] * 20})
    current = pd.DataFrame({"c": ["a"] * 30 + ["b"] * 30 + ["c"] * 40})
    for engine in ENGINES:
        column = compute_drift(reference, current, ["c"], engine=engine).columns[0]  # type: ignore[arg-type]
        assert column.stattest == "chisquare" and column.drift
        assert math.isclose(column.score or 0, math.exp(-14), rel_tol=1e-9)


def test_z_test_by_hand() -> None:
    # a:30 b:70 vs a:50 b:50: p1 = 0.7, p2 = 0.5, pooled 0.6, z = 0.2 / sqrt(0.6*0.4*(1/100+1/100)) = 2.886751,
    # two-sided p = erfc(z / sqrt 2) = 0.0038924
    reference = pd.DataFrame({"s": ["a"] * 30 + ["b"] * 70})
    current = pd.DataFrame({"s": ["a"] * 50 + ["b"] * 50})
    z = 0.2 / math.sqrt(0.6 * 0.4 * 0.02)
    for engine in ENGINES:
        column = compute_drift(reference, current, ["s"], engine=engine).columns[0]  # type: ignore[arg-type]
        assert column.stattest == "z" and column.drift
        assert math.isclose(column.score or 0, math.erfc(z / math.sqrt(2)), rel_tol=1e-9)
        assert math.isclose(column.score or 0, 0.0038924, rel_tol=1e-4)


def test_jensen_shannon_by_hand() -> None:
    # 1,002 reference rows half a, half b; current all a. m = (0.75, 0.25);
    # KL(p||m) = 0.5 ln(0.5/0.75) + 0.5 ln(0.5/0.25) = 0.1438410; KL(q||m) = ln(1/0.75) = 0.2876821;
    # JS distance = sqrt((0.1438410 + 0.2876821) / 2) = 0.4645012
    reference = pd.DataFrame({"s": ["a", "b"] * 501})
    current = pd.DataFrame({"s": ["a"] * 10})
    expected = math.sqrt((0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(2) + math.log(1 / 0.75)) / 2)
    assert math.isclose(expected, 0.4645012, rel_tol=1e-6)
    for engine in ENGINES:
        column = compute_drift(reference, current, ["s"], engine=engine).columns[0]  # type: ignore[arg-type]
        assert (column.stattest, column.threshold, column.drift) == ("jensenshannon", 0.1, True)
        assert math.isclose(column.score or 0, expected, rel_tol=1e-9)


def test_wasserstein_by_hand() -> None:
    # [0, 1, 2, 3] vs [1, 2, 3, 4]: W1 = 1 (every unit moves by 1); population sd of the reference is
    # sqrt(1.25), so the normed distance is 1 / sqrt(1.25) = 0.8944272
    reference = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0] * 300})  # 1,200 rows, but only 4 values:
    current = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0] * 300})  # 5 joint values -> Evidently picks JS; force W
    for engine in ENGINES:
        chosen = {"x": "wasserstein"}
        column = compute_drift(reference, current, ["x"], engine=engine, stattests=chosen).columns[0]  # type: ignore[arg-type]
        assert column.stattest == "wasserstein" and column.drift
        assert math.isclose(column.score or 0, 1 / math.sqrt(1.25), rel_tol=1e-9)


def test_infinities_are_dropped_like_nan() -> None:
    reference, current = frames(800, seed=3)
    current.loc[::7, "same"] = np.inf
    current.loc[::11, "mean"] = -np.inf
    assert_parity(*both(reference, current, ["same", "mean"]))


# --- bad inputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_empty_current_window_raises(engine: str) -> None:
    reference, _ = frames(50)
    with pytest.raises(DriftInputError, match="current window is empty"):
        compute_drift(reference, reference.iloc[0:0], ["mean"], engine=engine)  # type: ignore[arg-type]
    with pytest.raises(DriftInputError, match="reference window is empty"):
        compute_drift(reference.iloc[0:0], reference, ["mean"], engine=engine)  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ENGINES)
def test_problems_are_drift_not_health(engine: str) -> None:
    reference, current = frames(300)
    reference["when"] = pd.Timestamp("2024-01-01")
    current["when"] = pd.Timestamp("2024-02-01")
    current["same"] = current["same"].astype(str)  # type changed: schema drift
    current["cat_same"] = np.nan  # all NaN in the current window
    current = current.drop(columns=["mean"])  # missing
    result = compute_drift(reference, current, ["mean", "same", "cat_same", "when", "spread"], engine=engine)  # type: ignore[arg-type]
    problems = {c.column: c.problem for c in result.columns}
    assert problems["mean"] == "column 'mean' is missing from the current data"
    assert problems["same"] is not None and problems["same"].startswith(
        "schema drift: column 'same' is numeric"
    )
    assert problems["cat_same"] == "column 'cat_same' has no values (all NaN/inf) in the current data"
    assert problems["when"] is not None and "datetime" in problems["when"]
    assert problems["spread"] is None
    for column in result.columns[:4]:
        assert column.drift and column.score is None and column.stattest == "none"
    assert result.drifted == 5 and result.dataset_drift and len(result.problems) == 4


@pytest.mark.parametrize("engine", ENGINES)
def test_every_column_broken_is_dataset_drift(engine: str) -> None:
    reference = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    current = pd.DataFrame({"b": [1.0, 2.0, 3.0]})
    result = compute_drift(reference, current, ["a", "b"], engine=engine)  # type: ignore[arg-type]
    assert result.dataset_drift and result.drift_share == 1.0
    assert result.problems == [
        "column 'a' is missing from the current data",
        "column 'b' is missing from the reference data",
    ]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("stattests", "message"),
    [({"new_cat": "ks"}, "does not apply"), ({"mean": "no-such-test"}, "no-such-test")],
)
def test_unusable_stattest_is_a_clear_error(engine: str, stattests: dict[str, str], message: str) -> None:
    reference, current = frames(200)
    with pytest.raises(DriftInputError, match=message):
        compute_drift(reference, current, ["mean", "new_cat"], engine=engine, stattests=stattests)  # type: ignore[arg-type]


def test_bad_arguments() -> None:
    reference, current = frames(20)
    with pytest.raises(DriftInputError, match="drift_share"):
        compute_drift(reference, current, ["mean"], drift_share=0)
    with pytest.raises(DriftInputError, match="unknown engine"):
        compute_drift(reference, current, ["mean"], engine="slow")  # type: ignore[arg-type]
    with pytest.raises(DriftInputError, match="must be a DataFrame"):
        compute_drift([1, 2], current, ["mean"])  # type: ignore[arg-type]


def test_empty_column_list_means_every_reference_column() -> None:
    reference, current = frames(100)
    assert [c.column for c in compute_drift(reference, current, []).columns] == list(reference.columns)


# --- open-ended inputs: the fast engine agrees with Evidently on whatever hypothesis draws -------------

finite = hs.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
values = hs.one_of(finite, hs.just(float("nan")), hs.just(float("inf")))
categories = hs.one_of(hs.sampled_from(["a", "b", "c", "d", "e", "f"]), hs.none())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ref_num=hs.lists(values, min_size=1, max_size=25),
    cur_num=hs.lists(values, min_size=1, max_size=25),
    ref_cat=hs.lists(categories, min_size=1, max_size=25),
    cur_cat=hs.lists(categories, min_size=1, max_size=25),
    repeat=hs.sampled_from([1, 30]),
)
def test_fast_equals_evidently_on_drawn_data(
    ref_num: list[float],
    cur_num: list[float],
    ref_cat: list[str | None],
    cur_cat: list[str | None],
    repeat: int,
) -> None:
    reference = pd.DataFrame({"num": pd.Series(ref_num * repeat, dtype=float)})
    current = pd.DataFrame({"num": pd.Series(cur_num * repeat, dtype=float)})
    reference_c = pd.DataFrame({"cat": pd.Series(ref_cat * repeat, dtype=object)})
    current_c = pd.DataFrame({"cat": pd.Series(cur_cat * repeat, dtype=object)})
    assert_parity(*both(reference, current, ["num"]))
    assert_parity(*both(reference_c, current_c, ["cat"]))
