"""Certified Wasserstein bounds for the Spark engine: one fine histogram job, exact bounds on the driver.

Each valid value v of a numeric column is binned on a signed-log scale around the reference mean c:
t = sign(z)·log1p(|z|) with z = v/s - c/s (s the score's norm, max(reference sd, 0.001)), cut into
`BINS` equal steps between the joint min and max. Bins are narrow (≈ s·step) near the centre and grow
with |z| in the tails, so one outlier 10⁶ sd away costs resolution only where it lies. Spark returns, per
(column, side, bin), the count and the min and max value, all columns in one grouped job.

With per-bin counts and value spans the integral ∫|F_ref - F_cur| is known exactly between spans (both
ECDFs are flat there) and bounded inside each span by its width times the range |F_ref - F_cur| can take
there; `wasserstein_interval` returns that interval [lower, upper], which holds whatever the rounding of
the binning (overlapping spans are merged first). A span holding one distinct value has width 0, so
columns with few distinct values get the exact integral.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

BINS = 1 << 14  # per column; only non-empty bins come back (at most 2 x BINS rows per column)
SIDE_BITS = 17  # key = ((column · 2 + side) << SIDE_BITS) | bin
VERDICT_REL_MARGIN = 1e-6  # sd and sums computed in another order than numpy's: keep clear of the threshold


@dataclass(frozen=True)
class Binning:
    """The signed-log binning of one column (see the module docstring)."""

    scale: float
    center: float
    t_low: float
    step: float

    def t(self, values: Any) -> Any:
        """The transform on the driver (numpy), as `bin_expr` computes it in Spark."""
        import numpy as np

        z = np.asarray(values, dtype=float) / self.scale - self.center / self.scale
        return np.sign(z) * np.log1p(np.abs(z))


def binning(low: float, high: float, mean: float, norm: float) -> Binning:
    """The binning for joint values in [low, high]; `norm` the score's norm (>= 0.001)."""
    import numpy as np

    # v/s and c/s stay below 1e300 in magnitude, so z never overflows; any finite centre would do
    scale = max(norm, abs(low) / 1e300, abs(high) / 1e300)
    mean = mean if np.isfinite(mean) else 0.0
    probe = Binning(scale, mean, 0.0, 1.0)
    t_low, t_high = (float(x) for x in probe.t([low, high]))
    step = (t_high - t_low) / BINS
    if not (np.isfinite(step) and step > 0):
        step = 1.0
    return Binning(scale, mean, t_low, step)


def bin_expr(value: Any, spec: Binning) -> Any:
    """The bin index of `value` (a double column) as a Spark expression, clamped to [0, BINS - 1]."""
    from pyspark.sql import functions as F  # noqa: N812

    z = value / F.lit(spec.scale) - F.lit(spec.center / spec.scale)
    t = F.signum(z) * F.log1p(F.abs(z))
    raw = F.floor((t - F.lit(spec.t_low)) / F.lit(spec.step)).cast("double")
    return F.least(F.greatest(raw, F.lit(0.0)), F.lit(float(BINS - 1))).cast("long")


@dataclass(frozen=True)
class Histogram:
    """One column's non-empty bins: per bin, counts on each side and the joint min and max value."""

    ref_counts: FloatArray
    cur_counts: FloatArray
    low: FloatArray
    high: FloatArray
    ref_low: FloatArray  # the reference side alone (NaN where the bin has no reference value)
    ref_high: FloatArray
    cur_low: FloatArray  # the current side alone (NaN where the bin has no current value)
    cur_high: FloatArray


def histogram_frame(
    reference: Any,
    current: Any,
    names: Sequence[str],
    specs: Mapping[str, Binning],
    valid: Callable[[str, Any], Any],
) -> Any:
    """Count, min and max per (column, side, bin) of both frames, grouped on one integer key (combined
    map-side); `valid(name, data_type)` is the Spark condition of a usable value."""
    from pyspark.sql import functions as F  # noqa: N812

    def stack(frame: Any, side: int) -> Any:
        # one projection per step, so each expression is computed once and the generated code stays small
        types = {f.name: f.dataType for f in frame.schema.fields}
        values = frame.select(
            *[
                F.when(valid(n, types[n]), F.col(f"`{n}`").cast("double")).alias(f"v{i}")
                for i, n in enumerate(names)
            ]
        )
        keys = [
            (F.lit((i * 2 + side) << SIDE_BITS).cast("long") + bin_expr(F.col(f"v{i}"), specs[n])).alias(
                f"k{i}"
            )
            for i, n in enumerate(names)
        ]
        cells = [F.struct(F.col(f"k{i}").alias("k"), F.col(f"v{i}").alias("v")) for i in range(len(names))]
        binned = values.select(*values.columns, *keys)
        return binned.select(F.explode(F.array(*cells)).alias("s")).select("s.k", "s.v")

    return (
        stack(reference, 0)
        .unionByName(stack(current, 1))
        .where(F.col("v").isNotNull())
        .groupBy("k")
        .agg(F.count("*").alias("n"), F.min("v").alias("lo"), F.max("v").alias("hi"))
    )


