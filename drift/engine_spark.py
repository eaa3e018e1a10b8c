"""The fast engine on Spark DataFrames: counts, ECDFs, histograms and moments in Spark, verdicts as pandas.

A fixed number of Spark jobs, whatever the number of columns: one aggregate pass per frame (row and valid
counts, min, max, mean, population sd), one grouped count of the values of every string and boolean column
of both frames (a string column with too many distinct values is text, and its values never leave Spark),
and for numeric columns either exact ECDFs (small inputs and K-S, `spark_jobs.ecdf_stats`) or one fine
histogram job whose certified bounds decide the Wasserstein verdict (`drift.spark_histograms`). A column
whose bounds straddle its threshold is recomputed with the exact ECDF, so verdicts are the pandas
engine's. Int columns without nulls go through the numeric jobs, whose distinct counts make them
categorical (at most 10 values, then counted) or numeric. Only per-column summaries reach the driver.
Supported stattests: Evidently's defaults (ks, chisquare, z, wasserstein, jensenshannon); text columns
are reported as a problem.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from drift import spark_histograms as sh
from drift import stattests_fast as st
from drift.column_types import INTEGER_CARDINALITY_LIMIT, ColumnCheck, missing_problem
from drift.engine_fast import validate_stattest
from drift.engines import assemble
from drift.errors import DriftInputError
from drift.result import ColumnDrift, DriftResult
from drift.spark_jobs import (
    distinct_count,
    ecdf_stats,
    frame_stats,
    sturges_percents,
    types_of,
    valid,
    value_counts,
)

log = logging.getLogger(__name__)

EXACT_MAX_ROWS = 200_000  # valid values (reference + current) up to which numeric columns get exact ECDFs


def storage_kind(data_type: Any) -> str:
    from pyspark.sql import types as T  # noqa: N812

    if isinstance(data_type, T.BooleanType):
        return "bool"
    if isinstance(data_type, T.NumericType):
        return "numeric"
    if isinstance(data_type, (T.StringType, T.VarcharType, T.CharType)):
        return "string"
    if isinstance(data_type, (T.TimestampType, T.DateType, T.TimestampNTZType)):
        return "datetime"
    return str(data_type.simpleString())


def spark_kind(data_type: Any, stats: dict[str, Any], counted: bool) -> str:
    """Evidently's type rules on the column as pandas would hold it (`toPandas`). An int column without
    nulls is "int": categorical with at most 10 distinct values, decided with the numeric columns'
    distinct counts. A string column is text when its current values were too many to count (`counted`
    false: more than half its non-null values are distinct)."""
    from pyspark.sql import types as T  # noqa: N812

    if isinstance(data_type, (T.FloatType, T.DoubleType, T.DecimalType)):
        return "num"
    if isinstance(data_type, T.BooleanType):
        return "cat"
    if isinstance(data_type, T.IntegralType):
        return "num" if stats["nn"] < stats["total"] else "int"  # with nulls, float64 in pandas
    if isinstance(data_type, T.StringType):
        return "cat" if counted else "text"
    return "unknown"


def check(
    name: str, ref_types: Any, cur_types: Any, ref_stats: Any, cur_stats: Any, counted: bool
) -> ColumnCheck:
    problem = missing_problem(name, name in ref_types, name in cur_types)
    if problem:
        return ColumnCheck(name, problem)
    rk, ck = storage_kind(ref_types[name]), storage_kind(cur_types[name])
    if rk != ck and ref_stats[name]["nn"] and cur_stats[name]["nn"]:
        return ColumnCheck(
            name,
            f"schema drift: column {name!r} is {rk} ({ref_types[name].simpleString()}) in the reference "
            f"but {ck} ({cur_types[name].simpleString()}) in the current data",
        )
    if not ref_stats[name]["n"]:
        return ColumnCheck(name, f"column {name!r} has no values (all NaN/inf) in the reference data")
    if not cur_stats[name]["n"]:
        return ColumnCheck(name, f"column {name!r} has no values (all NaN/inf) in the current data")
    kind = "datetime" if ck == "datetime" else spark_kind(cur_types[name], cur_stats[name], counted)
    if kind not in ("num", "cat", "int"):
        problem = f"column {name!r} has type {kind} ({cur_types[name].simpleString()}): drift is not tested by the Spark engine"
        return ColumnCheck(name, problem, "num" if kind == "datetime" else "cat")
    return ColumnCheck(name, None, "cat" if kind == "cat" else "num")


def compute_drift_spark(
    reference: Any,
    current: Any,
    columns: Sequence[str],
    *,
    drift_share: float = 0.5,
    stattests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    exact_max_rows: int = EXACT_MAX_ROWS,
) -> DriftResult:
    """`compute_drift` for Spark DataFrames (see the module docstring). Numeric columns with more than
    `exact_max_rows` valid values in both frames together (and not tested with K-S) use the histogram."""
    from pyspark.sql import types as T  # noqa: N812

    if not 0 < drift_share <= 1:
        raise DriftInputError(f"drift_share must be in (0, 1], got {drift_share}")
    stattests, thresholds = dict(stattests or {}), dict(thresholds or {})
    for column, name in stattests.items():
        if name not in st.SPECS:
            raise DriftInputError(
                f"column {column!r}: stattest {name!r} is not available in the Spark engine (use {', '.join(st.SPECS)})"
            )
    names = list(columns) or list(reference.columns)
    ref_types, cur_types = types_of(reference), types_of(current)
    ref_rows, ref_stats = frame_stats(reference, [n for n in names if n in ref_types])
    cur_rows, cur_stats = frame_stats(current, [n for n in names if n in cur_types])
    for label, rows in (("reference", ref_rows), ("current", cur_rows)):
        if rows == 0:
            raise DriftInputError(f"the {label} window is empty (0 rows): no drift verdict is possible")
    for s in cur_stats.values():
        s["total"] = cur_rows
    limits = {  # strings: counted only while at most half the non-null values are distinct (else text)
        n: (cur_stats[n]["nn"] * 0.5 if isinstance(cur_types[n], T.StringType) else math.inf)
        for n in names
        if n in ref_types
        and n in cur_types
        and storage_kind(ref_types[n]) == storage_kind(cur_types[n]) in ("string", "bool")
        and ref_stats[n]["n"]
        and cur_stats[n]["n"]
    }
    ref_counts, cur_counts = value_counts(reference, current, list(limits), limits)
    checks = [check(n, ref_types, cur_types, ref_stats, cur_stats, n in cur_counts) for n in names]
    kinds = {c.column: c.kind for c in checks if c.problem is None}
    ints = {
        c
        for c in kinds
        if isinstance(cur_types[c], T.IntegralType) and spark_kind(cur_types[c], cur_stats[c], True) == "int"
    }
    for column, name in stattests.items():
        if column in kinds and column not in ints:  # an int column's type is known after `prepare`
            validate_stattest(column, kinds[column], name)
    numeric = NumericScores(reference, current, ref_stats, cur_stats, stattests, thresholds)
    numeric.prepare([c for c, k in kinds.items() if k == "num"], ints, exact_max_rows)
    for column in numeric.categorical_ints:
        kinds[column] = "cat"
    for column, name in stattests.items():
        if column in ints:
            validate_stattest(column, kinds[column], name)
    more_ref, more_cur = value_counts(reference, current, numeric.categorical_ints + numeric.counted())
    numeric.finish(more_ref, more_cur)
    ref_counts, cur_counts = ref_counts | more_ref, cur_counts | more_cur
    tested: list[ColumnDrift] = []
    for column, kind in kinds.items():
        if kind == "num":
            tested.append(numeric.results[column])
            continue
        n_ref, n_cur = int(ref_stats[column]["n"]), int(cur_stats[column]["n"])
        n_unique = len(set(ref_counts[column]) | set(cur_counts[column]))
        test = stattests.get(column) or st.default_stattest(kind, n_ref, n_unique)
        limit = thresholds.get(column, st.SPECS[test].default_threshold)
        score = counts_score(test, kind, ref_counts[column], cur_counts[column], n_ref, n_cur)
        tested.append(ColumnDrift(column, "cat", test, score, limit, st.is_drift(test, score, limit)))
    return assemble("spark", checks, tested, drift_share, ref_rows, cur_rows)


def counts_score(
    test: str, kind: str, ref: dict[str, int], cur: dict[str, int], n_ref: int, n_cur: int
) -> float:
    """chisquare, z or Jensen-Shannon on value counts (keys as strings; numbers sorted numerically)."""
    import numpy as np

    keys = sorted(set(ref) | set(cur), key=sort_key(kind))
    r = np.array([ref.get(k, 0) for k in keys], dtype=float)
    c = np.array([cur.get(k, 0) for k in keys], dtype=float)
    if test == "chisquare":
        return st.chisquare_pvalue(r, c)
    if test == "z":
        return st.z_pvalue(r, c, 0)
    return st.jensenshannon(r / n_ref, c / n_cur)


def sort_key(kind: str) -> Any:
    """Keys come back as strings: sort numbers numerically so the z-test's first key matches pandas."""

    def key(value: str) -> tuple[int, Any]:
        try:
            return (0, float(value))
        except ValueError:
            return (1, value)

    return key


