"""Per-column thresholds in the catalog: which stattests compare a p-value is read off Evidently's own
verdicts (not retyped from its source), and a threshold no run could ever pass is a catalog error with
file, line and fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from catalog.model.drift import DRIFT_STATTESTS, P_VALUE_STATTESTS
from tests.conftest import run_cli
from tests.test_drift_cli import HEAD


def _evidently_says_p_value(name: str) -> bool:
    """Run Evidently's registered test on shifted data at thresholds just above and just below its score: a
    p-value test calls drift when the score is below the threshold, a distance when it is above."""
    from evidently.legacy.calculations.stattests import registry
    from evidently.legacy.core import ColumnType

    tests = registry._registered_stat_tests[name]
    rng = np.random.default_rng(7)
    if ColumnType.Numerical in tests:
        kind = ColumnType.Numerical
        reference = pd.Series(rng.normal(0, 1, 300))
        current = pd.Series(rng.normal(0.15, 1, 300))
    else:
        kind = ColumnType.Categorical
        reference = pd.Series(rng.choice(["a", "b"], 300, p=[0.5, 0.5]))
        current = pd.Series(rng.choice(["a", "b"], 300, p=[0.45, 0.55]))

    def run(threshold: float) -> object:
        np.random.seed(0)  # empirical_mmd permutes with the global generator: the same score each call
        return tests[kind](reference, current, kind, threshold)

    score = run(0.5).drift_score  # type: ignore[attr-defined]
    above = run(score * 1.01 + 1e-12).drifted  # type: ignore[attr-defined]
    below = run(score * 0.99 - 1e-12 if score > 0 else 0.0).drifted  # type: ignore[attr-defined]
    assert above != below, f"{name}: the verdict does not turn at the score ({score})"
    return bool(above)


@pytest.mark.parametrize("name", sorted(DRIFT_STATTESTS))
def test_p_value_stattests_are_the_ones_evidently_judges_below_the_threshold(name: str) -> None:
    assert _evidently_says_p_value(name) == (name in P_VALUE_STATTESTS)


BODY = """drift:
  - name: x
    service: churn-serving
    reference: {path: a.csv}
    current: {path: b.csv}
    columns: [age]
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "    stattests: {age: ks}\n    thresholds: {age: 1}\n",
            "thresholds: column 'age': 1 for ks, whose score is a p-value",
        ),
        (
            "    stattests: {age: chisquare}\n    thresholds: {age: 5}\n",
            "use a p-value floor such as 0.05",
        ),
        (
            "    thresholds: {age: 0}\n",
            "column 'age': threshold 0 must be above 0 (a p-value floor such as 0.05",
        ),
        ("    thresholds: {age: -0.5}\n", "threshold -0.5 must be above 0"),
    ],
)
def test_a_threshold_no_run_could_pass_is_a_catalog_error(tmp_path: Path, extra: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + BODY + extra)
    result = run_cli("drift", "run", str(path))
    assert result.code == 2, result.output
    assert "bad.yaml:" in result.stderr and 'drift[0] "x"' in result.stderr
    assert expected in result.stderr, result.stderr


@pytest.mark.parametrize(
    "extra",
    [
        "    stattests: {age: wasserstein}\n    thresholds: {age: 5}\n",  # a distance may be above 1
        "    stattests: {age: ks}\n    thresholds: {age: 0.999}\n",
        "    thresholds: {age: 3}\n",  # default test: a distance above 1,000 rows
    ],
)
def test_thresholds_a_run_can_pass_are_accepted(tmp_path: Path, extra: str) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(HEAD + BODY + extra)
    result = run_cli("validate", str(path))
    assert result.code == 0, result.output
