"""The fast engine on Spark DataFrames: counts, ECDFs and moments computed in Spark, verdicts as pandas.

Three Spark jobs, whatever the number of columns: one aggregate pass per frame (valid counts, min, max,
population sd, approximate distinct counts), one grouped count of every categorical value, and one
windowed pass over the distinct numeric values (exact ECDFs: the K-S statistic and the Wasserstein
integral). Only per-column summaries reach the driver. Supported stattests: Evidently's defaults
(ks, chisquare, z, wasserstein, jensenshannon); text columns are reported as a problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift import stattests_fast as st
from drift.column_types import ColumnCheck, missing_problem
from drift.engine_fast import validate_stattest
from drift.engines import assemble
from drift.errors import DriftInputError
from drift.result import ColumnDrift, DriftResult

EXACT_DISTINCT_LIMIT = 1000  # above this approximate distinct count an int column is numeric for sure


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


def valid(name: str, data_type: Any) -> Any:
    """Evidently's cleaning as a Spark condition: not null, and for floats not NaN nor +-inf."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql import types as T  # noqa: N812

    column = F.col(f"`{name}`")
    condition = column.isNotNull()
    if isinstance(data_type, (T.FloatType, T.DoubleType)):
        condition = condition & ~F.isnan(column) & (F.abs(column) != float("inf"))
    return condition