class NumericScores:
    """Numeric columns' tests: exact ECDFs for small inputs and K-S, certified histogram bounds otherwise,
    with the exact ECDF job as the fallback for columns whose bounds straddle the threshold. Int columns
    without nulls go through the same jobs first: their distinct current values make them categorical
    (at most 10) or numeric. Two steps: `prepare` (the ECDF and histogram jobs, the types and stattests),
    then `finish` with the value counts `counted()` asked for."""

    def __init__(
        self,
        reference: Any,
        current: Any,
        ref_stats: Any,
        cur_stats: Any,
        stattests: Mapping[str, str],
        thresholds: Mapping[str, float],
    ) -> None:
        self.reference, self.current = reference, current
        self.ref_stats, self.cur_stats = ref_stats, cur_stats
        self.stattests, self.thresholds = stattests, thresholds
        self.results: dict[str, ColumnDrift] = {}
        self.categorical_ints: list[str] = []
        self.fallbacks: list[str] = []  # columns whose histogram bounds straddled the threshold
        self.ecdf: dict[str, dict[str, float]] = {}
        self.hists: dict[str, sh.Histogram] = {}
        self.tests: dict[str, tuple[str, bool]] = {}

    def sizes(self, column: str) -> tuple[int, int]:
        return int(self.ref_stats[column]["n"]), int(self.cur_stats[column]["n"])

    def norm(self, column: str) -> float:
        """max(reference sd, 0.001); an sd that overflowed is inf, as numpy's (the score is then 0)."""
        sd = float(self.ref_stats[column]["sd"] or 0.0)
        return max(sd, 0.001) if math.isfinite(sd) else math.inf

    def prepare(self, nums: Sequence[str], ints: set[str], exact_max_rows: int) -> None:
        def exact(c: str) -> bool:
            n_ref, n_cur = self.sizes(c)
            chosen = self.stattests.get(c)
            return (
                n_ref + n_cur <= exact_max_rows
                or chosen == "ks"
                or (chosen is None and n_ref <= st.SMALL_REFERENCE_ROWS)
            )

        exact_cols = [c for c in nums if exact(c)]
        binned = [c for c in nums if not exact(c)]
        self.ecdf = ecdf_stats(self.reference, self.current, exact_cols)
        specs = {c: self.binning(c) for c in binned}
        self.hists = sh.histograms(self.reference, self.current, binned, specs, valid)
        self.categorical_ints = [c for c in nums if c in ints and self.few_current_values(c)]
        for c in nums:
            if c not in self.categorical_ints:
                self.tests[c] = self.exact_test(c) if c in self.ecdf else self.binned_test(c)

    def few_current_values(self, column: str) -> bool:
        """At most 10 distinct current values (an int column is then categorical, as in Evidently)."""
        stats = self.cur_stats[column]
        if max(abs(stats["lo"]), abs(stats["hi"])) > 2**53:  # doubles would merge distinct ints
            count = distinct_count([self.current], column)
        elif column in self.ecdf:
            count = int(self.ecdf[column]["cur_distinct"])
        else:
            hist = self.hists[column]
            count, sure = sh.distinct_bounds(hist.cur_low, hist.cur_high)
            if not sure and count <= INTEGER_CARDINALITY_LIMIT:
                count = distinct_count([self.current], column)
        return count <= INTEGER_CARDINALITY_LIMIT

    def counted(self) -> list[str]:
        """Numeric columns tested on value counts (few values: chisquare, z or Jensen-Shannon)."""
        return [
            c for c, (test, binned) in self.tests.items() if test not in {"wasserstein", "ks"} and not binned
        ]

    def finish(
        self, ref_counts: Mapping[str, dict[str, int]], cur_counts: Mapping[str, dict[str, int]]
    ) -> None:
        for column, (test, binned_js) in self.tests.items():
            n_ref, n_cur = self.sizes(column)
            limit = self.thresholds.get(column, st.SPECS[test].default_threshold)
            if test == "ks":
                score = st.ks_pvalue_from_statistic(float(self.ecdf[column]["ks"]), n_ref, n_cur)
            elif test == "wasserstein" and column in self.ecdf:
                score = float(self.ecdf[column]["w"]) / self.norm(column)
            elif test == "wasserstein":
                score = self.bounded_wasserstein(column, self.hists[column], limit)
            elif binned_js:
                percents = sturges_percents(
                    self.reference, self.current, column, self.ref_stats, self.cur_stats
                )
                score = st.jensenshannon(*percents)
            else:
                score = counts_score(test, "num", ref_counts[column], cur_counts[column], n_ref, n_cur)
            self.results[column] = ColumnDrift(
                column, "num", test, score, limit, st.is_drift(test, score, limit)
            )
        exact_w = ecdf_stats(self.reference, self.current, self.fallbacks)
        for column in self.fallbacks:
            old = self.results[column]
            score = float(exact_w[column]["w"]) / self.norm(column)
            drift = st.is_drift(old.stattest, score, old.threshold)
            self.results[column] = ColumnDrift(column, "num", old.stattest, score, old.threshold, drift)

    def binning(self, column: str) -> sh.Binning:
        ref, cur = self.ref_stats[column], self.cur_stats[column]
        low, high = min(ref["lo"], cur["lo"]), max(ref["hi"], cur["hi"])
        return sh.binning(float(low), float(high), float(ref["mean"]), self.norm(column))

    def exact_test(self, column: str) -> tuple[str, bool]:
        """The stattest, and whether it is Jensen-Shannon on Sturges bins (numeric, > 20 reference values)."""
        ecdf = self.ecdf[column]
        n_ref, _ = self.sizes(column)
        test = self.stattests.get(column) or st.default_stattest("num", n_ref, int(ecdf["joint"]))
        return test, test == "jensenshannon" and ecdf["ref_distinct"] > st.JS_NUMERIC_BINNING_MIN_UNIQUE

    def binned_test(self, column: str) -> tuple[str, bool]:
        """As `exact_test`, with distinct counts from the histogram's spans (exact counts only when a span
        holding several values leaves the answer open)."""
        hist = self.hists[column]
        n_ref, _ = self.sizes(column)
        test = self.stattests.get(column)
        if test is None:
            joint, sure = sh.distinct_bounds(hist.low, hist.high)
            if not sure and joint <= 5:
                joint = distinct_count([self.reference, self.current], column, as_double=True)
            test = st.default_stattest("num", n_ref, joint)
        if test != "jensenshannon":
            return test, False
        ref_distinct, sure = sh.distinct_bounds(hist.ref_low, hist.ref_high)
        if not sure and ref_distinct <= st.JS_NUMERIC_BINNING_MIN_UNIQUE:
            ref_distinct = distinct_count([self.reference], column, as_double=True)
        return test, ref_distinct > st.JS_NUMERIC_BINNING_MIN_UNIQUE

    def bounded_wasserstein(self, column: str, hist: sh.Histogram, limit: float) -> float:
        """The normed score from the histogram bounds (their midpoint); straddling columns go to fallbacks."""
        lower, upper = sh.wasserstein_interval(hist)
        norm = self.norm(column)
        if sh.certain("wasserstein", lower / norm, upper / norm, limit) is None:
            log.info(
                "column %r: normed Wasserstein in [%.6g, %.6g] around threshold %g: exact ECDF",
                column,
                lower / norm,
                upper / norm,
                limit,
            )
            self.fallbacks.append(column)
        return (lower + upper) / 2 / norm
