"""Evidently's default stattests on plain arrays and counts, without Evidently's per-column overhead.

Each function reproduces one `evidently.legacy.calculations.stattests` function (named in its docstring)
on already-cleaned data (inf → NaN, NaN dropped), so the score is the same number. Counts-based forms
are shared with the Spark engine, which computes the counts in Spark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

SMALL_REFERENCE_ROWS = 1000  # at or below this many reference values Evidently uses p-value tests
JS_NUMERIC_BINNING_MIN_UNIQUE = (
    20  # get_binned_data: a numeric column with more unique values is histogrammed
)
JS_BINS = "sturges"


@dataclass(frozen=True)
class StatTestSpec:
    """A stattest's name, default threshold and direction (p-values drift below, distances at or above)."""

    name: str
    default_threshold: float
    p_value: bool
    strict: bool  # p < threshold (chisquare, z) rather than p <= threshold (ks)


SPECS: dict[str, StatTestSpec] = {
    "ks": StatTestSpec("ks", 0.05, True, False),
    "chisquare": StatTestSpec("chisquare", 0.05, True, True),
    "z": StatTestSpec("z", 0.05, True, True),
    "wasserstein": StatTestSpec("wasserstein", 0.1, False, False),
    "jensenshannon": StatTestSpec("jensenshannon", 0.1, False, False),
}


def default_stattest(kind: str, reference_rows: int, n_unique: int) -> str:
    """`registry._get_default_stattest` for num/cat: by cleaned reference size and joint unique count."""
    if reference_rows <= SMALL_REFERENCE_ROWS:
        if kind == "num" and n_unique > 5:
            return "ks"
        return "chisquare" if n_unique > 2 else "z"
    if kind == "num":
        return "jensenshannon" if n_unique <= 5 else "wasserstein"
    return "jensenshannon"


def is_drift(name: str, score: float, threshold: float) -> bool:
    spec = SPECS[name]
    if spec.p_value:
        return bool(score < threshold) if spec.strict else bool(score <= threshold)
    return bool(score >= threshold)


# --- numeric, on arrays --------------------------------------------------------------------------------


def ks_pvalue(reference: FloatArray, current: FloatArray) -> float:
    """`_ks_stat_test`: scipy's two-sided two-sample K-S p-value."""
    from scipy.stats import ks_2samp

    return float(ks_2samp(reference, current)[1])


def wasserstein_norm(reference: FloatArray, current: FloatArray) -> float:
    """`_wasserstein_distance_norm`: W1 divided by max(population std of reference, 0.001)."""
    import numpy as np

    norm = max(float(np.std(reference)), 0.001)
    return wasserstein_1d(reference, current) / norm


WASSERSTEIN_CHUNK = 1 << 20


def wasserstein_1d(u_values: FloatArray, v_values: FloatArray) -> float:
    """scipy's `wasserstein_distance` (its `_cdf_distance`, p=1), with two sorts instead of two argsorts,
    a run-aware merge, and the CDF differences summed in chunks so the temporaries stay bounded."""
    import numpy as np

    u = np.sort(u_values)
    v = np.sort(v_values)
    all_values = np.concatenate((u, v))
    all_values.sort(kind="stable")  # timsort: two sorted runs merge in linear time
    total = 0.0
    for start in range(0, all_values.size - 1, WASSERSTEIN_CHUNK):
        points = all_values[start : start + WASSERSTEIN_CHUNK + 1]
        deltas = np.diff(points)
        u_cdf = u.searchsorted(points[:-1], "right") / u.size
        v_cdf = v.searchsorted(points[:-1], "right") / v.size
        total += float(np.dot(np.abs(u_cdf - v_cdf), deltas))
    return total


def sturges_edges(low: float, high: float, size: int) -> FloatArray:
    """`np.histogram_bin_edges(x, "sturges")` from x's min, max and size alone (what Spark can compute)."""
    import numpy as np

    first, last = float(low), float(high)
    if first == last:
        first, last = first - 0.5, last + 0.5
    width = (float(high) - float(low)) / (np.log2(size) + 1.0)
    n_bins = int(np.ceil((last - first) / width)) if width else 1
    return np.linspace(first, last, n_bins + 1, endpoint=True)


def histogram_percents(reference: FloatArray, current: FloatArray) -> tuple[FloatArray, FloatArray]:
    """get_binned_data's numeric branch: Sturges bins over both samples, share of each sample per bin."""
    import numpy as np

    low = min(reference.min(), current.min())
    high = max(reference.max(), current.max())
    edges = sturges_edges(low, high, reference.size + current.size)
    ref = np.histogram(reference, edges)[0] / reference.size
    cur = np.histogram(current, edges)[0] / current.size
    return ref, cur


# --- counts (categorical, or numeric with few values) ---------------------------------------------------


def chisquare_pvalue(ref_counts: FloatArray, cur_counts: FloatArray) -> float:
    """`_chi_stat_test`: chi² of current counts against reference counts scaled to the current size."""
    import numpy as np
    from scipy.stats import chisquare

    k_norm = cur_counts.sum() / ref_counts.sum()
    with np.errstate(
        divide="ignore", invalid="ignore"
    ):  # a new category: expected 0, p-value 0, as Evidently
        return float(chisquare(cur_counts, ref_counts * k_norm)[1])


def z_pvalue(ref_counts: FloatArray, cur_counts: FloatArray, first_key: int) -> float:
    """`_z_stat_test`: two-proportion z-test of "not the smallest key" (keys sorted; index `first_key`)."""
    import numpy as np
    from scipy.stats import norm

    ref_present, cur_present = np.flatnonzero(ref_counts), np.flatnonzero(cur_counts)
    if len(ref_present) == 1 and len(cur_present) == 1 and ref_present[0] == cur_present[0]:
        return 1.0
    n1, n2 = float(ref_counts.sum()), float(cur_counts.sum())
    p1 = float(n1 - ref_counts[first_key]) / n1
    p2 = float(n2 - cur_counts[first_key]) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - norm.cdf(np.abs(z))))


def jensenshannon(ref_percents: FloatArray, cur_percents: FloatArray) -> float:
    """`_jensenshannon`: scipy's Jensen-Shannon distance (natural log) of the two distributions."""
    from scipy.spatial import distance

    return float(distance.jensenshannon(ref_percents, cur_percents))


def ks_pvalue_from_statistic(d: float, n1: int, n2: int) -> float:
    """The p-value `ks_2samp(method="auto", two-sided)` gives for statistic `d` (for the Spark engine)."""
    import numpy as np
    from scipy.stats import distributions

    g = math.gcd(n1, n2)
    prob = -np.inf
    if max(n1, n2) <= 10000:
        from scipy.stats._stats_py import _attempt_exact_2kssamp

        success, d, prob = _attempt_exact_2kssamp(n1, n2, g, d, "two-sided")
        if not success:
            prob = -np.inf
    if prob == -np.inf:
        m, n = sorted([float(n1), float(n2)], reverse=True)
        en = m * n / (m + n)
        prob = distributions.kstwo.sf(d, np.round(en))
    return float(np.clip(prob, 0, 1))