def histograms(
    reference: Any,
    current: Any,
    names: Sequence[str],
    specs: Mapping[str, Binning],
    valid: Callable[[str, Any], Any],
) -> dict[str, Histogram]:
    """Every column's `Histogram` from one `histogram_frame` job."""
    import numpy as np

    if not names:
        return {}
    rows = histogram_frame(reference, current, names, specs, valid).toArrow()
    key = rows.column("k").to_numpy()
    count = rows.column("n").to_numpy().astype(float)
    low, high = rows.column("lo").to_numpy(), rows.column("hi").to_numpy()
    column, side, bins = (key >> SIDE_BITS) // 2, (key >> SIDE_BITS) % 2, key & ((1 << SIDE_BITS) - 1)
    out: dict[str, Histogram] = {}
    for i, name in enumerate(names):
        mine = column == i
        ids, where = np.unique(bins[mine], return_inverse=True)
        s, c, lo, hi = side[mine], count[mine], low[mine], high[mine]
        sides = []
        for mine_side in (s == 0, s == 1):
            counts, side_low, side_high = (
                np.zeros(ids.size),
                np.full(ids.size, np.nan),
                np.full(ids.size, np.nan),
            )
            counts[where[mine_side]] = c[mine_side]
            side_low[where[mine_side]], side_high[where[mine_side]] = lo[mine_side], hi[mine_side]
            sides.append((counts, side_low, side_high))
        (ref_counts, ref_low, ref_high), (cur_counts, cur_low, cur_high) = sides
        out[name] = Histogram(
            ref_counts,
            cur_counts,
            np.fmin(ref_low, cur_low),
            np.fmax(ref_high, cur_high),
            ref_low,
            ref_high,
            cur_low,
            cur_high,
        )
    return out


def merged_spans(low: FloatArray, high: FloatArray, *counts: FloatArray) -> tuple[FloatArray, ...]:
    """Spans sorted by low end, overlapping ones merged (counts summed): disjoint, ordered intervals."""
    import numpy as np

    order = np.argsort(low, kind="stable")
    low, high = low[order], high[order]
    reach = np.maximum.accumulate(high)
    starts = np.flatnonzero(np.concatenate(([True], low[1:] > reach[:-1])))
    merged = [low[starts], np.maximum.reduceat(high, starts)]
    return tuple(merged + [np.add.reduceat(c[order], starts) for c in counts])


def wasserstein_interval(hist: Histogram) -> tuple[float, float]:
    """[lower, upper] holding the exact W1 = ∫|F_ref - F_cur| of the binned samples.

    Between spans both ECDFs are flat: exact. Inside a span [l, u] an ECDF moves from its count below l to
    its count through u, so |F_ref - F_cur| lies between max(0, p0 - q1, q0 - p1) and max(p1 - q0, q1 - p0).
    """
    import numpy as np

    low, high, a, b = merged_spans(hist.low, hist.high, hist.ref_counts, hist.cur_counts)
    ca, cb = np.cumsum(a), np.cumsum(b)
    p1, q1 = ca / ca[-1], cb / cb[-1]
    p0, q0 = (ca - a) / ca[-1], (cb - b) / cb[-1]
    between = float(np.dot(np.abs(p1[:-1] - q1[:-1]), low[1:] - high[:-1]))
    width = high - low
    inside_upper = np.maximum(p1 - q0, q1 - p0)
    inside_lower = np.maximum(0.0, np.maximum(p0 - q1, q0 - p1))
    return between + float(np.dot(width, inside_lower)), between + float(np.dot(width, inside_upper))


def distinct_bounds(low: FloatArray, high: FloatArray) -> tuple[int, bool]:
    """A lower bound on the number of distinct values in the spans, and whether it is exact.

    Merged spans are disjoint: each holds one value (width 0) or at least two.
    """
    import numpy as np

    present = ~np.isnan(low)
    low, high = merged_spans(low[present], high[present])[:2]
    spread = int(np.count_nonzero(high > low))
    return low.size + spread, spread == 0


def certain(test: str, lower: float, upper: float, threshold: float) -> bool | None:
    """The verdict if every score in [lower, upper] (widened by the margin) gives the same, else None."""
    from drift.stattests_fast import is_drift

    low = is_drift(test, lower * (1 - VERDICT_REL_MARGIN), threshold)
    high = is_drift(test, upper * (1 + VERDICT_REL_MARGIN), threshold)
    return low if low == high else None
