"""The Spark jobs of the Spark engine: each returns small per-column summaries to the driver.

`frame_stats` (one aggregate pass per frame), `value_counts` (every valid value of many columns of both
frames, one grouped job), `ecdf_stats` (exact ECDFs, for small inputs and as the fallback of the
histogram bounds), `distinct_count` and `sturges_percents` (rare, one column each).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def col(name: str) -> Any:
    from pyspark.sql import functions as F  # noqa: N812

    return F.col(f"`{name}`")


def valid(name: str, data_type: Any) -> Any:
    """Evidently's cleaning as a Spark condition: not null, and for floats not NaN nor +-inf."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql import types as T  # noqa: N812

    condition = col(name).isNotNull()
    if isinstance(data_type, (T.FloatType, T.DoubleType)):
        condition = condition & ~F.isnan(col(name)) & (F.abs(col(name)) != float("inf"))
    return condition


def types_of(frame: Any) -> dict[str, Any]:
    return {f.name: f.dataType for f in frame.schema.fields}


def frame_stats(frame: Any, names: Sequence[str]) -> tuple[int, dict[str, dict[str, Any]]]:
    """One aggregate pass: the row count and per column valid count, non-null count and, for numbers, min,
    max, mean and population sd."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql import types as T  # noqa: N812

    types = types_of(frame)
    # cleaned values first (one projection), so each condition is computed once per value
    cleaned = frame.select(
        *[F.when(valid(n, types[n]), col(n)).alias(f"v{i}") for i, n in enumerate(names)],
        *[col(n).alias(f"raw{i}") for i, n in enumerate(names)],
    )
    exprs = [F.count(F.lit(1)).alias("rows")]
    for i, name in enumerate(names):
        value = F.col(f"v{i}")
        exprs += [F.count(value).alias(f"n{i}"), F.count(F.col(f"raw{i}")).alias(f"nn{i}")]
        if isinstance(types[name], T.NumericType):
            num = value.cast("double")
            exprs += [
                F.min(num).alias(f"lo{i}"),
                F.max(num).alias(f"hi{i}"),
                F.avg(num).alias(f"mean{i}"),
                F.stddev_pop(num).alias(f"sd{i}"),
            ]
    row = cleaned.agg(*exprs).collect()[0].asDict()
    keys = ("n", "nn", "lo", "hi", "mean", "sd")
    return int(row["rows"]), {name: {k: row.get(f"{k}{i}") for k in keys} for i, name in enumerate(names)}


def value_count_frame(reference: Any, current: Any, names: Sequence[str]) -> Any:
    """The grouped count of every valid value of each column in both frames (values as strings), keyed by
    (side, column number, value) and combined map-side, so only distinct keys are shuffled."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql import types as T  # noqa: N812

    def text(name: str, data_type: Any) -> Any:
        if isinstance(data_type, (T.FloatType, T.DoubleType)):
            return (col(name) + 0.0).cast("string")  # -0.0 + 0.0 is 0.0: one key, as in pandas
        return col(name).cast("string")

    def stack(frame: Any, side: int) -> Any:
        types = types_of(frame)
        cells = [
            F.struct(F.lit(i).alias("c"), F.when(valid(n, types[n]), text(n, types[n])).alias("v"))
            for i, n in enumerate(names)
        ]
        return frame.select(F.lit(side).alias("side"), F.explode(F.array(*cells)).alias("s"))

    return (
        stack(reference, 0)
        .unionByName(stack(current, 1))
        .select("side", "s.c", "s.v")
        .where(F.col("v").isNotNull())
        .groupBy("side", "c", "v")
        .count()
    )


def value_counts(
    reference: Any, current: Any, names: Sequence[str], limits: Mapping[str, float] | None = None
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Per column, the counts of its values in the reference and in the current frame (one job).

    A column with more distinct current values than its `limits` entry comes back in neither dict (its
    counts never leave Spark): that is how text columns are told from categorical ones.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F  # noqa: N812

    if not names:
        return {}, {}
    grouped = value_count_frame(reference, current, names)
    if limits:
        bound = F.array(*[F.lit(float(limits.get(n, math.inf))) for n in names])
        current_keys = F.sum(F.when(F.col("side") == 1, 1).otherwise(0)).over(Window.partitionBy("c"))
        grouped = (
            grouped.withColumn("keys", current_keys)
            .where(F.col("keys") <= F.element_at(bound, F.col("c") + 1))
            .drop("keys")
        )
    table = grouped.toArrow().to_pylist()
    kept = {row["c"] for row in table if row["side"] == 1}
    ref_out: dict[str, dict[str, int]] = {names[i]: {} for i in kept}
    cur_out: dict[str, dict[str, int]] = {names[i]: {} for i in kept}
    for row in table:
        (ref_out if row["side"] == 0 else cur_out)[names[row["c"]]][row["v"]] = int(row["count"])
    return ref_out, cur_out


def ecdf_stats(reference: Any, current: Any, names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per numeric column, from exact ECDFs over the distinct values of both frames:
    K-S statistic, the Wasserstein integral, joint, reference and current distinct counts."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F  # noqa: N812

    if not names:
        return {}

    def stack(frame: Any, side: int) -> Any:
        types = types_of(frame)
        cells = [
            F.struct(F.lit(n).alias("c"), F.when(valid(n, types[n]), col(n).cast("double")).alias("v"))
            for n in names
        ]
        return (
            frame.select(F.explode(F.array(*cells)).alias("s"))
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
            F.sum(F.when(F.col("k") > 0, 1).otherwise(0)).alias("cur_distinct"),
        )
        .collect()
    )
    keys = ("ks", "w", "joint", "ref_distinct", "cur_distinct")
    return {r["c"]: {k: r[k] for k in keys} for r in rows}


def distinct_count(frames: Sequence[Any], name: str, as_double: bool = False) -> int:
    """The exact number of distinct valid values of one column over `frames` (numbers as doubles)."""
    from functools import reduce

    from pyspark.sql import functions as F  # noqa: N812

    parts = []
    for frame in frames:
        value = col(name).cast("double") if as_double else col(name)
        parts.append(frame.where(valid(name, types_of(frame)[name])).select(value.alias("v")))
    union = reduce(lambda a, b: a.unionByName(b), parts)
    return int(union.agg(F.countDistinct("v")).collect()[0][0])


def sturges_percents(
    reference: Any, current: Any, column: str, ref_stats: Any, cur_stats: Any
) -> tuple[Any, Any]:
    """Sturges bins over both frames (numpy's edges and its last-bin-closed rule), counted in Spark."""
    import numpy as np
    from pyspark.sql import functions as F  # noqa: N812

    from drift import stattests_fast as st

    low = min(ref_stats[column]["lo"], cur_stats[column]["lo"])
    high = max(ref_stats[column]["hi"], cur_stats[column]["hi"])
    n_ref, n_cur = int(ref_stats[column]["n"]), int(cur_stats[column]["n"])
    edges = st.sturges_edges(low, high, n_ref + n_cur)
    out = []
    for frame, n in ((reference, n_ref), (current, n_cur)):
        v = col(column).cast("double")
        bucket = F.lit(len(edges) - 2)
        for i in range(len(edges) - 2, 0, -1):
            bucket = F.when(v < float(edges[i]), F.lit(i - 1)).otherwise(bucket)
        rows = (
            frame.where(valid(column, types_of(frame)[column])).groupBy(bucket.alias("b")).count().collect()
        )
        counts = np.zeros(len(edges) - 1)
        for row in rows:
            counts[int(row["b"])] = row["count"]
        out.append(counts / n)
    return out[0], out[1]