def frame_stats(frame: Any, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """One aggregate pass: valid count, nulls, min, max, population sd, approximate distinct count."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql import types as T  # noqa: N812

    types = {f.name: f.dataType for f in frame.schema.fields}
    exprs = []
    for i, name in enumerate(names):
        ok = valid(name, types[name])
        col = F.when(ok, F.col(f"`{name}`"))
        exprs += [F.count(col).alias(f"n{i}"), F.count(F.col(f"`{name}`")).alias(f"nn{i}")]
        if isinstance(types[name], T.NumericType):
            num = col.cast("double")
            exprs += [
                F.min(num).alias(f"lo{i}"),
                F.max(num).alias(f"hi{i}"),
                F.stddev_pop(num).alias(f"sd{i}"),
            ]
        exprs.append(F.approx_count_distinct(col, 0.01).alias(f"d{i}"))
    row = frame.agg(*exprs).collect()[0].asDict() if exprs else {}
    out: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        out[name] = {k: row.get(f"{k}{i}") for k in ("n", "nn", "lo", "hi", "sd", "d")}
    return out


def value_counts(frame: Any, names: Sequence[str]) -> dict[str, dict[str, int]]:
    """Counts of every valid value of each column, in one grouped job (values as strings)."""
    from pyspark.sql import functions as F  # noqa: N812

    if not names:
        return {}
    types = {f.name: f.dataType for f in frame.schema.fields}
    stacked = F.explode(
        F.array(
            *[
                F.struct(
                    F.lit(n).alias("c"), F.when(valid(n, types[n]), F.col(f"`{n}`").cast("string")).alias("v")
                )
                for n in names
            ]
        )
    ).alias("s")
    rows = (
        frame.select(stacked)
        .select("s.c", "s.v")
        .where(F.col("v").isNotNull())
        .groupBy("c", "v")
        .count()
        .collect()
    )
    out: dict[str, dict[str, int]] = {n: {} for n in names}
    for row in rows:
        out[row["c"]][row["v"]] = int(row["count"])
    return out


def ecdf_stats(reference: Any, current: Any, names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per numeric column, from exact ECDFs over the distinct values of both frames:
    K-S statistic, the Wasserstein integral, joint and reference distinct counts."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F  # noqa: N812

    if not names:
        return {}

    def stack(frame: Any, side: int) -> Any:
        types = {f.name: f.dataType for f in frame.schema.fields}
        cols = [
            F.struct(
                F.lit(n).alias("c"), F.when(valid(n, types[n]), F.col(f"`{n}`").cast("double")).alias("v")
            )
            for n in names
        ]
        return (
            frame.select(F.explode(F.array(*cols)).alias("s"))
            .select("s.c", "s.v")
            .where(F.col("v").isNotNull())
            .withColumn("side", F.lit(side))
        )

    both = stack(reference, 0).unionByName(stack(current, 1))
    grouped = both.groupBy("c", "v").agg(
        F.sum(F.when(F.col("side") == 0, 1).otherwise(0)).alias("r"),
        F.sum(F.when(F.col("side") == 1, 1).otherwise(0)).alias("k"),
    )
    ordered = Window.partitionBy("c").orderBy("v").rowsBetween(Window.unboundedPreceding, Window.currentRow)
    whole = Window.partitionBy("c")
    cdf = (
        grouped.withColumn("fr", F.sum("r").over(ordered) / F.sum("r").over(whole))
        .withColumn("fk", F.sum("k").over(ordered) / F.sum("k").over(whole))
        .withColumn("dv", F.lead("v").over(Window.partitionBy("c").orderBy("v")) - F.col("v"))
        .withColumn("gap", F.abs(F.col("fr") - F.col("fk")))
    )
    rows = (
        cdf.groupBy("c")
        .agg(
            F.max("gap").alias("ks"),
            F.sum(F.coalesce(F.col("gap") * F.col("dv"), F.lit(0.0))).alias("w"),
            F.count("*").alias("joint"),
            F.sum(F.when(F.col("r") > 0, 1).otherwise(0)).alias("ref_distinct"),
        )
        .collect()
    )
    return {
        r["c"]: {"ks": r["ks"], "w": r["w"], "joint": r["joint"], "ref_distinct": r["ref_distinct"]}
        for r in rows
    }


def spark_kind(name: str, data_type: Any, stats: dict[str, Any], current: Any) -> str:
    """Evidently's type rules on the column as pandas would hold it (`toPandas`)."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql import types as T  # noqa: N812

    if isinstance(data_type, (T.FloatType, T.DoubleType, T.DecimalType)):
        return "num"
    if isinstance(data_type, T.BooleanType):
        return "cat"
    if isinstance(data_type, T.IntegralType):
        if stats["nn"] < stats["total"]:
            return "num"  # an int column with nulls is float64 in pandas
        if stats["d"] > EXACT_DISTINCT_LIMIT:
            return "num"
        exact = current.select(F.countDistinct(F.col(f"`{name}`"))).collect()[0][0]
        return "cat" if exact <= 10 else "num"
    if isinstance(data_type, T.StringType):
        exact = current.select(F.countDistinct(F.col(f"`{name}`"))).collect()[0][0]
        return "text" if exact > stats["nn"] * 0.5 else "cat"
    return "unknown"


def check(name: str, reference: Any, current: Any, ref_stats: Any, cur_stats: Any) -> ColumnCheck:
    ref_types = {f.name: f.dataType for f in reference.schema.fields}
    cur_types = {f.name: f.dataType for f in current.schema.fields}
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
    kind = "datetime" if ck == "datetime" else spark_kind(name, cur_types[name], cur_stats[name], current)
    if kind not in ("num", "cat"):
        problem = f"column {name!r} has type {kind} ({cur_types[name].simpleString()}): drift is not tested by the Spark engine"
        return ColumnCheck(name, problem, "num" if kind == "datetime" else "cat")
    return ColumnCheck(name, None, "num" if kind == "num" else "cat")


def compute_drift_spark(
    reference: Any,
    current: Any,
    columns: Sequence[str],
    *,
    drift_share: float = 0.5,
    stattests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> DriftResult:
    """`compute_drift` for Spark DataFrames (see the module docstring)."""
    import numpy as np

    if not 0 < drift_share <= 1:
        raise DriftInputError(f"drift_share must be in (0, 1], got {drift_share}")
    stattests, thresholds = dict(stattests or {}), dict(thresholds or {})
    for column, name in stattests.items():
        if name not in st.SPECS:
            raise DriftInputError(
                f"column {column!r}: stattest {name!r} is not available in the Spark engine (use {', '.join(st.SPECS)})"
            )
    names = list(columns) or list(reference.columns)
    ref_present = [n for n in names if n in reference.columns]
    cur_present = [n for n in names if n in current.columns]
    ref_stats, cur_stats = frame_stats(reference, ref_present), frame_stats(current, cur_present)
    ref_rows, cur_rows = reference.count(), current.count()
    for label, rows in (("reference", ref_rows), ("current", cur_rows)):
        if rows == 0:
            raise DriftInputError(f"the {label} window is empty (0 rows): no drift verdict is possible")
    for s in cur_stats.values():
        s["total"] = cur_rows
    checks = [check(n, reference, current, ref_stats, cur_stats) for n in names]
    kinds = {c.column: c.kind for c in checks if c.problem is None}
    for column, name in stattests.items():
        if column in kinds:
            validate_stattest(column, kinds[column], name)
    cats = [c for c, k in kinds.items() if k == "cat"]
    nums = [c for c, k in kinds.items() if k == "num"]
    ref_counts, cur_counts = value_counts(reference, cats), value_counts(current, cats)
    ecdf = ecdf_stats(reference, current, nums)
    small = [c for c in nums if ecdf[c]["joint"] <= 5 or (stattests.get(c) in ("chisquare", "z"))]
    ref_counts |= value_counts(reference, small)
    cur_counts |= value_counts(current, small)
    tested: list[ColumnDrift] = []
    for column, kind in kinds.items():
        n_ref, n_cur = int(ref_stats[column]["n"]), int(cur_stats[column]["n"])
        if kind == "cat":
            n_unique = len(set(ref_counts[column]) | set(cur_counts[column]))
        else:
            n_unique = int(ecdf[column]["joint"])
        test = stattests.get(column) or st.default_stattest(kind, n_ref, n_unique)
        limit = thresholds.get(column, st.SPECS[test].default_threshold)
        if test == "ks":
            score = st.ks_pvalue_from_statistic(float(ecdf[column]["ks"]), n_ref, n_cur)
        elif test == "wasserstein":
            norm = max(float(ref_stats[column]["sd"] or 0.0), 0.001)
            score = float(ecdf[column]["w"]) / norm
        elif (
            test == "jensenshannon"
            and kind == "num"
            and ecdf[column]["ref_distinct"] > st.JS_NUMERIC_BINNING_MIN_UNIQUE
        ):
            score = st.jensenshannon(*histogram_percents(reference, current, column, ref_stats, cur_stats))
        else:
            keys = sorted(set(ref_counts[column]) | set(cur_counts[column]), key=sort_key(kind))
            r = np.array([ref_counts[column].get(k, 0) for k in keys], dtype=float)
            c = np.array([cur_counts[column].get(k, 0) for k in keys], dtype=float)
            if test == "chisquare":
                score = st.chisquare_pvalue(r, c)
            elif test == "z":
                score = st.z_pvalue(r, c, 0)
            else:
                score = st.jensenshannon(r / n_ref, c / n_cur)
        tested.append(
            ColumnDrift(
                column, "num" if kind == "num" else "cat", test, score, limit, st.is_drift(test, score, limit)
            )
        )
    result = assemble("spark", checks, tested, drift_share, ref_rows, cur_rows)
    return result


def sort_key(kind: str) -> Any:
    """Keys come back as strings: sort numbers numerically so the z-test's first key matches pandas."""

    def key(value: str) -> tuple[int, Any]:
        try:
            return (0, float(value))
        except ValueError:
            return (1, value)

    return key


def histogram_percents(
    reference: Any, current: Any, column: str, ref_stats: Any, cur_stats: Any
) -> tuple[Any, Any]:
    """Sturges bins over both frames (numpy's edges and its last-bin-closed rule), counted in Spark."""
    import numpy as np
    from pyspark.sql import functions as F  # noqa: N812

    low = min(ref_stats[column]["lo"], cur_stats[column]["lo"])
    high = max(ref_stats[column]["hi"], cur_stats[column]["hi"])
    n_ref, n_cur = int(ref_stats[column]["n"]), int(cur_stats[column]["n"])
    edges = st.sturges_edges(low, high, n_ref + n_cur)
    out = []
    for frame, n in ((reference, n_ref), (current, n_cur)):
        types = {f.name: f.dataType for f in frame.schema.fields}
        v = F.col(f"`{column}`").cast("double")
        bucket = F.lit(len(edges) - 2)
        for i in range(len(edges) - 2, 0, -1):
            bucket = F.when(v < float(edges[i]), F.lit(i - 1)).otherwise(bucket)
        rows = frame.where(valid(column, types[column])).groupBy(bucket.alias("b")).count().collect()
        counts = np.zeros(len(edges) - 1)
        for row in rows:
            counts[int(row["b"])] = row["count"]
        out.append(counts / n)
    return out[0], out[1]
